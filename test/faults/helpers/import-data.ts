/** Data for the fault tests: a CSV big enough that an import or export is mid-way for seconds. */
import type { FaultEnv } from './fault-env.js';

export const FIELDS = [
  { name: 'n', type: 'integer' },
  { name: 's', type: 'string' },
];

export function bigCsv(rows: number): Buffer {
  const parts: string[] = ['n,s\n'];
  for (let i = 0; i < rows; i++) parts.push(`${i},"row ${i}, with ""quotes"" and some padding text"\n`);
  return Buffer.from(parts.join(''));
}

/** Uploads `csv` as an import of table `tableId`; returns the job id. */
export async function uploadImport(fe: FaultEnv, token: string, tableId: number, csv: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([csv]), 'big.csv');
  const res = await fetch(`${fe.api.url}/oserve/v1/table/${tableId}/import/`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as { job_id?: string };
  if (res.status !== 201 || !body.job_id) throw new Error(`import: ${res.status} ${JSON.stringify(body)}`);
  return body.job_id;
}

/** Fills a table with `rows` rows straight in SQL (fast), for exports. */
export async function fillTable(fe: FaultEnv, tableId: number, rows: number): Promise<void> {
  await fe.db.query(
    `INSERT INTO tableport_data.t_${tableId} (id, created_at, updated_at, created_by, n, s)
     SELECT 'r' || g, 1000 + g, 1000 + g, '1', g, repeat('x', 40) || g FROM generate_series(1, $1) g`,
    [rows],
  );
}

/** Rows of a table, and how many distinct `n` values: equal when nothing was written twice. */
export async function rowCounts(fe: FaultEnv, tableId: number): Promise<{ n: number; d: number }> {
  const { rows } = await fe.db.query(`SELECT count(*)::int AS n, count(DISTINCT n)::int AS d FROM tableport_data.t_${tableId}`);
  return rows[0] as { n: number; d: number };
}

/** Resolves once some backend runs a COPY into (import) or out of (export) the table. */
export async function waitForCopy(fe: FaultEnv, tableId: number, direction: 'in' | 'out', timeoutMs = 60_000): Promise<void> {
  const pattern = direction === 'in' ? `COPY tableport_data.t_${tableId} %FROM STDIN%` : `COPY (%t_${tableId}%TO STDOUT%`;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await fe.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE $1 AND state = 'active'`,
      [pattern],
    );
    if (rows[0].n > 0) return;
    if (Date.now() > end) throw new Error(`no COPY ${direction} on table ${tableId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
