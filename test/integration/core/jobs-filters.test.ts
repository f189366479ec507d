/**
 * `GET /oserve/v1/jobs/` narrowed by status, type and table, as a script, the SDK and the CLI ask
 * for it: the filters keep exactly the jobs they name, stay in the page links, and a bad value is
 * `400 invalid_parameter` naming the parameter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TablePort, type Job } from '../../../src/sdk/index.js';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { runTableport } from '../../helpers/cli.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('jobs filtered by status, type and table', () => {
  let server: TestServer;
  let token: string;
  let tables: number[];
  const ids: Record<string, string> = {};

  before(async () => {
    server = await startTestServer();
    ({ token } = await server.createUser());
    const c = client(server, token);
    tables = [await createTable(server, token, 'filter_a'), await createTable(server, token, 'filter_b')];
    await c.post(`/oserve/v1/table/${tables[0]}/record/`).send([{ title: 'a' }]);
    // An export of table a that succeeds, and an import into table b that fails (a bad value).
    const exp = await c.post(`/oserve/v1/table/${tables[0]}/export/`).send({ file_type: 'csv', mode: 'all' });
    const imp = await c.post(`/oserve/v1/table/${tables[1]}/import/`).attach('file', Buffer.from('title,qty\nx,not a number\n'), 'bad.csv');
    ids.export = exp.body.job_id as string;
    ids.import = imp.body.job_id as string;
    assert.equal((await waitForJob(server, token, ids.export)).status, 'succeeded');
    assert.equal((await waitForJob(server, token, ids.import)).status, 'failed');
  });
  after(() => server.close());

  const idsOf = (jobs: Job[]) => jobs.map((j) => j.id).sort();

  test('the API keeps exactly the jobs named, and keeps the filter in its page links', async () => {
    const c = client(server, token);
    const failed = await c.get('/oserve/v1/jobs/?status=failed');
    assert.deepEqual(idsOf(failed.body.objects), [ids.import]);
    const both = await c.get('/oserve/v1/jobs/?status=succeeded,failed&type=export');
    assert.deepEqual(idsOf(both.body.objects), [ids.export]);
    const ofB = await c.get(`/oserve/v1/jobs/?table_id=${tables[1]}&limit=1`);
    assert.deepEqual(idsOf(ofB.body.objects), [ids.import]);
    const paged = await c.get('/oserve/v1/jobs/?status=succeeded,failed&limit=1');
    assert.match(String(paged.body.meta.next), /status=succeeded%2Cfailed|status=succeeded,failed/);
    const bad = await c.get('/oserve/v1/jobs/?status=done');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'invalid_parameter');
    assert.match(JSON.stringify(bad.body), /status/);
  });

  test('the SDK and the CLI pass the same filters', async () => {
    const tp = new TablePort({ baseUrl: server.baseUrl, token });
    assert.deepEqual(idsOf((await tp.listJobs({ status: 'failed' })).objects), [ids.import]);
    const all: Job[] = [];
    for await (const j of tp.jobs({ type: ['export'], tableId: tables[0] })) all.push(j);
    assert.deepEqual(idsOf(all), [ids.export]);

    const env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token };
    const run = await runTableport(['jobs', 'list', '--status', 'failed,cancelled', '--type', 'import', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(idsOf(JSON.parse(run.stdout) as Job[]), [ids.import]);
  });
});
