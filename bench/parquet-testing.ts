/**
 * Every Parquet file of a folder (apache/parquet-testing's `data/`) through tableport's real import
 * path, against DuckDB's reading of the same file (issue 22):
 *
 *   git clone --depth 1 https://github.com/apache/parquet-testing /tmp/parquet-testing
 *   npm run bench:parquet-testing -- /tmp/parquet-testing/data [--timeout 60] [--only a.parquet,b.parquet] [--json]
 *
 * Each file is uploaded to `POST /oserve/v1/table/import/` of an in-process tableport (its own
 * database, jobs queued in PostgreSQL), which infers a new table's schema from the file and imports
 * it in a job; the stored rows are then read back as the records API renders them, and compared
 * with DuckDB's rows put in tableport's documented forms (docs/api.md, "Parquet values"):
 *
 * - BINARY without a string annotation (and GEOMETRY, which is WKB bytes) as base64 text, nested too;
 * - lists, structs and maps (objects keyed by the key's text: bytes in base64, dates in ISO 8601) as
 *   JSON, JSON columns parsed;
 * - 64-bit integers as numbers when exact, else as their digits; DECIMAL as the number when that
 *   number is the decimal exactly, else as its decimal text; timestamps and dates as ISO 8601 (ms);
 * - then as the inferred field type stores them: a number, boolean or JSON value in a `string`
 *   field as its text, ISO-looking text in a `date` field as that instant, a numeric `id` as text;
 * - NaN and ±Infinity: no value is stored; the import fails with a row error naming them.
 *
 * Rows are compared in the order PostgreSQL holds them, then (a table keeps no order) as a set.
 * A file refused for its column names (`"ID"`, `"a b"`) is imported again with a `mapping` that
 * renames them, so that its values are checked too. Files DuckDB cannot read are checked against
 * what stands for them: the same rows written with another codec, the PLAIN twin of a
 * BYTE_STREAM_SPLIT column, the rows data/map_no_value.md gives.
 *
 * Each file is classified: equal, refused (invalid_file naming the column and what is not
 * supported, or row errors for NaN and values the reader refuses), unclear (refused otherwise),
 * WRONG (stored values differ), crash (a 500 / internal_error, or the process died), hang (over
 * --timeout seconds), or unverified (imported, but nothing to check it against). Files run one at a
 * time in a child process, restarted after a hang or a crash; stderr shows progress, stdout the
 * table (docs/benchmarks.md has the last run's).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import pg from 'pg';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { DuckDBTypeId } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from 'hyparquet';
import type { SchemaTree } from 'hyparquet';
import type { FieldSchema, FieldType, Job, JobError } from '../src/types/api.js';

type Verdict = 'equal' | 'refused' | 'unclear' | 'WRONG' | 'crash' | 'hang' | 'unverified';
const VERDICTS: Verdict[] = ['equal', 'refused', 'unclear', 'WRONG', 'crash', 'hang', 'unverified'];

interface Outcome {
  file: string;
  verdict: Verdict;
  rows?: number;
  /** What was refused and why, or the first differences. */
  note: string;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------
// References: DuckDB's reading, or for the few files DuckDB cannot read, what stands for it.

/** Files DuckDB refuses (the legacy Hadoop LZ4 codec) whose content is that of another file of the set. */
const TWINS: Record<string, string> = {
  'hadoop_lz4_compressed.parquet': 'lz4_raw_compressed.parquet',
  'non_hadoop_lz4_compressed.parquet': 'lz4_raw_compressed.parquet',
  'hadoop_lz4_compressed_larger.parquet': 'lz4_raw_compressed_larger.parquet',
};

/** A column DuckDB cannot read (BYTE_STREAM_SPLIT of integers and FIXED_LEN_BYTE_ARRAY) holds what its PLAIN twin holds (data/README.md). */
const PAIRED_COLUMN = /_byte_stream_split$/;

/** map_no_value.parquet (DuckDB: "MAP_KEY_VALUE requires two children"): its rows as data/map_no_value.md gives them. */
const MAP_NO_VALUE: Record<string, unknown>[] = [1, 4, 7].map((k) => ({
  my_map: { [k]: null, [k + 1]: null, [k + 2]: null },
  my_map_no_v: [k, k + 1, k + 2],
  my_list: [k, k + 1, k + 2],
}));

/** One column of the reference: DuckDB's type (undefined: a hand-written value already in tableport's form). */
interface RefColumn {
  name: string;
  type: DuckDBType | undefined;
}

interface Reference {
  columns: RefColumn[];
  /** Each row's values, by column, in tableport's reader form (see `readerForm`). */
  rows: Array<Record<string, unknown>>;
  /** How the reference was had, when not by DuckDB reading the file itself. */
  via?: string;
}

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** A value in the form tableport's reader gives it: its documented mappings of Parquet values. */
function readerForm(js: unknown, json: unknown, type: DuckDBType): unknown {
  if (js === null || js === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return (js as unknown[]).map((x, i) => readerForm(x, (json as unknown[])[i], type.valueType));
    case DuckDBTypeId.STRUCT: {
      const out: Record<string, unknown> = {};
      type.entryNames.forEach((name, i) => {
        out[name] = readerForm(
          (js as Record<string, unknown>)[name],
          (json as Record<string, unknown>)[name],
          type.entryTypes[i] as DuckDBType,
        );
      });
      return out;
    }
    case DuckDBTypeId.MAP: {
      const out: Record<string, unknown> = {};
      (js as Array<{ key: unknown; value: unknown }>).forEach((e, i) => {
        const j = (json as Array<{ key: unknown; value: unknown }>)[i];
        const key = readerForm(e.key, j?.key, type.keyType);
        out[key instanceof Date ? key.toISOString() : String(key)] = readerForm(e.value, j?.value, type.valueType);
      });
      return out;
    }
    case DuckDBTypeId.BLOB:
    case DuckDBTypeId.GEOMETRY:
      return Buffer.from(js as Uint8Array).toString('base64');
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: {
      const n = Number(js as bigint);
      return Number.isSafeInteger(n) ? n : (js as bigint).toString();
    }
    case DuckDBTypeId.DECIMAL: {
      const text = json as string;
      const n = Number(text);
      return sameDecimal(String(n), text) ? n : text;
    }
    case DuckDBTypeId.VARCHAR:
      return type.alias === 'JSON' ? (JSON.parse(js as string) as unknown) : js;
    default:
      return js;
  }
}

/** Whether two decimal texts are the same number (trailing zeros, a leading +, an exponent aside). */
function sameDecimal(a: string, b: string): boolean {
  const norm = (s: string): string => {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s.trim());
    if (!m) return s;
    const digits = `${m[2] ?? ''}${m[3] ?? ''}`;
    let exp = Number(m[4] ?? 0) - (m[3] ?? '').length;
    let d = digits.replace(/^0+/, '');
    while (d.endsWith('0')) {
      d = d.slice(0, -1);
      exp++;
    }
    return d === '' ? '0' : `${m[1] === '-' ? '-' : ''}${d}e${exp}`;
  };
  return norm(a) === norm(b);
}

async function duckReference(con: DuckDBConnection, file: string, select = '*'): Promise<Reference> {
  const reader = await con.runAndReadAll(`SELECT ${select} FROM read_parquet(${lit(file)})`);
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const js = reader.getRowsJS();
  const json = reader.getRowsJson();
  const rows = js.map((row, r) => Object.fromEntries(names.map((n, c) => [n, readerForm(row[c], json[r]?.[c], types[c] as DuckDBType)])));
  return { columns: names.map((name, c) => ({ name, type: types[c] })), rows };
}

/** DuckDB's reading of the file, or what stands for it; undefined when there is none (the reason in `why`). */
async function reference(con: DuckDBConnection, file: string, why: { error: string }): Promise<Reference | undefined> {
  const name = basename(file);
  try {
    return await duckReference(con, file);
  } catch (err) {
    why.error = (err as Error).message.split('\n')[0] ?? '';
  }
  const twin = TWINS[name];
  if (twin) {
    const ref = await duckReference(con, join(dirname(file), twin));
    return { ...ref, via: `DuckDB reads ${twin}, the same rows written with another codec` };
  }
  if (name === 'map_no_value.parquet') {
    return {
      columns: ['my_map', 'my_map_no_v', 'my_list'].map((n) => ({ name: n, type: undefined })),
      rows: MAP_NO_VALUE,
      via: 'the rows data/map_no_value.md gives',
    };
  }
  const columns = await leafNames(file);
  const plain = columns.filter((c) => !PAIRED_COLUMN.test(c));
  if (plain.length < columns.length) {
    const ref = await duckReference(con, file, plain.map(ident).join(', '));
    const paired = columns.filter((c) => PAIRED_COLUMN.test(c));
    for (const row of ref.rows) for (const c of paired) row[c] = row[c.replace(PAIRED_COLUMN, '_plain')];
    const types = new Map(ref.columns.map((c) => [c.name, c.type]));
    return {
      columns: columns.map((c) => ({ name: c, type: types.get(c.replace(PAIRED_COLUMN, '_plain')) })),
      rows: ref.rows,
      via: 'DuckDB reads the PLAIN column of each BYTE_STREAM_SPLIT one (data/README.md)',
    };
  }
  return undefined;
}

/** The top-level column names of a file, by its footer (for files DuckDB cannot read). */
async function leafNames(file: string): Promise<string[]> {
  try {
    return parquetSchema(await parquetMetadataAsync(await asyncBufferFromFile(file))).children.map((c) => c.element.name);
  } catch {
    return [];
  }
}

/** Every column path of a file (`a`, `a.list.element`), for telling whether a message names one. */
async function columnPaths(file: string): Promise<string[]> {
  try {
    const out: string[] = [];
    const walk = (n: SchemaTree) => {
      for (const c of n.children) {
        out.push(c.path.join('.'), c.element.name);
        walk(c);
      }
    };
    walk(parquetSchema(await parquetMetadataAsync(await asyncBufferFromFile(file))));
    return out;
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// From the reader's form to what a field of the inferred type stores.

function nonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(nonFinite);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.values(v).some(nonFinite);
  return false;
}

/** A nested value as JSON gives it back (dates as ISO text). */
function asJson(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

const OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/;

/** What a field of `type` stores for a value in the reader's form, as the records API renders it. */
function stored(v: unknown, type: FieldType | undefined, builtinId: boolean): unknown {
  if (v === null || v === undefined) return null;
  if (builtinId) return v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (v instanceof Date) return type === 'integer' ? Math.floor(v.getTime() / 1000) : v.toISOString();
  if (typeof v === 'object') return type === 'string' ? JSON.stringify(v) : asJson(v);
  if (typeof v === 'string') {
    if (v === '' && type !== 'string') return null;
    if (type === 'date') {
      const iso = v.replace(' ', 'T');
      return new Date(OFFSET.test(iso) || iso.length === 10 ? iso : `${iso}Z`).toISOString();
    }
    if (type === 'array' || type === 'object') {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }
    return v;
  }
  if (type === 'string') return String(v);
  return v;
}

function sameStored(actual: unknown, expected: unknown): boolean {
  if (isDeepStrictEqual(actual, expected)) return true;
  // JSON text in a string field: the same JSON, whatever its key order.
  if (typeof actual === 'string' && typeof expected === 'string' && /^[[{]/.test(expected)) {
    try {
      return isDeepStrictEqual(JSON.parse(actual), JSON.parse(expected));
    } catch {
      return false;
    }
  }
  return false;
}

/** A value as JSON with object keys sorted, and JSON text in a string parsed, for comparing rows as sets. */
function canonicalJson(v: unknown): unknown {
  if (typeof v === 'string' && /^[[{]/.test(v)) {
    try {
      return canonicalJson(JSON.parse(v));
    } catch {
      return v;
    }
  }
  if (Array.isArray(v)) return v.map(canonicalJson);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonicalJson((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// ---------------------------------------------------------------------------------------------
// The child: one tableport, one DuckDB, files one at a time.

interface ChildReady {
  kind: 'ready';
  databaseUrl: string;
  storageDir: string;
}
interface ChildResult {
  kind: 'result';
  outcome: Outcome;
}

const FEATURE =
  /not supported|is encrypted|more than the limit|which a table cannot store|cannot be (a field name|field names)|built-in field/;
/** Row errors of values the reader itself refuses (no DuckDB value to check them against). */
const READER_REFUSALS = /outside the dates a table can hold|INT96 timestamp whose time of day/;
/** Refusals of column names, which a `mapping` of the import lifts. */
const NAME_REFUSAL = /cannot be (a field name|field names)|built-in field/;

async function child(): Promise<void> {
  const { startTestServer } = await import('../test/helpers/server.js');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const { dataTable, projection } = await import('../src/db/table-sql.js');
  const server = await startTestServer();
  const { token } = await server.createUser();
  const con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.baseUrl}/oserve/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
  let n = 0;

  async function importFile(
    file: string,
    mapping?: Record<string, string>,
  ): Promise<
    | { ok: true; job: Job; rows: Array<Record<string, unknown>>; fields: FieldSchema[] }
    | { ok: false; code: string; errors: JobError[]; status: number; columns?: string[] }
  > {
    const form = new FormData();
    form.append('name', `pt_${++n}`);
    if (mapping) form.append('mapping', JSON.stringify(mapping));
    form.append('file', new Blob([readFileSync(file)]), 'upload.bin');
    const res = await api('/table/import/', { method: 'POST', body: form });
    const body = (await res.json()) as {
      job_id?: string;
      table_id?: number;
      error_code?: string;
      error_msg?: string;
      details?: { columns?: string[] };
    };
    if (res.status !== 201 || !body.job_id || !body.table_id) {
      return {
        ok: false,
        status: res.status,
        code: body.error_code ?? '',
        errors: [{ error_code: body.error_code ?? '', error_msg: body.error_msg ?? '' }],
        ...(body.details?.columns ? { columns: body.details.columns } : {}),
      };
    }
    let job: Job;
    for (;;) {
      job = (await (await api(`/jobs/${body.job_id}`)).json()) as Job;
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (job.status !== 'succeeded') return { ok: false, status: 200, code: job.errors[0]?.error_code ?? job.status, errors: job.errors };
    const fields = job.inferred_schema?.fields ?? [];
    const { rows } = await server.db.query<{ j: Record<string, unknown> }>(
      `SELECT row_to_json(r) AS j FROM (SELECT ctid AS "#ctid", ${projection(fields, 'json')} FROM ${dataTable(body.table_id)}) r ORDER BY r."#ctid"`,
    );
    return { ok: true, job, fields, rows: rows.map((r) => r.j) };
  }

  async function check(file: string): Promise<Omit<Outcome, 'file' | 'seconds'>> {
    const why = { error: '' };
    let result = await importFile(file);
    // Columns no field can be named after: imported again with a mapping that renames them, so
    // that their values are checked too; the outcome says what the plain import answered.
    let renamed: Map<string, string> | undefined;
    let plain = '';
    if (!result.ok && result.columns && NAME_REFUSAL.test(result.errors[0]?.error_msg ?? '')) {
      const mapping = Object.fromEntries(result.columns.map((c, i) => [c, `c${i}_${c.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60)]));
      renamed = new Map(Object.entries(mapping));
      plain = ` (without a mapping: ${result.errors[0]?.error_msg.slice(0, 120)})`;
      result = await importFile(file, mapping);
    }
    if (!result.ok) {
      const { errors, code, status } = result;
      const first = errors.map((e) => `${e.line !== undefined ? `line ${e.line}, ${e.field}: ` : ''}${e.error_msg}`).join(' | ');
      if (status >= 500 || code === 'internal_error') return { verdict: 'crash', note: `${code}: ${first}` };
      if (code === 'invalid_row') {
        // NaN and ±Infinity are refused row by row: each error must be one, where DuckDB reads one.
        const ref = await reference(con, file, why).catch(() => undefined);
        const rowErrors = errors.filter((e) => e.line !== undefined);
        const column = (f: string | undefined) => [...(renamed ?? [])].find(([, to]) => to === f)?.[0] ?? f ?? '';
        const nan = rowErrors.every((e) => {
          const v = ref?.rows[(e.line as number) - 1]?.[column(e.field)];
          return (/NaN|Infinity/.test(e.error_msg) && nonFinite(v)) || READER_REFUSALS.test(e.error_msg);
        });
        const count = ref ? ref.rows.reduce((k, row) => k + Object.values(row).filter(nonFinite).length, 0) : 0;
        const what = count ? `NaN/±Infinity in ${count} value(s)` : 'row errors';
        if (nan && rowErrors.length > 0) return { verdict: 'refused', note: `${what}: ${first.slice(0, 200)}${plain}` };
        return { verdict: 'unclear', note: first + plain };
      }
      const paths = await columnPaths(file);
      const named = errors.every((e) => paths.some((p) => e.error_msg.includes(`"${p}"`)) || /encrypted/.test(e.error_msg));
      const feature = errors.every((e) => FEATURE.test(e.error_msg));
      return { verdict: code === 'invalid_file' && named && feature ? 'refused' : 'unclear', note: `${code}: ${first}${plain}` };
    }
    const ref = await reference(con, file, why);
    if (!ref) return { verdict: 'unverified', rows: result.rows.length, note: `imported; DuckDB: ${why.error}${plain}` };
    const storedRows = result.rows;
    const types = new Map(result.fields.map((f) => [f.name, f.type]));
    const field = (name: string) => renamed?.get(name) ?? name;
    const diffs: string[] = [];
    const missing = ref.columns.filter((c) => field(c.name) !== 'id' && !types.has(field(c.name))).map((c) => c.name);
    if (missing.length) diffs.push(`no field for ${missing.join(', ')}`);
    if (storedRows.length !== ref.rows.length) diffs.push(`${storedRows.length} rows stored, ${ref.rows.length} read by DuckDB`);
    ref.rows.forEach((want, i) => {
      const got = storedRows[i];
      if (!got || diffs.length >= 3) return;
      for (const { name } of ref.columns) {
        const to = field(name);
        const builtinId = to === 'id';
        // A null id is given a new one.
        if (builtinId && want[name] === null) continue;
        const expected = stored(want[name], types.get(to), builtinId);
        if (!sameStored(got[to], expected)) {
          diffs.push(`row ${i + 1} ${name}: stored ${show(got[to])}, DuckDB ${show(expected)}`);
          if (diffs.length >= 3) return;
        }
      }
    });
    const via = ref.via ? ` (reference: ${ref.via})` : '';
    // A table keeps no order: the same rows in another order (as PostgreSQL placed them) are the same rows.
    if (diffs.length && !missing.length && storedRows.length === ref.rows.length) {
      const key = (of: (name: string) => unknown) =>
        JSON.stringify(ref.columns.filter((c) => field(c.name) !== 'id').map((c) => canonicalJson(of(c.name))));
      const want = ref.rows.map((r) => key((name) => stored(r[name], types.get(field(name)), false))).sort();
      const got = storedRows.map((r) => key((name) => r[field(name)])).sort();
      if (want.every((w, i) => w === got[i]))
        return { verdict: 'equal', rows: storedRows.length, note: `stored in another order${via}${plain}` };
    }
    if (diffs.length) return { verdict: 'WRONG', rows: storedRows.length, note: diffs.join('; ') + via + plain };
    return { verdict: 'equal', rows: storedRows.length, note: (via + plain).trim() };
  }

  const send = (m: ChildReady | ChildResult) => process.send?.(m);
  process.on('message', (m: { file?: string; end?: boolean }) => {
    if (m.end) {
      void (async () => {
        con.closeSync();
        await server.close();
        process.exit(0);
      })();
      return;
    }
    const file = m.file as string;
    const t0 = performance.now();
    void check(file)
      .catch(
        (err: unknown): Omit<Outcome, 'file' | 'seconds'> => ({ verdict: 'crash', note: `the checker failed: ${(err as Error).stack}` }),
      )
      .then((o) => send({ kind: 'result', outcome: { file, ...o, seconds: (performance.now() - t0) / 1000 } }));
  });
  send({ kind: 'ready', databaseUrl: server.config.databaseUrl, storageDir: server.config.storageDir });
}

// ---------------------------------------------------------------------------------------------
// The parent: the files, the time bound, the table.

function parquetFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...parquetFiles(p));
    else if (/\.parquet(\.encrypted)?$/.test(name)) out.push(p);
  }
  return out.sort();
}

interface Running {
  proc: ChildProcess;
  ready: Promise<ChildReady>;
  databaseUrl?: string;
  storageDir?: string;
}

function startChild(): Running {
  const proc = fork(new URL(import.meta.url).pathname, ['--child'], {
    env: { ...process.env, TEST_QUEUE_BACKEND: 'postgres', TEST_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const running: Running = { proc, ready: Promise.resolve({ kind: 'ready', databaseUrl: '', storageDir: '' }) };
  running.ready = new Promise((res, rej) => {
    const onMessage = (m: ChildReady | ChildResult) => {
      if (m.kind !== 'ready') return;
      proc.off('message', onMessage);
      running.databaseUrl = m.databaseUrl;
      running.storageDir = m.storageDir;
      res(m);
    };
    proc.on('message', onMessage);
    proc.once('exit', (code, signal) => rej(new Error(`the checker's tableport did not start (exit ${code ?? signal})`)));
  });
  return running;
}

/** After a hang or a crash: the child's database and files, which its own clean-up did not remove. */
async function forget(running: Running): Promise<void> {
  running.proc.kill('SIGKILL');
  if (running.databaseUrl) {
    const db = new URL(running.databaseUrl).pathname.slice(1);
    const { PG_ADMIN_URL } = await import('../test/helpers/env.js');
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${ident(db)} WITH (FORCE)`);
    await admin.end();
  }
  if (running.storageDir) await rm(dirname(running.storageDir), { recursive: true, force: true });
}

function runOne(running: Running, file: string, timeoutMs: number): Promise<Outcome | { lost: Verdict; note: string }> {
  return new Promise((res) => {
    const t0 = performance.now();
    const done = (o: Outcome | { lost: Verdict; note: string }) => {
      clearTimeout(timer);
      running.proc.off('message', onMessage);
      running.proc.off('exit', onExit);
      res(o);
    };
    const onMessage = (m: ChildReady | ChildResult) => {
      if (m.kind === 'result' && m.outcome.file === file) done(m.outcome);
    };
    const onExit = (code: number | null, signal: string | null) =>
      done({ lost: 'crash', note: `the process died (exit ${code ?? signal}) after ${((performance.now() - t0) / 1000).toFixed(1)} s` });
    const timer = setTimeout(() => done({ lost: 'hang', note: `no outcome within ${timeoutMs / 1000} s` }), timeoutMs);
    running.proc.on('message', onMessage);
    running.proc.once('exit', onExit);
    running.proc.send({ file });
  });
}

function table(outcomes: Outcome[]): string {
  const lines = ['| file | outcome | rows | note |', '| --- | --- | ---: | --- |'];
  for (const o of outcomes) {
    lines.push(`| ${o.file} | ${o.verdict} | ${o.rows ?? ''} | ${o.note.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`);
  }
  const counts = VERDICTS.map((v) => `${v} ${outcomes.filter((o) => o.verdict === v).length}`).join(', ');
  return `${lines.join('\n')}\n\n${outcomes.length} files: ${counts}`;
}

async function parent(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { timeout: { type: 'string', default: '60' }, only: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const dir = positionals[0];
  const timeoutMs = Number(values.timeout) * 1000;
  if (!dir || !(timeoutMs > 0)) {
    console.error('usage: node --import tsx bench/parquet-testing.ts <dir> [--timeout 60] [--only a.parquet,b.parquet] [--json]');
    process.exit(2);
  }
  const only = values.only?.split(',');
  const root = resolve(dir);
  const files = parquetFiles(root).filter((f) => !only || only.includes(basename(f)) || only.includes(relative(root, f)));
  const outcomes: Outcome[] = [];
  let running = startChild();
  for (const file of files) {
    const name = relative(root, file);
    try {
      await running.ready;
    } catch (err) {
      console.error((err as Error).message);
      process.exit(1);
    }
    const o = await runOne(running, file, timeoutMs);
    if ('lost' in o) {
      outcomes.push({ file: name, verdict: o.lost, note: o.note, seconds: timeoutMs / 1000 });
      await forget(running);
      running = startChild();
    } else {
      outcomes.push({ ...o, file: name });
    }
    const last = outcomes[outcomes.length - 1] as Outcome;
    process.stderr.write(`${last.verdict.padEnd(10)} ${name} (${last.seconds.toFixed(1)} s)\n`);
  }
  await running.ready.catch(() => undefined);
  running.proc.send({ end: true });
  await new Promise((r) => running.proc.once('exit', r));
  console.log(values.json ? JSON.stringify(outcomes, null, 2) : table(outcomes));
}

if (process.argv[2] === '--child') await child();
else await parent(process.argv.slice(2));
