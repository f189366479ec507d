/**
 * Shared by the hostile-input suites: raw HTTP requests (bodies and headers exactly as given, no
 * client library fixing them up), a tally of every input tried, and snapshots of what a refused
 * input must not have changed.
 */
import assert from 'node:assert/strict';
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '../helpers/server.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

export async function raw(
  server: TestServer,
  method: string,
  path: string,
  opts: { token?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers };
  // A hanging answer is a failure too (the API used to hang while Redis was down): give up after 30 s.
  const res = await fetch(server.baseUrl + path, {
    method,
    headers,
    signal: AbortSignal.timeout(30_000),
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: left empty, the assertion on error_code says so
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** Every hostile input of a file: how it was answered. A 5xx other than the expected 503/507 is a crash. */
export class Tally {
  tried = 0;
  answered4xx = 0;
  crashes = 0;
  private readonly notes: string[] = [];

  /** Records an answer; a 500 (a stack behind it) counts as a crash. */
  record(what: string, res: { status: number }): void {
    this.tried++;
    if (res.status >= 400 && res.status < 500) this.answered4xx++;
    if (res.status === 500 || res.status === 502) {
      this.crashes++;
      this.notes.push(`${what}: ${res.status}`);
    }
  }

  summary(name: string): string {
    return `${name}: inputs tried ${this.tried}, answered 4xx ${this.answered4xx}, crashes ${this.crashes}${this.notes.length ? ` (${this.notes.join('; ')})` : ''}`;
  }
}

/** Asserts the refusal a user would see: status, `error_code`, a sentence; the tally counts it. */
export function expectRefused(tally: Tally, what: string, res: RawResponse, status: number, code: string, parameter?: string): void {
  tally.record(what, res);
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.body.error_code, code, `${what}: ${res.text.slice(0, 300)}`);
  assert.equal(typeof res.body.error_msg, 'string', what);
  assert.ok((res.body.error_msg as string).length > 10, what);
  assert.ok(!/\n\s+at /.test(res.text), `${what}: a stack trace in the answer`);
  if (parameter !== undefined) assert.equal(res.body.parameter, parameter, `${what}: parameter`);
}

/** What a refused input must leave as it was: the rows of every data table, the jobs, the stored files. */
export async function snapshot(server: TestServer): Promise<string> {
  const tables = await server.db.query<{ id: number }>('SELECT id FROM tableport.tables ORDER BY id');
  const counts: string[] = [];
  for (const { id } of tables.rows) {
    const r = await server.db.query<{ n: number; h: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS h FROM tableport_data.t_${id} t`,
    );
    counts.push(`${id}:${r.rows[0]?.n}:${r.rows[0]?.h}`);
  }
  const jobs = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tableport.jobs');
  return JSON.stringify({ tables: counts, jobs: jobs.rows[0]?.n, files: await listFiles(server.config.storageDir) });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(rel + e.name);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** The service still answers: `/healthz` is 200 and an authenticated read works. */
export async function assertUp(server: TestServer, token: string): Promise<void> {
  const health = await raw(server, 'GET', '/healthz');
  assert.equal(health.status, 200, `healthz: ${health.text}`);
  const tables = await raw(server, 'GET', '/oserve/v1/table/', { token });
  assert.equal(tables.status, 200);
}

/** A multipart/form-data body with one file, built by hand so tests can break it on purpose. */
export function multipart(fileName: string, content: Buffer | string, boundary = 'hostileboundary42'): { body: Buffer; type: string } {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(content), Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}
