/** The figures one run produces, as `--json` prints them and the table shows them. */

export const JOB_KINDS = [
  'import-csv',
  'import-json',
  'import-ndjson',
  'export-csv',
  'export-csv-window',
  'export-json',
  'export-ndjson',
  'export-csv-where',
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The size issue 4's ratio targets are set at. */
export const TARGET_ROWS = 1_000_000;

/** Issue 12's targets (tighter than issue 4's): the service's wall time over psql's, at 1,000,000 rows, wide and narrow. */
export const RATIO_TARGETS: Record<JobKind, number> = {
  'import-csv': 1.8,
  'import-json': 2.2,
  'export-csv': 1.3,
  'export-csv-window': 1.3,
  'export-json': 1.5,
  'import-ndjson': 2.2,
  'export-ndjson': 1.5,
  // Issue 8: a `where` selecting half of the table.
  'export-csv-where': 1.5,
};
export const WORKER_PEAK_MAX_MB = 200;
export const WORKER_PEAK_GROWTH_MAX_MB = 32;
export const MAIL_LATENCY_MAX_S = 2;

export interface JobFigure {
  kind: JobKind;
  rows: number;
  /** HTTP request to a poll seeing the job succeed. */
  service_s: number;
  rows_per_s: number;
  /** Imports: the upload, request to the 201. */
  upload_s?: number;
  /** Worker CPU (user + system) spent during the job. */
  worker_cpu_s: number;
  worker_peak_mb: number;
  api_peak_mb: number;
  psql_s: number;
  /** The psql command the ratio is against. */
  psql_what: string;
  ratio: number;
  /** Mail arrival minus the last moment the job was seen not done (an upper bound). */
  mail_s: number | null;
  /** Mail arrival minus the job's `finished_at` (whole seconds, so up to 1 s high). */
  mail_after_finished_at_s: number | null;
  /** What was compared to be sure the job did the work right. */
  check: string;
  check_ok: boolean;
}

export interface SizeResult {
  rows: number;
  /** The rows' shape: `wide` (issue 4's rows) or `narrow` (issue 12's). */
  shape: 'wide' | 'narrow';
  csv_mb: number;
  json_mb: number;
  generate_s: number;
  worker_rss_before_mb: number;
  jobs: JobFigure[];
}

/** Issue 12: N exports of N tables at once through the service, against psql's N `\copy`s 2 at a time. */
export interface ConcurrentFigure {
  tables: number;
  rows_each: number;
  /** From the first POST to the last job seen succeeded. */
  service_s: number;
  psql_s: number;
  ratio: number;
  check: string;
  check_ok: boolean;
}
export const CONCURRENT_RATIO_MAX = 1.5;

export interface LoadFigure {
  name: string;
  requests: number;
  seconds: number;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  status_counts: Record<string, number>;
  errors: number;
  note?: string;
}

export interface UploadFigure {
  mb: number;
  rows: number;
  seconds: number;
  mb_per_s: number;
  api_peak_mb: number;
  api_rss_before_mb: number;
  import_job_s: number | null;
}

export interface TargetCheck {
  target: string;
  figure: string;
  met: boolean | null;
}

export interface BenchResult {
  machine: { cpus: number; cpu_model: string; memory_gb: number; node: string; postgres: string; os: string };
  /** 1-minute load average at the start and the end: other work on the machine skews every figure. */
  load_average: { start: number; end: number };
  seed: number;
  started_at: string;
  seconds: number;
  sizes: SizeResult[];
  concurrent?: ConcurrentFigure;
  /** Issue 11: a bundle of several tables exported and imported (null when skipped). */
  bundle?: import('./bundle-bench.js').BundleFigure | null;
  load: {
    job_creation?: LoadFigure;
    refusal?: LoadFigure;
    refusal_full_table?: LoadFigure;
    drain?: { jobs: number; seconds: number; mails: number };
    upload?: UploadFigure;
  } | null;
  targets: TargetCheck[];
  /** Issue 12: the RSS of an idle `npm start`, when run. */
  idle?: import('./idle-rss.js').IdleFigure;
  /** The largest table exported to S3 (s3rver) with `destination`, when run. */
  s3_export?: import('./location-bench.js').S3ExportFigure;
}
