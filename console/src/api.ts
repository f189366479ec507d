// The console's only door to the server: the public REST API with the token from sessionStorage.
// The token never goes into a URL; it rides in the Authorization header of same-origin requests.

const BASE = '/oserve/v1';
const TOKEN_KEY = 'tableport.token';

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'array' | 'object';
export interface Field {
  name: string;
  type: FieldType;
}
export interface Schema {
  fields: Field[];
}
export interface Table {
  id: number;
  name: string;
  schema: Schema;
  row_count: number;
  created_at: number;
}
export type Row = Record<string, unknown>;
export interface Page<T> {
  meta: { limit: number; offset: number; total_count: number; next: string | null; previous: string | null };
  objects: T[];
}
export interface JobError {
  error_code: string;
  error_msg: string;
  line?: number;
  field?: string;
}
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const JOB_TYPES = ['export', 'import', 'bundle_export', 'bundle_import', 'undo'] as const;
export interface Job {
  id: string;
  type: (typeof JOB_TYPES)[number] | string;
  /** `null` for a bundle job, which spans tables. */
  table_id: number | null;
  /** The table's name when the job was asked for (a bundle job: an English description, not shown). */
  table_name?: string;
  /** A bundle export's tables. */
  tables?: string[];
  status: (typeof JOB_STATUSES)[number] | string;
  progress: number;
  rows: number;
  file_url: string | null;
  file_type: string | null;
  file_name: string | null;
  errors: JobError[];
  dry_run?: boolean;
  error_report_url?: string | null;
  inferred_schema?: Schema;
  created_at: number;
  started_at?: number | null;
  finished_at: number | null;
  mail_status?: 'pending' | 'sent' | 'outbox' | null;
  destination_url?: string;
  source_url?: string;
  /** An import's counts: rows added, rows replaced, rows of the file left out. */
  inserted?: number;
  updated?: number;
  skipped?: number;
  /** An undo job: the import it undoes, and what it did. */
  undo_of?: string;
  deleted?: number;
  restored?: number;
  /** An import undone: the undo job. */
  undone_by?: string | null;
  /** A scheduled run: its schedule. */
  schedule_id?: string | null;
  /** A dry run of an import: what it would store. */
  preview?: ImportPreview;
}
export interface ImportPreview {
  /** The first rows (up to 20) as they would be stored. */
  rows: Row[];
  /** Each field the import fills and the file column it comes from (`null`: not in the file). */
  columns: Array<{ field: string; type: FieldType; source: string | null }>;
  /** File columns `mapping` drops. */
  dropped?: string[];
  file: { format: string; gzip: boolean; csv_delimiter?: string };
}
export interface JobFilter {
  status?: string;
  type?: string;
  table_id?: number;
}
export interface JobCreated {
  status: 'ok';
  job_id: string;
  table_id?: number;
}

/** A schedule: an export that runs itself (`/schedules`, docs/schedules.md). */
export interface Schedule {
  id: string;
  table_id: number | null;
  tables: string[] | null;
  every: string | null;
  cron: string | null;
  timezone: string;
  mode: 'all' | 'changes';
  export: Record<string, unknown>;
  paused: boolean;
  watermark_at: number | null;
  last_run_at: number | null;
  next_run_at: number | null;
  last_job_id: string | null;
  last_error: { error_code: string; error_msg: string } | null;
  created_at: number;
  updated_at: number;
}
export interface ScheduleCreate {
  table_id: number;
  every?: string;
  cron?: string;
  timezone?: string;
  mode: 'all' | 'changes';
  export: Record<string, unknown>;
}

/** An error reply of the API: its stable code and the sentence to show. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** Called when the server says the token is no good, so the app can go back to sign-in. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

async function request<T>(method: string, path: string, body?: unknown, tok = token.get()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (tok) headers.authorization = `Bearer ${tok}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${BASE}${path}`, { method, headers, body: payload ?? null });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data ?? {}) as { error_code?: string; error_msg?: string };
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, err.error_code ?? `http_${res.status}`, err.error_msg ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const out = s.toString();
  return out ? `?${out}` : '';
};

export const api = {
  /** Checks a token before keeping it: one cheap authenticated call. */
  check: (tok: string) => request<Page<Table>>('GET', `/table/${q({ limit: 1 })}`, undefined, tok),
  tables: (offset = 0, limit = 100) => request<Page<Table>>('GET', `/table/${q({ limit, offset })}`),
  table: (id: number | string) => request<Table>('GET', `/table/${id}/`),
  createTable: (name: string, schema: Schema) => request<Table>('POST', '/table/', { name, schema }),
  deleteTable: (id: number) => request<void>('DELETE', `/table/${id}/`),
  rows: (id: number, p: { limit: number; offset: number; where?: string; order_by?: string }) =>
    request<Page<Row>>('GET', `/table/${id}/record/${q(p)}`),
  export: (id: number, body: Record<string, unknown>) => request<JobCreated>('POST', `/table/${id}/export/`, body),
  import: (id: number, form: FormData) => request<JobCreated>('POST', `/table/${id}/import/`, form),
  importNew: (form: FormData) => request<JobCreated>('POST', '/table/import/', form),
  jobs: (p: JobFilter & { limit: number; offset: number }) => request<Page<Job>>('GET', `/jobs/${q({ ...p })}`),
  job: (id: string) => request<Job>('GET', `/jobs/${id}`),
  cancel: (id: string) => request<Job>('POST', `/jobs/${id}/cancel`),
  retry: (id: string) => request<JobCreated>('POST', `/jobs/${id}/retry`),
  schedules: (offset = 0, limit = 100) => request<Page<Schedule>>('GET', `/schedules${q({ limit, offset })}`),
  schedule: (id: string) => request<Schedule>('GET', `/schedules/${id}`),
  createSchedule: (body: ScheduleCreate) => request<Schedule>('POST', '/schedules', body),
  pauseSchedule: (id: string) => request<Schedule>('POST', `/schedules/${id}/pause`),
  resumeSchedule: (id: string) => request<Schedule>('POST', `/schedules/${id}/resume`),
  deleteSchedule: (id: string) => request<void>('DELETE', `/schedules/${id}`),
  scheduleRuns: (id: string, offset = 0, limit = 20) => request<Page<Job>>('GET', `/schedules/${id}/runs${q({ limit, offset })}`),
  undo: (id: string) => request<JobCreated>('POST', `/jobs/${id}/undo`),
};

export const FIELD_TYPES: FieldType[] = ['string', 'integer', 'number', 'boolean', 'date', 'array', 'object'];
export const isFinished = (j: Job): boolean => j.status === 'succeeded' || j.status === 'failed' || j.status === 'cancelled';
