/**
 * The errors the SDK throws. Every one extends {@link TablePortError} and carries a stable
 * `errorCode`; errors the server replied with also carry the HTTP `status` and the server's
 * message, and the common ones have their own class so callers can `instanceof` them.
 *
 * @module
 */
import type { ErrorResponse, Job, JobError } from '../types/api.js';
import { jobErrorWhere, jobProblems } from '../types/job-errors.js';

/** The base of every error the SDK throws. */
export class TablePortError extends Error {
  override name = 'TablePortError';
  /**
   * @param errorCode A stable snake_case code: the server's `error_code`, or one of the SDK's own
   *   (`connection_failed`, `job_failed`, `job_timeout`, `invalid_argument`).
   */
  constructor(
    readonly errorCode: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server answered with an error reply (`{error_code, error_msg}`). */
export class ApiError extends TablePortError {
  override name = 'ApiError';
  /** The HTTP status of the reply. */
  readonly status: number;
  /** The whole error reply as the server sent it (may carry `parameter`, `retry_after`, `details`). */
  readonly body: ErrorResponse;
  constructor(status: number, body: ErrorResponse) {
    super(body.error_code, body.error_msg);
    this.status = status;
    this.body = body;
  }
  /** Further facts the server gave, e.g. `{limit, rows}` for `too_many_rows`. */
  get details(): Record<string, unknown> | undefined {
    return this.body.details;
  }
}

/** `400 invalid_parameter`: the request was wrong; {@link parameter} names what. */
export class InvalidParameterError extends ApiError {
  override name = 'InvalidParameterError';
  /** The request parameter at fault, when the server named one. */
  get parameter(): string | undefined {
    return this.body.parameter;
  }
}

/** `400 too_frequent`: a task of the same kind was created for this table less than 60 s ago. */
export class TooFrequentError extends ApiError {
  override name = 'TooFrequentError';
  /** Seconds to wait before trying again (from `Retry-After` or the reply's `retry_after`). */
  readonly retryAfterSeconds: number;
  constructor(status: number, body: ErrorResponse, retryAfterHeader?: string | null) {
    super(status, body);
    const fromHeader = retryAfterHeader == null ? Number.NaN : Number(retryAfterHeader);
    this.retryAfterSeconds = Number.isFinite(fromHeader) ? fromHeader : (body.retry_after ?? 60);
  }
}

/** `400 too_many_rows`: the selected rows number more than the server's export cap. */
export class TooManyRowsError extends ApiError {
  override name = 'TooManyRowsError';
  /** The server's row cap, when it said. */
  get limit(): number | undefined {
    const v = this.body.details?.limit;
    return typeof v === 'number' ? v : undefined;
  }
  /** How many rows were selected, when the server said. */
  get rows(): number | undefined {
    const v = this.body.details?.rows;
    return typeof v === 'number' ? v : undefined;
  }
}

/** `400 invalid_file`: the upload is not CSV or JSON, is empty or unreadable, or has unknown columns. */
export class InvalidFileError extends ApiError {
  override name = 'InvalidFileError';
}

/** `413 file_too_large`: the upload is bigger than the server accepts. */
export class FileTooLargeError extends ApiError {
  override name = 'FileTooLargeError';
}

/** `404 not_found`: no such table or job, or it belongs to another user. */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}

/** `401 unauthorized`: the token is missing, unknown or revoked. */
export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
}

/** The server could not be reached (refused, reset, DNS, timeout) after the allowed retries. */
export class ConnectionError extends TablePortError {
  override name = 'ConnectionError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super('connection_failed', `Cannot reach ${url}: ${describeCause(cause)}`, { cause });
  }
}

/** A job ended with `status: "failed"` (or `"cancelled"`); {@link errors} holds what the server reported. */
export class JobFailedError extends TablePortError {
  override name = 'JobFailedError';
  constructor(readonly job: Job) {
    super('job_failed', failureMessage(job));
  }
  /** The job's errors: for an import, the rows (file lines) that failed and why. */
  get errors(): JobError[] {
    return this.job.errors;
  }
}

/** `job.wait()` gave up before the job ended; the job itself goes on. */
export class JobTimeoutError extends TablePortError {
  override name = 'JobTimeoutError';
  constructor(
    readonly job: Job,
    readonly timeoutMs: number,
  ) {
    super('job_timeout', `Job ${job.id} was still ${job.status} (${job.progress}%) after ${timeoutMs} ms.`);
  }
}

/** A call was made with arguments the SDK can tell are wrong before asking the server. */
export class InvalidArgumentError extends TablePortError {
  override name = 'InvalidArgumentError';
  constructor(message: string) {
    super('invalid_argument', message);
  }
}

const CLASSES: Record<string, new (status: number, body: ErrorResponse) => ApiError> = {
  invalid_parameter: InvalidParameterError,
  too_many_rows: TooManyRowsError,
  invalid_file: InvalidFileError,
  file_too_large: FileTooLargeError,
  not_found: NotFoundError,
  unauthorized: UnauthorizedError,
};

/** Builds the typed error for an error reply. */
export function errorFromResponse(status: number, body: ErrorResponse, retryAfterHeader?: string | null): ApiError {
  if (body.error_code === 'too_frequent') return new TooFrequentError(status, body, retryAfterHeader);
  const Cls = CLASSES[body.error_code] ?? ApiError;
  return new Cls(status, body);
}

function failureMessage(job: Job): string {
  const first = job.errors[0];
  const kind = job.type === 'undo' ? 'Undo' : job.type.endsWith('import') ? 'Import' : 'Export';
  const head = `${kind} job ${job.id} ${job.status === 'cancelled' ? 'was cancelled' : 'failed'}`;
  if (!first) return `${head}.`;
  const at = jobErrorWhere(first);
  const where = at ? ` (${at})` : '';
  const problems = jobProblems(job.errors).length;
  const more = problems > 1 ? ` (+${problems - 1} more)` : '';
  return `${head}: ${first.error_msg}${where}${more}`;
}

function describeCause(cause: unknown): string {
  // undici's fetch throws `TypeError: fetch failed` with the socket error as its cause.
  let c: unknown = cause;
  while (c instanceof Error && c.cause instanceof Error) c = c.cause;
  if (c instanceof Error) {
    const code = (c as NodeJS.ErrnoException).code;
    return code && !c.message.includes(code) ? `${code} ${c.message}` : c.message;
  }
  return String(c);
}
