/**
 * Parquet and xlsx writers and readers at 1,000,000 narrow rows: time, rows/s and peak RSS per case,
 * each case in its own child process so its peak memory is its own. Compares tableport's modules
 * (hyparquet-writer / hyparquet, tableport's xlsx writer and reader) with DuckDB's node API, on the
 * same generated rows. (exceljs's streaming writer and reader were measured here too while exceljs
 * was a dev dependency: docs/benchmarks.md keeps their figures.)
 *
 *   npm run bench:columnar                                        # every case, 1,000,000 rows, heap capped as the worker's
 *   npm run bench:columnar -- --rows 100000 --cases parquet-write,parquet-read
 *   npm run bench:columnar -- --json
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportColumn } from '../src/formats/columnar-types.js';
import {
  createParquetExportWriter,
  readParquetRows,
  type ParquetCodec,
  type ParquetExportWriterOptions,
} from '../src/formats/parquet/index.js';
import { createXlsxExportWriter, readXlsxRows } from '../src/formats/xlsx/index.js';
import type { FieldSchema } from '../src/types/api.js';
import { copyCsvLines } from '../test/helpers/copy-csv.js';

const FIELDS: FieldSchema[] = [
  { name: 'title', type: 'string' },
  { name: 'qty', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'date' },
  { name: 'tags', type: 'array' },
];
const COLUMNS: ExportColumn[] = [
  { name: 'id', type: 'string' },
  { name: 'created_at', type: 'integer' },
  { name: 'updated_at', type: 'integer' },
  { name: 'created_by', type: 'string' },
  ...FIELDS,
];
const WORDS = ['alpha', 'beta, gamma', 'say "hi"', 'line\nbreak', '中文', 'emoji 🚀', 'plain', ''];

/** The same narrow rows every run (a small LCG), shaped as tableport's JSON export writes them. */
function* rows(n: number): Generator<Record<string, unknown>> {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const t0 = 1_700_000_000;
  for (let i = 0; i < n; i++) {
    const r = next();
    yield {
      id: `r${i.toString(36).padStart(8, '0')}`,
      created_at: t0 + i,
      updated_at: t0 + i,
      created_by: 'user-1',
      title: r % 11 === 0 ? null : `${WORDS[r % WORDS.length]} ${i}`,
      qty: r % 13 === 0 ? null : (r * 7919) % 2 ** 40,
      price: (r % 100000) / 100,
      ok: r % 3 === 0,
      at: new Date((t0 + (r % 10_000_000)) * 1000 + (r % 1000)).toISOString(),
      tags: r % 5 === 0 ? null : ['a', r % 7],
    };
  }
}

/** BENCH_PARQUET_CODEC, BENCH_PARQUET_GROUP_ROWS, BENCH_PARQUET_STATS=0: the writer's options, for comparing them. */
function parquetTuning(): Partial<ParquetExportWriterOptions> {
  const env = process.env;
  return {
    ...(env.BENCH_PARQUET_CODEC ? { codec: env.BENCH_PARQUET_CODEC as ParquetCodec } : {}),
    ...(env.BENCH_PARQUET_GROUP_ROWS ? { rowGroupRows: Number(env.BENCH_PARQUET_GROUP_ROWS) } : {}),
    ...(env.BENCH_PARQUET_STATS === '0' ? { statistics: false } : {}),
  };
}

type Case = (n: number, dir: string) => Promise<{ rows: number; bytes?: number }>;

const CASES: Record<string, Case> = {
  async 'parquet-write'(n, dir) {
    const file = join(dir, 'rows.parquet');
    await pipeline(
      Readable.from(rows(n)),
      createParquetExportWriter({ tableName: 'bench', fields: FIELDS, columns: COLUMNS, ...parquetTuning() }),
      createWriteStream(file),
    );
    return { rows: n, bytes: (await stat(file)).size };
  },
  async 'parquet-read'(_n, dir) {
    let count = 0;
    for await (const r of readParquetRows(join(dir, 'rows.parquet'))) if (r.row.id !== undefined) count++;
    return { rows: count };
  },
  async 'duckdb-parquet-write'(n, dir) {
    const { DuckDBInstance, DuckDBTimestampValue } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    await con.run(
      'CREATE TABLE t (id VARCHAR, created_at BIGINT, updated_at BIGINT, created_by VARCHAR, title VARCHAR, qty BIGINT, price DOUBLE, ok BOOLEAN, "at" TIMESTAMP, tags VARCHAR)',
    );
    const app = await con.createAppender('t');
    for (const r of rows(n)) {
      app.appendVarchar(r.id as string);
      app.appendBigInt(BigInt(r.created_at as number));
      app.appendBigInt(BigInt(r.updated_at as number));
      app.appendVarchar(r.created_by as string);
      if (r.title === null) app.appendNull();
      else app.appendVarchar(r.title as string);
      if (r.qty === null) app.appendNull();
      else app.appendBigInt(BigInt(r.qty as number));
      app.appendDouble(r.price as number);
      app.appendBoolean(r.ok as boolean);
      app.appendTimestamp(new DuckDBTimestampValue(BigInt(Date.parse(r.at as string)) * 1000n));
      if (r.tags === null) app.appendNull();
      else app.appendVarchar(JSON.stringify(r.tags));
      app.endRow();
    }
    app.closeSync();
    const file = join(dir, 'duck.parquet');
    await con.run(`COPY t TO '${file}' (FORMAT PARQUET, COMPRESSION snappy)`);
    con.closeSync();
    return { rows: n, bytes: (await stat(file)).size };
  },
  async 'duckdb-parquet-read'(_n, dir) {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    const result = await con.stream(`SELECT * FROM read_parquet('${join(dir, 'rows.parquet')}')`);
    let count = 0;
    for await (const chunk of result.yieldRowObjectJs()) count += chunk.length;
    con.closeSync();
    return { rows: count };
  },
  async 'xlsx-write'(n, dir) {
    // The writer takes what the export gives it: PostgreSQL's CSV of the rows.
    const file = join(dir, 'rows.xlsx');
    await pipeline(
      Readable.from(copyCsvLines(rows(n), COLUMNS)),
      createXlsxExportWriter({ tableName: 'bench', columns: COLUMNS }),
      createWriteStream(file),
    );
    return { rows: n, bytes: (await stat(file)).size };
  },
  async 'xlsx-read'(_n, dir) {
    let count = 0;
    for await (const r of readXlsxRows(join(dir, 'rows.xlsx'))) if (r.row.id !== undefined) count++;
    return { rows: count };
  },
};
const ORDER = Object.keys(CASES);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function child(name: string, n: number, dir: string): Promise<void> {
  const run = CASES[name];
  if (!run) throw new Error(`unknown case ${name}`);
  const t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const r = await run(n, dir);
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ case: name, ...r, seconds, cpuSeconds, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
  );
}

async function main(): Promise<void> {
  const n = Number(arg('rows') ?? 1_000_000);
  const only = arg('case');
  if (only) return child(only, n, arg('dir') ?? tmpdir());
  const cases = (arg('cases') ?? ORDER.join(',')).split(',');
  const dir = await mkdtemp(join(tmpdir(), 'tableport-columnar-bench-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const name of ORDER.filter((c) => cases.includes(c))) {
      process.stderr.write(`${name} × ${n}…\n`);
      const res = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          ...process.execArgv.filter((a) => a.startsWith('--max-old')),
          process.argv[1] as string,
          '--case',
          name,
          '--rows',
          String(n),
          '--dir',
          dir,
        ],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const line = res.stdout.trim().split('\n').pop() ?? '';
      if (res.status !== 0 || !line.startsWith('{')) {
        results.push({ case: name, failed: `exit ${res.status ?? res.signal}` });
        continue;
      }
      results.push(JSON.parse(line) as Record<string, unknown>);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  console.log('| case | rows | s | rows/s | CPU s | peak RSS MB | file MB |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    if ('failed' in r) {
      console.log(`| ${String(r.case)} | failed (${String(r.failed)}) | | | | | |`);
      continue;
    }
    const s = r.seconds as number;
    const rowsN = r.rows as number;
    const mb = typeof r.bytes === 'number' ? (r.bytes / 1e6).toFixed(1) : '';
    const cpu = (r.cpuSeconds as number).toFixed(2);
    console.log(`| ${String(r.case)} | ${rowsN} | ${s.toFixed(2)} | ${Math.round(rowsN / s)} | ${cpu} | ${String(r.peakRssMb)} | ${mb} |`);
  }
}

await main();
