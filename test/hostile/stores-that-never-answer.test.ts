/**
 * Every outbound call ends: exports and imports against stores and URLs that accept the connection
 * and never answer, answer the headers and then stop, or trickle a byte at a time; mail to an SMTP
 * server that never greets; a webhook receiver that never answers; and a cancel of an export stuck
 * on such a store. Real servers on loopback, real jobs through the API; each test asserts what the
 * user sees (the job's status and error, naming the host) within a bound, and that the service let
 * go of the connections. The time each job took is printed as a diagnostic.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import request from 'supertest';
import type { Job } from '../../src/types/api.js';
import { startLocationServer, type LocationServer } from '../integration/locations/rest-helpers.js';
import { startHttpServer, startSilentServer, stallAfter, trickle, type QuietServer } from './quiet-servers.js';
import { sleep } from '../helpers/wait.js';

const FIELDS = { fields: [{ name: 'title', type: 'string' }] };
const ROWS = [{ title: 'a' }, { title: 'b' }, { title: 'c' }];
/** OUTBOUND_TIMEOUT_MS of the servers under test. */
const SILENCE_MS = 1000;

/** Waits until `check` holds, at most `ms`; a deadline, not a measurement. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** A job's end, at most `ms` after `since`, and how long it took. */
async function endOf(s: LocationServer, jobId: string, since: number, ms: number): Promise<{ job: Job; tookMs: number }> {
  const job = await s.waitForJob(jobId, ms - (Date.now() - since));
  return { job, tookMs: Date.now() - since };
}

/** The failure a user reads: one error, `service_unavailable`, naming the host that went quiet. */
function assertTimedOut(job: Job, host: string, what: RegExp): void {
  assert.equal(job.status, 'failed', JSON.stringify(job));
  const e = job.errors[0];
  assert.equal(e?.error_code, 'service_unavailable', JSON.stringify(job.errors));
  assert.ok(e?.error_msg.includes(host), `the message names ${host}: ${e?.error_msg}`);
  assert.match(e?.error_msg ?? '', what);
}

async function newTable(s: LocationServer, name: string): Promise<number> {
  const res = await s.call('post', '/oserve/v1/table/', { name, schema: FIELDS });
  assert.equal(res.status, 201, res.text);
  const rows = await s.call('post', `/oserve/v1/table/${res.body.id}/record/`, ROWS);
  assert.equal(rows.status, 201, rows.text);
  return res.body.id as number;
}

describe('stores, URLs, mail and webhooks that never answer', () => {
  const SILENT_ANSWER = /did not answer within 1 s/;
  let silent: QuietServer;
  let smtp: QuietServer;
  let stall: QuietServer;
  let gcsStall: QuietServer;
  let s: LocationServer;
  const note = (t: TestContext, what: string, ms: number) => t.diagnostic(`${what}: ended after ${ms} ms`);

  before(async () => {
    silent = await startSilentServer();
    smtp = await startSilentServer();
    stall = await startHttpServer(stallAfter('title\nfirst\n'));
    // A GCS that answers an object's metadata, then sends the first bytes of its media and stops.
    gcsStall = await startHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('alt') === 'media') return stallAfter('title\nfirst\n')(req, res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'storage#object', bucket: 'landing', name: 'rows.csv', size: String(1024 * 1024) }));
    });
    s = await startLocationServer([silent.host, smtp.host, stall.host, gcsStall.host], {
      env: {
        OUTBOUND_TIMEOUT_MS: String(SILENCE_MS),
        OUTBOUND_MAX_DURATION_MS: '60000',
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_ATTEMPTS: '2',
      },
    });
  });
  after(async () => {
    await s.close();
    for (const q of [silent, smtp, stall, gcsStall]) await q.close();
  });

  const s3 = () => ({ endpoint_url: `http://${silent.host}`, access_key_id: 'AKIDTEST', secret_key: 'never-shown-secret' });

  test('an export to an S3 endpoint that never answers fails within seconds, naming the host; the SDK writes no line outside the JSON log', async (t) => {
    const table = await newTable(s, 's3_export');
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      stderr.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      const since = Date.now();
      const res = await s.task(`/oserve/v1/table/${table}/export/`, {
        file_type: 'csv',
        mode: 'all',
        destination: 's3://bkt/out/',
        connection: s3(),
      });
      assert.equal(res.status, 201, res.text);
      const { job, tookMs } = await endOf(s, res.body.job_id, since, 20_000);
      note(t, 's3 export', tookMs);
      assertTimedOut(job, silent.host, SILENT_ANSWER);
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(
      stderr.filter((l) => /smithy|requestTimeout|aws-sdk/i.test(l) && !/NodeVersionSupportWarning|node >=22|a\.co\//.test(l)),
      [],
    );
    for (const line of s.logs) assert.doesNotThrow(() => JSON.parse(line), `a log line that is not JSON: ${line}`);
    s.assertNoSecrets(['never-shown-secret']);
    await until('the connections to the silent store are closed', 5000, async () => (silent.open() === 0 ? true : undefined));
  });

  test('an import from an S3 endpoint that never answers fails within seconds, naming the host', async (t) => {
    const table = await newTable(s, 's3_import');
    const since = Date.now();
    const res = await s.task(`/oserve/v1/table/${table}/import/`, { source: 's3://bkt/in/rows.csv', connection: s3() });
    assert.equal(res.status, 201, res.text);
    const { job, tookMs } = await endOf(s, res.body.job_id, since, 20_000);
    note(t, 's3 import', tookMs);
    assertTimedOut(job, silent.host, SILENT_ANSWER);
  });

  test('an import from an S3 store that answers the headers and stops mid-body fails, naming the host', async (t) => {
    const table = await newTable(s, 's3_stall');
    const since = Date.now();
    const res = await s.task(`/oserve/v1/table/${table}/import/`, {
      source: 's3://bkt/in/rows.csv',
      connection: { ...s3(), endpoint_url: `http://${stall.host}` },
    });
    assert.equal(res.status, 201, res.text);
    const { job, tookMs } = await endOf(s, res.body.job_id, since, 20_000);
    note(t, 's3 import, body stalls', tookMs);
    assertTimedOut(job, stall.host, /went silent for 1 s/);
  });

  test('GCS: an export and an import against an endpoint that never answers fail, naming the host', async (t) => {
    const table = await newTable(s, 'gcs');
    const connection = { gcs_base_url: `http://${silent.host}`, disable_oauth: true };
    let since = Date.now();
    const out = await s.task(`/oserve/v1/table/${table}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: 'gcs://bkt/out/',
      connection,
    });
    assert.equal(out.status, 201, out.text);
    const exported = await endOf(s, out.body.job_id, since, 30_000);
    note(t, 'gcs export', exported.tookMs);
    assertTimedOut(exported.job, silent.host, SILENT_ANSWER);

    since = Date.now();
    const inn = await s.task(`/oserve/v1/table/${table}/import/`, { source: 'gcs://bkt/in/rows.csv', connection });
    assert.equal(inn.status, 201, inn.text);
    const imported = await endOf(s, inn.body.job_id, since, 30_000);
    note(t, 'gcs import', imported.tookMs);
    assertTimedOut(imported.job, silent.host, SILENT_ANSWER);
  });

  test('GCS: a download that stops mid-body fails, naming the host', async (t) => {
    const table = await newTable(s, 'gcs_stall');
    const since = Date.now();
    const res = await s.task(`/oserve/v1/table/${table}/import/`, {
      source: 'gcs://landing/rows.csv',
      connection: { gcs_base_url: `http://${gcsStall.host}`, disable_oauth: true },
    });
    assert.equal(res.status, 201, res.text);
    const { job, tookMs } = await endOf(s, res.body.job_id, since, 20_000);
    note(t, 'gcs import, body stalls', tookMs);
    assertTimedOut(job, gcsStall.host, /went silent for 1 s/);
  });

  test('Azure Blob: an export and an import against an endpoint that never answers fail, naming the host', async (t) => {
    const table = await newTable(s, 'azblob');
    const connection = { endpoint_url: `http://${silent.host}/devstoreaccount1`, account: 'devstoreaccount1' };
    let since = Date.now();
    const out = await s.task(`/oserve/v1/table/${table}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: 'azblob://box/out/',
      connection,
    });
    assert.equal(out.status, 201, out.text);
    const exported = await endOf(s, out.body.job_id, since, 60_000);
    note(t, 'azblob export', exported.tookMs);
    assertTimedOut(exported.job, silent.host, SILENT_ANSWER);

    since = Date.now();
    const inn = await s.task(`/oserve/v1/table/${table}/import/`, { source: 'azblob://box/in/rows.csv', connection });
    assert.equal(inn.status, 201, inn.text);
    const imported = await endOf(s, inn.body.job_id, since, 60_000);
    note(t, 'azblob import', imported.tookMs);
    assertTimedOut(imported.job, silent.host, SILENT_ANSWER);
  });

  test('an http source that never answers, or answers the headers and stops, fails naming the host', async (t) => {
    const table = await newTable(s, 'http_source');
    let since = Date.now();
    const quiet = await s.task(`/oserve/v1/table/${table}/import/`, { source: `http://${silent.host}/rows.csv?sig=s3cr3t` });
    assert.equal(quiet.status, 201, quiet.text);
    const never = await endOf(s, quiet.body.job_id, since, 10_000);
    note(t, 'http source', never.tookMs);
    assertTimedOut(never.job, silent.host, SILENT_ANSWER);
    assert.ok(!never.job.errors[0]?.error_msg.includes('s3cr3t'), 'no query string in the message');

    since = Date.now();
    const stalled = await s.task(`/oserve/v1/table/${table}/import/`, { source: `http://${stall.host}/rows.csv` });
    assert.equal(stalled.status, 201, stalled.text);
    const mid = await endOf(s, stalled.body.job_id, since, 10_000);
    note(t, 'http source, body stalls', mid.tookMs);
    assertTimedOut(mid.job, stall.host, /went silent for 1 s/);
    await until('the stalled connections are closed', 5000, async () => (stall.open() === 0 ? true : undefined));
  });

  test('mail to an SMTP server that never greets goes to the outbox after its attempts; the job is not held', async (t) => {
    const table = await newTable(s, 'mailed');
    const since = Date.now();
    const res = await s.task(`/oserve/v1/table/${table}/export/`, { file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201, res.text);
    const { job, tookMs } = await endOf(s, res.body.job_id, since, 10_000);
    note(t, 'export while SMTP never greets (the job)', tookMs);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const outboxed = await until('the mail is in the outbox', 30_000, async () => {
      const j = (await s.call('get', `/oserve/v1/jobs/${job.id}`)).body as Job;
      return j.mail_status === 'outbox' ? j : undefined;
    });
    note(t, 'mail to the outbox', Date.now() - since);
    assert.equal(outboxed.status, 'succeeded');
    const emls = (await readdir(s.server.config.mailOutboxDir)).filter((f) => f.endsWith('.eml'));
    assert.ok(emls.length >= 1, 'an .eml in the outbox');
    assert.ok(smtp.accepted() >= 2, 'both attempts reached the server');
    const timeouts = s.logs.filter((l) => l.includes(`127.0.0.1:${smtp.port}`));
    assert.ok(timeouts.length > 0, 'the log names the mail server that did not answer');
  });

  test('a webhook whose receiver never answers fails its delivery within the timeout, naming the host; the job is not held', async (t) => {
    const other = await s.server.createUser();
    const as = (method: 'get' | 'post', path: string, body?: object) => {
      const r = request(s.server.baseUrl)[method](path).set('Authorization', `Bearer ${other.token}`);
      return body ? r.send(body) : r;
    };
    const hook = await as('post', '/oserve/v1/webhooks', { url: `http://${silent.host}/hook`, events: ['job.succeeded'] });
    assert.equal(hook.status, 201, hook.text);
    const created = await as('post', '/oserve/v1/table/', { name: 'hooked', schema: FIELDS });
    assert.equal(created.status, 201, created.text);
    const since = Date.now();
    const res = await as('post', `/oserve/v1/table/${created.body.id}/export/`, { file_type: 'csv', mode: 'all' });
    assert.equal(res.status, 201, res.text);
    const job = await until('the export ends', 10_000, async () => {
      const j = (await as('get', `/oserve/v1/jobs/${res.body.job_id}`)).body as Job;
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
    });
    assert.equal(job.status, 'succeeded');
    const delivery = await until('a failed delivery is logged', 10_000, async () => {
      const page = (await as('get', `/oserve/v1/webhooks/${hook.body.id}/deliveries`)).body as {
        objects: Array<{ error: string | null; http_status: number | null }>;
      };
      return page.objects[0];
    });
    note(t, 'webhook delivery (first attempt)', Date.now() - since);
    assert.equal(delivery.http_status, null);
    assert.ok(delivery.error?.includes(silent.host), `the delivery's error names the host: ${delivery.error}`);
    assert.match(delivery.error ?? '', /did not answer within 1 s|took longer than 1 s/);
  });
});

describe('a download that trickles a byte at a time', () => {
  let slow: QuietServer;
  let s: LocationServer;
  before(async () => {
    slow = await startHttpServer(trickle(200));
    s = await startLocationServer([slow.host], { env: { OUTBOUND_TIMEOUT_MS: '1000', OUTBOUND_MAX_DURATION_MS: '3000' } });
  });
  after(async () => {
    await s.close();
    await slow.close();
  });

  test('from a URL or an S3 store, is never silent, and still ends at OUTBOUND_MAX_DURATION_MS, naming the host', async (t) => {
    const res = await s.call('post', '/oserve/v1/table/', { name: 'trickled', schema: FIELDS });
    assert.equal(res.status, 201, res.text);
    const sources = [
      { what: 'http source', body: { source: `http://${slow.host}/rows.csv` } },
      {
        what: 's3 import',
        body: {
          source: 's3://bkt/in/rows.csv',
          connection: { endpoint_url: `http://${slow.host}`, access_key_id: 'AKIDTEST', secret_key: 'never-shown-secret' },
        },
      },
    ];
    for (const { what, body } of sources) {
      const since = Date.now();
      const imp = await s.task(`/oserve/v1/table/${res.body.id}/import/`, body);
      assert.equal(imp.status, 201, imp.text);
      const { job, tookMs } = await endOf(s, imp.body.job_id, since, 15_000);
      t.diagnostic(`${what} trickling 5 bytes/s: ended after ${tookMs} ms`);
      assertTimedOut(job, slow.host, /took longer than 3 s/);
      await until('the trickling connection is closed', 5000, async () => (slow.open() === 0 ? true : undefined));
    }
  });
});

describe('cancel and shutdown of an export stuck on a store that never answers', () => {
  const SHUTDOWN_TIMEOUT_MS = 2000;
  let silent: QuietServer;
  let s: LocationServer;
  let closed = false;
  before(async () => {
    silent = await startSilentServer();
    // Silence alone would take a minute to fail these exports: only a cancel or a shutdown can end them in time.
    s = await startLocationServer([silent.host], {
      env: {
        OUTBOUND_TIMEOUT_MS: '60000',
        OUTBOUND_MAX_DURATION_MS: '120000',
        WORKER_CONCURRENCY: '1',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      },
    });
  });
  after(async () => {
    if (!closed) await s.close();
    await silent.close();
  });

  /** An export to the silent store, once it is running and connected to it. */
  async function stuckExport(name: string): Promise<string> {
    const table = await newTable(s, name);
    const res = await s.task(`/oserve/v1/table/${table}/export/`, {
      file_type: 'csv',
      mode: 'all',
      destination: 's3://bkt/out/',
      connection: { endpoint_url: `http://${silent.host}`, access_key_id: 'AKIDTEST', secret_key: 'never-shown-secret' },
    });
    assert.equal(res.status, 201, res.text);
    const id = res.body.job_id as string;
    await until('the export is running and talking to the store', 10_000, async () => {
      const j = (await s.call('get', `/oserve/v1/jobs/${id}`)).body as Job;
      return j.status === 'running' && silent.open() > 0 ? true : undefined;
    });
    return id;
  }

  test('POST /jobs/:id/cancel ends it as cancelled, frees its worker slot and its connections within 10 s', async (t) => {
    const stuck = await stuckExport('stuck');

    // Another user's export waits for the only worker slot.
    const other = await s.server.createUser();
    const as = (method: 'get' | 'post', path: string, body?: object) => {
      const r = request(s.server.baseUrl)[method](path).set('Authorization', `Bearer ${other.token}`);
      return body ? r.send(body) : r;
    };
    const created = await as('post', '/oserve/v1/table/', { name: 'waiting', schema: FIELDS });
    assert.equal(created.status, 201, created.text);
    const queued = await as('post', `/oserve/v1/table/${created.body.id}/export/`, { file_type: 'csv', mode: 'all' });
    assert.equal(queued.status, 201, queued.text);
    assert.equal(((await as('get', `/oserve/v1/jobs/${queued.body.job_id}`)).body as Job).status, 'queued');

    const since = Date.now();
    const cancel = await s.call('post', `/oserve/v1/jobs/${stuck}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    assert.equal((cancel.body as Job).status, 'cancelled');
    await until('the other user’s export gets the slot', 10_000, async () => {
      const j = (await as('get', `/oserve/v1/jobs/${queued.body.job_id}`)).body as Job;
      return j.status !== 'queued' ? true : undefined;
    });
    t.diagnostic(`the slot was free again after ${Date.now() - since} ms`);
    await until('the stuck export’s connections are closed', 10_000, async () => (silent.open() === 0 ? true : undefined));
    t.diagnostic(`the store's connections were closed after ${Date.now() - since} ms`);
    assert.equal(((await s.call('get', `/oserve/v1/jobs/${stuck}`)).body as Job).status, 'cancelled');
  });

  test('a shutdown stops it past SHUTDOWN_TIMEOUT_MS and closes its connections', async (t) => {
    await stuckExport('stuck_at_shutdown');
    const since = Date.now();
    closed = true;
    await Promise.race([
      s.close(),
      new Promise((_r, reject) => setTimeout(() => reject(new Error('the shutdown took too long')), SHUTDOWN_TIMEOUT_MS + 8000)),
    ]);
    t.diagnostic(`the shutdown took ${Date.now() - since} ms (SHUTDOWN_TIMEOUT_MS ${SHUTDOWN_TIMEOUT_MS})`);
    await until('the stuck export’s connections are closed', 2000, async () => (silent.open() === 0 ? true : undefined));
  });
});
