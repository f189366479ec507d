import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../../src/types/api.js';
import { JobFailedError, JobTimeoutError, TablePort, TablePortError } from '../../../src/sdk/index.js';
import { nextPollInterval } from '../../../src/sdk/job.js';
import { sendJson, stubPerTest } from './stub-server.js';
import { defined } from '../../helpers/defined.js';

function job(over: Partial<Job>): Job {
  return {
    id: 'j1',
    type: 'export',
    table_id: 1,
    status: 'queued',
    progress: 0,
    rows: 0,
    file_url: null,
    file_type: 'csv',
    file_name: 'orders.csv',
    errors: [],
    created_at: 1,
    finished_at: null,
    ...over,
  };
}

describe('JobHandle', () => {
  const serve = stubPerTest();

  it('wait() polls until success and reports each new progress once', async () => {
    const states = [
      job({}),
      job({ status: 'running', progress: 50 }),
      job({ status: 'running', progress: 50 }),
      job({ status: 'succeeded', progress: 100, rows: 9 }),
    ];
    const stub = await serve((_req, res, n) => sendJson(res, 200, states[Math.min(n - 1, states.length - 1)]));
    const seen: string[] = [];
    const done = await new TablePort({ baseUrl: stub.baseUrl, token: 't' })
      .job('j1')
      .wait({ intervalMs: 5, onProgress: (j) => seen.push(`${j.status}:${j.progress}`) });
    assert.equal(done.rows, 9);
    assert.deepEqual(seen, ['queued:0', 'running:50', 'succeeded:100']);
    assert.equal(stub.requests.length, 4);
    assert.equal(stub.requests[0]?.url, '/oserve/v1/jobs/j1');
  });

  it('wait() backs off: pauses grow half again each time, up to maxIntervalMs', async () => {
    const pauses = [40];
    while (pauses.length < 5) pauses.push(nextPollInterval(defined(pauses.at(-1), 'last pause'), 90));
    assert.deepEqual(pauses, [40, 60, 90, 90, 90]);
    // and wait() polls until the job ends
    let polls = 0;
    const stub = await serve((_req, res) => {
      polls++;
      sendJson(res, 200, job({ status: polls >= 3 ? 'succeeded' : 'running' }));
    });
    const done = await new TablePort({ baseUrl: stub.baseUrl, token: 't' }).job('j1').wait({ intervalMs: 5, maxIntervalMs: 10 });
    assert.equal(done.status, 'succeeded');
    assert.equal(polls, 3);
  });

  it('wait() rejects with the job errors when the job failed', async () => {
    const failed = job({
      type: 'import',
      status: 'failed',
      errors: [{ error_code: 'invalid_row', error_msg: 'age is not an integer', line: 3, field: 'age' }],
    });
    const stub = await serve((_req, res) => sendJson(res, 200, failed));
    const err = await new TablePort({ baseUrl: stub.baseUrl, token: 't' })
      .job('j1')
      .wait()
      .catch((e: unknown) => e);
    assert.ok(err instanceof JobFailedError);
    assert.equal(err.errorCode, 'job_failed');
    assert.deepEqual(err.errors, failed.errors);
    assert.match(err.message, /line 3/);
  });

  it('wait() gives up after timeoutMs with JobTimeoutError', async () => {
    const stub = await serve((_req, res) => sendJson(res, 200, job({ status: 'running', progress: 10 })));
    const err = await new TablePort({ baseUrl: stub.baseUrl, token: 't' })
      .job('j1')
      .wait({ timeoutMs: 150, intervalMs: 20 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof JobTimeoutError);
    assert.equal(err.job.progress, 10);
  });

  it('download() streams the signed link to a file, without the token', async () => {
    const stub = await serve((req, res) => {
      if (req.url?.startsWith('/oserve/v1/jobs/')) {
        sendJson(res, 200, job({ status: 'succeeded', progress: 100, file_url: `http://${req.headers.host}/files/x?sig=1` }));
      } else {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end('id,created_at\nr1,5\n');
      }
    });
    const dir = mkdtempSync(join(tmpdir(), 'tp-sdk-'));
    const out = await new TablePort({ baseUrl: stub.baseUrl, token: 'sekret' }).job('j1').download(dir);
    assert.equal(out.path, join(dir, 'orders.csv'));
    assert.equal(await readFile(out.path, 'utf8'), 'id,created_at\nr1,5\n');
    assert.equal(out.bytes, 19);
    const fileReq = defined(
      stub.requests.find((r) => r.url.startsWith('/files/')),
      'the file request',
    );
    assert.equal(fileReq.headers.authorization, undefined);
  });

  it('download() refuses a job that has not finished', async () => {
    const stub = await serve((_req, res) => sendJson(res, 200, job({ status: 'running' })));
    const err = await new TablePort({ baseUrl: stub.baseUrl, token: 't' })
      .job('j1')
      .download('/tmp/x.csv')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TablePortError);
    assert.equal(err.errorCode, 'job_not_finished');
  });
});
