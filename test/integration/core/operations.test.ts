import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import PostalMime from 'postal-mime';
import request from 'supertest';
import { client, createTable, waitForJob } from '../../helpers/api.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startChildWorker, waitForActiveImportCopy } from '../../helpers/workers.js';
import { defined } from '../../helpers/defined.js';
import { sleep } from '../../helpers/wait.js';

const run = promisify(execFile);
const BIN = new URL('../../../bin/tableport.js', import.meta.url).pathname;

describe('operations', () => {
  let server: TestServer;
  before(async () => {
    // No SMTP_URL: mails go to the outbox as .eml files.
    server = await startTestServer({ outbox: true });
  });
  after(() => server.close());

  test('`tableport users add` prints a working token alone on the last line, and finds an existing user', async () => {
    const env = server.childEnv();
    const first = await run(process.execPath, [BIN, 'users', 'add', '--email', 'Op@Example.com', '--name', 'Op', '--locale', 'zh-CN'], {
      env,
    });
    const token = defined(first.stdout.trimEnd().split('\n').at(-1), 'the printed token');
    assert.match(token, /^tp_[A-Za-z0-9_-]{43}$/);
    const res = await request(server.baseUrl).get('/oserve/v1/table/').set('Authorization', `Bearer ${token}`);
    assert.equal(res.status, 200);

    const again = await run(process.execPath, [BIN, 'users', 'add', '--email', 'op@example.com'], { env });
    const token2 = defined(again.stdout.trimEnd().split('\n').at(-1), 'the printed token');
    assert.notEqual(token2, token);
    const users = await server.db.query(
      `SELECT count(*)::int AS n, min(locale) AS locale FROM tableport.users WHERE lower(email) = 'op@example.com'`,
    );
    assert.deepEqual(users.rows[0], { n: 1, locale: 'zh-CN' }, 'the same user, its locale kept');

    const bad = await run(process.execPath, [BIN, 'users', 'add', '--email', 'not-an-email'], { env }).catch((e) => e);
    assert.notEqual(bad.code, 0);
  });

  test("without SMTP_URL the mail is an .eml file in MAIL_OUTBOX_DIR, in the user's locale", async () => {
    const { token, email } = await server.createUser(undefined, { locale: 'zh-CN' });
    const t = await createTable(server, token, 'outboxed');
    await client(server, token).post(`/oserve/v1/table/${t}/record/`).send({ title: 'x' });
    const job = await waitForJob(
      server,
      token,
      (await client(server, token).post(`/oserve/v1/table/${t}/export/`).send({ file_type: 'csv', mode: 'all' })).body.job_id,
    );
    const until = Date.now() + 10_000;
    let found: { to: string; subject: string; text: string } | undefined;
    while (!found && Date.now() < until) {
      for (const name of (await readdir(server.config.mailOutboxDir).catch(() => [])).filter((n) => n.endsWith('.eml'))) {
        const mail = await PostalMime.parse(await readFile(join(server.config.mailOutboxDir, name)));
        if (mail.text?.includes(job.id)) found = { to: mail.to?.[0]?.address ?? '', subject: mail.subject ?? '', text: mail.text };
      }
      if (!found) await sleep(100);
    }
    assert.ok(found, 'an .eml for the job');
    assert.equal(found.to, email);
    assert.match(found.subject, /outboxed/);
    assert.match(found.text, /[\u4e00-\u9fff]/, 'written in Chinese');
    assert.ok(found.text.includes(defined(job.file_url, 'job.file_url')));
  });

  test('a refused oversized upload leaves nothing behind', async () => {
    const small = await startTestServer({ env: { UPLOAD_MAX_BYTES: '2000' } });
    try {
      const { token } = await small.createUser();
      const t = await createTable(small, token, 'tiny');
      const res = await client(small, token)
        .post(`/oserve/v1/table/${t}/import/`)
        .attach('file', Buffer.from(`title\n${'y\n'.repeat(5000)}`), 'a.csv');
      assert.equal(res.status, 413);
      assert.equal(res.body.error_code, 'file_too_large');
      assert.deepEqual(await readdir(join(small.config.storageDir, '.incoming')), []);
      const ok = await client(small, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from('title\ny\n'), 'a.csv');
      assert.equal(ok.status, 201, 'the refused upload did not take the minute');
    } finally {
      await small.close();
    }
  });
});

describe('graceful shutdown', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ roles: ['api'] });
  });
  after(() => server.close());

  test('SIGTERM lets the active import finish, then the worker exits cleanly', async () => {
    const { token } = await server.createUser();
    const t = await createTable(server, token, 'stopping', { fields: [{ name: 'n', type: 'integer' }] });
    const N = 150_000;
    const csv = `n\n${Array.from({ length: N }, (_, i) => i).join('\n')}\n`;
    const res = await client(server, token).post(`/oserve/v1/table/${t}/import/`).attach('file', Buffer.from(csv), 'n.csv');
    assert.equal(res.status, 201);
    const worker = await startChildWorker(server);
    await waitForActiveImportCopy(server);
    worker.kill('SIGTERM');
    const [code] = await once(worker, 'exit');
    assert.equal(code, 0);
    const job = await waitForJob(server, token, res.body.job_id, 1000);
    assert.equal(job.status, 'succeeded', 'finished before the worker exited, not abandoned');
    assert.equal(job.rows, N);
  });
});
