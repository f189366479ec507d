/** How client commands print: JSON for machines, aligned text for people. */
import type { Job, Table } from '../sdk/index.js';
import { jobErrorWhere } from '../types/job-errors.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function warn(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Columns padded to their widest cell. */
export function printTable(head: string[], rows: Array<Array<string | number>>): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells)
    line(
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
}

/** Unix seconds as `2024-05-01 12:00:00Z`. */
export function time(seconds: number | null | undefined): string {
  if (seconds == null) return '-';
  return new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function describeTable(t: Table): void {
  line(`Table ${t.id}: ${t.name}`);
  line(`  rows:     ${t.row_count}`);
  line(`  created:  ${time(t.created_at)}`);
  line(`  updated:  ${time(t.updated_at)}`);
  line('  fields:');
  for (const f of t.schema.fields) line(`    ${f.name}: ${f.type}${f.description ? `  (${f.description})` : ''}`);
}

export function describeJob(j: Job): void {
  line(`Job ${j.id}: ${j.type} of table ${j.table_id}`);
  line(`  status:   ${j.status}${j.status === 'running' ? ` (${j.progress}%)` : ''}`);
  line(`  rows:     ${j.rows}`);
  if (j.inserted !== undefined)
    line(`  ${j.dry_run ? 'would be' : 'rows were'}: ${j.inserted} inserted, ${j.updated ?? 0} updated, ${j.skipped ?? 0} skipped`);
  if (j.undo_of)
    line(`  undoes:   import ${j.undo_of}${j.deleted !== undefined ? ` (${j.deleted} rows deleted, ${j.restored ?? 0} restored)` : ''}`);
  if (j.undone_by) line(`  undone:   by job ${j.undone_by}`);
  if (j.file_type) line(`  file:     ${j.file_name ?? '-'} (${j.file_type})`);
  if (j.file_url) line(`  download: ${j.file_url}`);
  if (j.destination_url) line(`  written:  ${j.destination_url}`);
  if (j.source_url) line(`  source:   ${j.source_url}`);
  line(`  created:  ${time(j.created_at)}`);
  line(`  finished: ${time(j.finished_at)}`);
  if (j.errors.length) {
    line('  errors:');
    for (const e of j.errors) line(`    ${formatJobError(e)}`);
  }
  if (j.preview) describePreview(j.preview);
}

/** A dry run's preview: how each field is filled, then the first rows as they would be stored. */
function describePreview(p: NonNullable<Job['preview']>): void {
  const f = p.file;
  const how = [
    f.format,
    f.gzip ? 'gzip' : '',
    f.csv_delimiter ? `delimiter ${JSON.stringify(f.csv_delimiter)}` : '',
    f.encoding ?? '',
    f.sheet !== undefined ? `sheet ${f.sheet}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  line(`  read as:  ${how}`);
  line('  columns:');
  for (const c of p.columns) line(`    ${c.field} (${c.type}) ← ${c.source === null ? 'not in the file' : JSON.stringify(c.source)}`);
  if (p.dropped?.length) line(`  dropped:  ${p.dropped.map((d) => JSON.stringify(d)).join(', ')}`);
  if (p.rows.length === 0) return;
  const names = p.columns.map((c) => c.field);
  line(`  first ${p.rows.length} rows as they would be stored:`);
  printTable(
    names,
    p.rows.map((r) =>
      names.map((n) => (r[n] === null || r[n] === undefined ? '' : typeof r[n] === 'object' ? JSON.stringify(r[n]) : String(r[n]))),
    ),
  );
}

export function formatJobError(e: Job['errors'][number]): string {
  const where = jobErrorWhere(e);
  return `${where ? `${where}: ` : ''}${e.error_msg} (${e.error_code})`;
}
