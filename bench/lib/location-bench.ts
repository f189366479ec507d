/**
 * An export of the largest table to S3 (s3rver, in its own process on loopback), through the REST
 * endpoint with `destination` and `connection`, as a user would run it: time from the request to
 * the job's success, rows/s, and the worker's peak RSS, which must stay under 256 MB whatever the
 * row count (the object goes up as a multipart upload of bounded parts).
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../test/helpers/ports.js';
import { startS3rver } from '../../test/integration/locations/servers.js';
import type { BenchApi } from './api-client.js';
import type { TargetCheck } from './results.js';
import { WORKER_PEAK_MAX_MB } from './results.js';
import type { RoleProcess } from './service.js';

/** s3rver's port; the service processes need it in OUTBOUND_ALLOW_HOSTS. */
export const S3_BENCH_PORT = await freePort();

export interface S3ExportFigure {
  rows: number;
  file_type: string;
  seconds: number;
  rows_per_s: number;
  worker_peak_mb: number;
  object_mb: number;
  destination_url: string;
}

export async function s3ExportBench(
  ctx: {
    api: BenchApi;
    worker: RoleProcess;
    jobTimeoutMs: number;
    log: (m: string) => void;
    defer: (what: string, fn: () => Promise<unknown>) => void;
  },
  table: { tableId: number; rows: number },
  fileType: string,
): Promise<S3ExportFigure> {
  const endpoint = `http://127.0.0.1:${S3_BENCH_PORT}`;
  const s3 = await startS3rver(S3_BENCH_PORT, ['bench']);
  ctx.defer('s3rver', () => s3.close());
  ctx.log(`\n── export of ${table.rows.toLocaleString('en')} rows to S3 (s3rver at ${endpoint}) as ${fileType} ──`);
  await ctx.worker.memory.reset();
  const body = {
    file_type: fileType,
    mode: 'all',
    destination: 's3://bench/exports/',
    connection: { endpoint_url: endpoint, region: 'us-east-1', access_key_id: 'S3RVER', secret_key: 'S3RVER' },
  };
  const f = await ctx.api.export(table.tableId, body, ctx.jobTimeoutMs);
  const peak = await ctx.worker.memory.peakMb();
  const seconds = (f.doneAt - f.sentAt) / 1000;
  const url = f.job.destination_url ?? '';
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  let size = 0;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: 'bench', Key: url.replace(/^s3:\/\/bench\//, '') }));
    size = head.ContentLength ?? 0;
  } finally {
    client.destroy();
  }
  if (f.job.rows !== table.rows || size === 0)
    throw new Error(`the S3 export wrote ${f.job.rows} rows, ${size} bytes; expected ${table.rows} rows`);
  const fig: S3ExportFigure = {
    rows: f.job.rows,
    file_type: fileType,
    seconds: Math.round(seconds * 100) / 100,
    rows_per_s: Math.round(f.job.rows / seconds),
    worker_peak_mb: Math.round(peak * 10) / 10,
    object_mb: Math.round((size / 2 ** 20) * 10) / 10,
    destination_url: url,
  };
  ctx.log(`s3 export: ${fig.seconds} s, ${fig.rows_per_s} rows/s, worker peak ${fig.worker_peak_mb} MB, object ${fig.object_mb} MB`);
  return fig;
}

export function s3Target(fig: S3ExportFigure): TargetCheck {
  return {
    target: `S3 export of ${fig.rows.toLocaleString('en')} rows: worker peak RSS ≤ ${WORKER_PEAK_MAX_MB} MB`,
    figure: `${fig.worker_peak_mb} MB`,
    met: fig.worker_peak_mb <= WORKER_PEAK_MAX_MB,
  };
}

export function renderS3(fig: S3ExportFigure): string {
  return (
    `S3 export (${fig.file_type}, multipart to s3rver): ${fig.rows.toLocaleString('en')} rows in ${fig.seconds} s = ` +
    `${fig.rows_per_s.toLocaleString('en')} rows/s, worker peak RSS ${fig.worker_peak_mb} MB, object ${fig.object_mb} MB (${fig.destination_url})`
  );
}
