import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, InvalidParameterError, TablePort } from '../../../src/sdk/index.js';
import { readBody, sendJson, stubPerTest } from './stub-server.js';

describe('SDK: locations and COPY INTO', () => {
  const serve = stubPerTest();

  it('export() sends destination and connection; importFrom() sends a JSON body', async () => {
    const bodies: string[] = [];
    const stub = await serve(async (req, res) => {
      bodies.push(await readBody(req));
      sendJson(res, 201, { status: 'ok', job_id: 'j1' });
    });
    const tp = new TablePort({ baseUrl: stub.baseUrl, token: 't' });
    await tp.table(7).export({ fileType: 'csv', destination: 's3://b/p/', connection: { region: 'eu-west-1' } });
    await tp.table(7).importFrom('gcs://b/in/', { connection: { disable_oauth: true }, fileType: 'json' });
    assert.equal(stub.requests[0]?.url, '/oserve/v1/table/7/export/');
    assert.deepEqual(JSON.parse(bodies[0] ?? ''), {
      file_type: 'csv',
      mode: 'all',
      destination: 's3://b/p/',
      connection: { region: 'eu-west-1' },
    });
    assert.equal(stub.requests[1]?.url, '/oserve/v1/table/7/import/');
    assert.match(String(stub.requests[1]?.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(bodies[1] ?? ''), { source: 'gcs://b/in/', connection: { disable_oauth: true }, file_type: 'json' });
  });

  it('sql() posts the statement and returns the job; a parse error is an InvalidParameterError', async () => {
    const bodies: string[] = [];
    const stub = await serve(async (req, res, n) => {
      bodies.push(await readBody(req));
      return n === 1
        ? sendJson(res, 201, { status: 'ok', job_id: 'j9' })
        : sendJson(res, 400, {
            error_code: 'invalid_parameter',
            error_msg: 'Expected FROM (line 1, column 20).',
            parameter: 'sql',
            details: { line: 1, column: 20 },
          });
    });
    const tp = new TablePort({ baseUrl: stub.baseUrl, token: 't' });
    const job = await tp.sql("COPY INTO air FROM 's3://b/air/'");
    assert.equal(job.id, 'j9');
    assert.equal(stub.requests[0]?.url, '/oserve/v1/sql');
    assert.deepEqual(JSON.parse(bodies[0] ?? ''), { sql: "COPY INTO air FROM 's3://b/air/'" });
    const err = await tp.sql('COPY INTO x y').catch((e: unknown) => e);
    assert.ok(err instanceof InvalidParameterError);
    assert.match(err.message, /line 1, column 20/);
    await assert.rejects(tp.sql('  '), InvalidArgumentError);
    await assert.rejects(tp.table(1).importFrom(''), InvalidArgumentError);
  });
});
