/**
 * What a user reads when an import goes wrong, in the job, the mail and the CLI: every error says
 * once what is wrong and where, the counts are the problems', a header that does not match lists
 * the table's fields (for an upload and a file:// import alike), and the CLI's exit codes are the
 * README's (2 for a bad value).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { client, waitForJob } from '../../helpers/api.js';
import { runTableport } from '../../helpers/cli.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { uniqueName } from './helpers.js';

const SCHEMA = {
  fields: [
    { name: 'title', type: 'string' },
    { name: 'score', type: 'number' },
  ],
};

describe('import messages', () => {
  let server: TestServer;
  let token: string;
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runTableport(args, env);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-messages-'));
    await mkdir(join(dir, 'in'));
    server = await startTestServer({ env: { IMPORT_DIR: join(dir, 'in') } });
    ({ token } = await server.createUser());
    env = { TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token };
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function table(): Promise<{ id: number; name: string }> {
    const name = uniqueName('msg');
    const res = await client(server, token).post('/oserve/v1/table/').send({ name, schema: SCHEMA });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.id as number, name };
  }

  test('bad rows: said once in the job, the CLI and the mail, and counted without the summary line', async () => {
    const t = await table();
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'title,score\na,x\nb,y\nc,1\n');
    const run = await cli('import', t.name, file, '--wait');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^ {2}line 2, score: must be a number, got "x" \(invalid_row\)$/m);
    assert.match(run.stderr, /^ {2}line 3, score: must be a number, got "y" \(invalid_row\)$/m);
    assert.doesNotMatch(run.stderr, /line 2, score: line 2/);

    const mail = await server.smtp.waitForMessage((m) => m.subject.includes(t.name) && m.text.includes('failed'));
    assert.match(mail.text, /The 2 problems:/);
    assert.match(mail.text, /- line 2, score: must be a number, got "x"\n/);
    assert.doesNotMatch(mail.text, /line 2, score: line 2|field score/);
    assert.doesNotMatch(mail.text, /- 2 rows of the file are not valid/);
  });

  test('a header that names no field lists the fields, the same for an upload and a file:// import', async () => {
    const expected =
      'The CSV header names a column that is not a field of the table: "titel". ' +
      "The table's fields are title, score (and the built-in id, created_at, updated_at, created_by); rename it in the file to match.";
    const body = 'titel,score\na,1\n';
    const upload = await client(server, token)
      .post(`/oserve/v1/table/${(await table()).id}/import/`)
      .attach('file', Buffer.from(body), 'h.csv');
    assert.equal(upload.status, 400);
    assert.equal(upload.body.error_code, 'invalid_file');
    assert.equal(upload.body.error_msg, expected);

    await writeFile(join(dir, 'in', 'h.csv'), body);
    const res = await client(server, token)
      .post(`/oserve/v1/table/${(await table()).id}/import/`)
      .send({ source: `file://${join(dir, 'in', 'h.csv')}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const job = await waitForJob(server, token, res.body.job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.errors[0]?.error_msg, expected);
  });

  test('a host that does not resolve says so, without suggesting OUTBOUND_ALLOW_HOSTS', async () => {
    const res = await client(server, token)
      .post(`/oserve/v1/table/${(await table()).id}/import/`)
      .send({ source: 'https://no-such-host.invalid/x.csv' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'invalid_parameter');
    assert.match(res.body.error_msg, /no-such-host\.invalid:443: the host name does not resolve; check the host in the URL/);
    assert.doesNotMatch(res.body.error_msg, /OUTBOUND_ALLOW_HOSTS/);
  });

  test('the CLI exits 2 for a bad value, as the README says, before asking the server', async () => {
    const t = await table();
    const file = join(dir, 'ok.csv');
    await writeFile(file, 'title,score\na,1\n');
    for (const args of [
      ['export', t.name, '--type', 'xml'],
      ['export', t.name, '--type', 'csv', '--csv-delimiter', 'ab'],
      ['export', t.name, '--type', 'csv', '--mode', 'part', '--start', '-5'],
      ['import', t.name, file, '--csv-delimiter', ';;'],
      ['import', t.name, file, '--encoding', 'klingon'],
      ['import', t.name, file, '--decimal-separator', ';'],
    ]) {
      const run = await cli(...args, '--json');
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.equal((JSON.parse(run.stdout) as { error_code: string }).error_code, 'invalid_usage', args.join(' '));
    }
  });

  test('migrate without a token for the other server names --to-token and TABLEPORT_TO_TOKEN', async () => {
    const run = await cli('migrate', '--to', 'http://127.0.0.1:9');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--to-token TOKEN, or TABLEPORT_TO_TOKEN in the environment/);
  });
});
