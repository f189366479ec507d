// The console's only door to the server: the public REST API with the token from sessionStorage.
// The token never goes into a URL; it rides in the Authorization header of same-origin requests.

const BASE = '/oserve/v1';
const TOKEN_KEY = 'tableport.token';

// The API's own types (src/types/api.ts, which the SDK publishes): the console reads the same replies.
import type { FieldSchema, Job, JobCreatedResponse, Page, Schedule, Table, TableSchema } from '../../src/types/api.js';

export type { FieldType, ImportPreview, Job, JobError, Page, Schedule, Table } from '../../src/types/api.js';
export { JOB_STATUSES, JOB_TYPES } from '../../src/types/api.js';
export type Field = FieldSchema;
export type Schema = TableSchema;
export type JobCreated = JobCreatedResponse;
export type Row = Record<string, unknown>;
export interface JobFilter {
  status?: string;
  type?: string;
  table_id?: number;
}
export interface ScheduleCreate {
  table_id: number;
  every?: string;
  cron?: string;
  timezone?: string;
  mode: 'all' | 'changes';
  export: Record<string, unknown>;
}
/** `PATCH /schedules/:id`: only what changes (`every` and `cron` replace each other). */
export interface ScheduleChange {
  every?: string;
  cron?: string;
  timezone?: string;
  mode?: 'all' | 'changes';
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
  updateSchedule: (id: string, body: ScheduleChange) => request<Schedule>('PATCH', `/schedules/${id}`, body),
  pauseSchedule: (id: string) => request<Schedule>('POST', `/schedules/${id}/pause`),
  resumeSchedule: (id: string) => request<Schedule>('POST', `/schedules/${id}/resume`),
  deleteSchedule: (id: string) => request<void>('DELETE', `/schedules/${id}`),
  scheduleRuns: (id: string, offset = 0, limit = 20) => request<Page<Job>>('GET', `/schedules/${id}/runs${q({ limit, offset })}`),
  undo: (id: string) => request<JobCreated>('POST', `/jobs/${id}/undo`),
};

export { FIELD_TYPES } from '../../src/types/api.js';
export const isFinished = (j: Job): boolean => j.status === 'succeeded' || j.status === 'failed' || j.status === 'cancelled';
