/** `--wait`: follow a job to its end with a progress display, then print the outcome. */
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { constants } from 'node:fs';
import type { Job, JobHandle, TablePort } from '../sdk/index.js';
import { UsageError } from './client.js';
import { line, printJson, time } from './output.js';
import { progressReporter } from './progress.js';

export interface WaitFlags {
  json?: boolean;
  /** Where to download a finished export (a file, or a directory to keep the server's name). */
  out?: string;
  /** Seconds to wait at most. */
  timeout?: number;
}

/** Fails as bad usage, before anything is queued, when `--out` cannot be written. */
export async function checkOut(out: string | undefined): Promise<void> {
  if (!out) return;
  const isDir = await stat(out).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const dir = isDir ? out : dirname(out);
  await access(dir, constants.W_OK).catch(() => {
    throw new UsageError(`Cannot write to ${out}: ${dir} does not exist or is not writable.`);
  });
}

/**
 * Waits for a job, showing progress; prints the finished job (and downloads it with `--out`).
 * A failed job or a timeout is thrown for `main` to report (exit 1 or 5).
 */
export async function waitAndReport(tp: TablePort, job: JobHandle, flags: WaitFlags): Promise<void> {
  const progress = progressReporter(job.id);
  let done: Job;
  try {
    done = await job.wait({
      onProgress: (j) => progress.update(j),
      ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout * 1000 } : {}),
    });
  } finally {
    progress.stop();
  }
  let download: { path: string; bytes: number } | undefined;
  if (flags.out) {
    const saved = await tp.job(job.id).download(flags.out);
    download = { path: saved.path, bytes: saved.bytes };
  }
  if (flags.json) {
    printJson(download ? { ...done, download } : done);
    return;
  }
  if (done.type === 'export' || done.type === 'bundle_export') {
    line(`Export job ${done.id} succeeded: ${done.rows} rows (${done.file_type}), finished ${time(done.finished_at)}.`);
    if (download) line(`Saved to ${download.path} (${download.bytes} bytes).`);
    else if (done.file_url) line(`Download link: ${done.file_url}`);
    if (done.destination_url) line(`Written to ${done.destination_url}`);
  } else if (done.type === 'undo') {
    line(
      `Undo job ${done.id} succeeded: import ${done.undo_of ?? '?'} undone in table ${done.table_id}: ${done.deleted ?? 0} rows it inserted deleted, ${done.restored ?? 0} rows it updated restored.`,
    );
  } else if (done.type === 'bundle_import') {
    line(`Bundle import job ${done.id} succeeded: ${done.rows} rows written; see each table with: tableport getstatus import`);
  } else {
    // The counts only when some row met an existing one (on_conflict): otherwise every row was inserted.
    const met = (done.updated ?? 0) + (done.skipped ?? 0) > 0;
    const counts = met ? ` (${done.inserted ?? 0} inserted, ${done.updated ?? 0} updated, ${done.skipped ?? 0} skipped)` : '';
    line(
      `Import job ${done.id} succeeded: ${done.rows} rows written to table ${done.table_id}${done.source_url ? ` from ${done.source_url}` : ''}${counts}.`,
    );
  }
}
