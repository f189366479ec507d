/**
 * What the tombstones cost on the write path, and what a changes read costs. Two identical data
 * tables in a database of its own, one with the tombstone trigger (as every table has it) and one
 * without; the same deletes on both:
 *   - single deletes, one statement and one transaction each (the records API's DELETE);
 *   - one bulk DELETE of many rows (an import's undo, a script);
 * and a changes run's reads (the ids its watermark keeps, the next run's selection) against a plain count. Inserts and
 * updates fire no trigger: they cost nothing more (a changes run reads each row's xmin).
 *
 *   node --import tsx bench/tombstones.ts [--rows 200000] [--singles 5000]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runMigrations } from '../src/db/migrate.js';
import { createTableSql, dataTable, exportSelect, snapshotXmax, watermarkSeenSql } from '../src/db/table-sql.js';
import { createLogger } from '../src/logger.js';
import { PG_ADMIN_URL, databaseUrlFor } from '../test/helpers/env.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, singles: { type: 'string', default: '5000' } } });
const ROWS = Number(values.rows);
const SINGLES = Number(values.singles);
const name = `tableport_bench_${randomBytes(4).toString('hex')}`;

const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = databaseUrlFor(name);
try {
  await runMigrations(url, createLogger('silent'));
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(`INSERT INTO tableport.users (email) VALUES ('bench@example.com')`);
  const fields = [
    { name: 'title', type: 'string' as const },
    { name: 'n', type: 'integer' as const },
  ];
  for (const id of [1, 2]) {
    await db.query(`INSERT INTO tableport.tables (id, owner_id, name, schema) VALUES ($1, 1, $2, '{"fields": []}')`, [id, `t${id}`]);
    await db.query(createTableSql(id, fields));
  }
  await db.query(`DROP TRIGGER tombstones ON ${dataTable(2)}`);
  const fill = async (id: number) => {
    await db.query(`TRUNCATE ${dataTable(id)}`);
    await db.query(
      `INSERT INTO ${dataTable(id)} (id, created_at, updated_at, title, n)
       SELECT 'r' || lpad(i::text, 9, '0'), 1700000000 + i, 1700000000 + i, 'Order number ' || i, i FROM generate_series(1, $1) i`,
      [ROWS],
    );
    await db.query(`VACUUM ANALYZE ${dataTable(id)}`);
  };
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };

  // Both tables filled, then the same work alternated between them (the machine's load falls on
  // both alike), three rounds, medians reported.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const single: Record<number, number[]> = { 1: [], 2: [] };
  const bulk: Record<number, number[]> = { 1: [], 2: [] };
  const bulkRows = Math.floor(ROWS / 2);
  for (let round = 0; round < 3; round++) {
    await fill(1);
    await fill(2);
    for (let i = 1; i <= SINGLES; i++) {
      for (const id of round % 2 ? [1, 2] : [2, 1]) {
        const key = `r${String(i).padStart(9, '0')}`;
        single[id]?.push(await time(() => db.query(`DELETE FROM ${dataTable(id)} WHERE id = $1`, [key])));
      }
    }
    for (const id of round % 2 ? [1, 2] : [2, 1])
      bulk[id]?.push(await time(() => db.query(`DELETE FROM ${dataTable(id)} WHERE n > $1`, [ROWS - bulkRows])));
  }
  const result: Record<string, Record<string, string>> = {};
  for (const [id, label] of [
    [2, 'without trigger'],
    [1, 'with trigger'],
  ] as const) {
    const b = median(bulk[id] ?? []);
    result[label] = {
      'single DELETE, median (ms)': median(single[id] ?? []).toFixed(3),
      [`bulk DELETE of ${bulkRows} rows, median (ms)`]: b.toFixed(0),
      'bulk (µs per row)': ((b * 1000) / bulkRows).toFixed(2),
    };
  }
  console.table(result);

  // The changes read: every row's xmin against a snapshot, versus a plain count, on a full table.
  await fill(1);
  // A watermark as a run takes it, then 1% of the rows updated, then the next run's selection.
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const snap = (await db.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]?.s ?? '';
  let seenMs = 0;
  let seen = '';
  seenMs = await time(async () => {
    seen = (await db.query<{ seen: string }>(watermarkSeenSql(1, snap))).rows[0]?.seen ?? '';
  });
  await db.query('COMMIT');
  await db.query(`UPDATE ${dataTable(1)} SET n = n + 1 WHERE n % 100 = 0`);
  const plain = await time(() => db.query(`SELECT count(*) FROM ${dataTable(1)}`));
  let changed = 0;
  // As a run reads it: its own snapshot's xmax as the literal the xmin is widened against.
  const now = (await db.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]?.s ?? '';
  const { select } = exportSelect(1, fields, 'json', { changes: { after: `${snap}|${seen}`, ref: snapshotXmax(now) } });
  const changes = await time(async () => {
    const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM (${select}) s`);
    changed = Number(r.rows[0]?.n);
  });
  console.table({
    [`count(*) of ${ROWS} rows (ms)`]: { value: plain.toFixed(0) },
    "the watermark's ids seen, taken by a run (ms)": { value: seenMs.toFixed(0) },
    [`the changes selection after it (${changed} changed), as exported (ms)`]: { value: changes.toFixed(0) },
  });
  const size = await db.query<{ b: string }>(`SELECT pg_total_relation_size('tableport.tombstones') AS b`);
  const count = await db.query<{ n: string }>('SELECT count(*) AS n FROM tableport.tombstones');
  console.log(`tombstones kept: ${count.rows[0]?.n} rows, ${(Number(size.rows[0]?.b) / 1024 / 1024).toFixed(1)} MB with index`);
  await db.end();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
