/**
 * One error model for the whole service: a stable `error_code`, an HTTP status, and a sentence a
 * person understands. Anything that is not an AppError becomes a 500 without internals.
 */
import type { ErrorCode, ErrorResponse } from './types/api.js';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toResponse(): ErrorResponse {
    const body: ErrorResponse = { error_code: this.code, error_msg: this.message };
    if (this.details) body.details = this.details;
    return body;
  }
}

export class InvalidParameterError extends AppError {
  override name = 'InvalidParameterError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super('invalid_parameter', 400, message);
  }
  override toResponse(): ErrorResponse {
    return { ...super.toResponse(), parameter: this.parameter };
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  constructor(message = 'Not found.') {
    super('not_found', 404, message);
  }
}

export class UnauthorizedError extends AppError {
  override name = 'UnauthorizedError';
  constructor(message = 'A valid API token is required: send "Authorization: Bearer TOKEN".') {
    super('unauthorized', 401, message);
  }
}

export class TooFrequentError extends AppError {
  override name = 'TooFrequentError';
  constructor(
    readonly retryAfterSeconds: number,
    kind: string,
  ) {
    super('too_frequent', 400, `An ${kind} task was created for this table less than a minute ago; try again in ${retryAfterSeconds} s.`);
  }
  override toResponse(): ErrorResponse {
    return { ...super.toResponse(), retry_after: this.retryAfterSeconds };
  }
}

export class TooManyRowsError extends AppError {
  override name = 'TooManyRowsError';
  constructor(limit: number, rows?: number, what = 'The selected rows') {
    super(
      'too_many_rows',
      400,
      rows === undefined ? `${what} number more than the limit of ${limit}.` : `${what} number ${rows}, more than the limit of ${limit}.`,
      rows === undefined ? { limit } : { limit, rows },
    );
  }
}

export class InvalidFileError extends AppError {
  override name = 'InvalidFileError';
  constructor(message: string, details?: Record<string, unknown>) {
    super('invalid_file', 400, message, details);
  }
}

export class FileTooLargeError extends AppError {
  override name = 'FileTooLargeError';
  constructor(limitBytes: number) {
    super('file_too_large', 413, `The file is larger than the limit of ${limitBytes} bytes.`, { limit: limitBytes });
  }
}

/** A dependency (PostgreSQL, Redis) is unreachable or too slow: the client may retry later. */
export class ServiceUnavailableError extends AppError {
  override name = 'ServiceUnavailableError';
  constructor(
    readonly retryAfterSeconds = 5,
    message = 'The service cannot reach one of its dependencies right now; please try again shortly.',
  ) {
    super('service_unavailable', 503, message);
  }
}

/** Too many large requests are being handled at once; the client may retry shortly. */
export class ServerBusyError extends ServiceUnavailableError {
  override name = 'ServerBusyError';
  constructor(retryAfterSeconds = 2) {
    super(retryAfterSeconds, 'The server is busy with other large requests; please try again in a few seconds.');
  }
}

/** A request body (as sent or once inflated) over the configured limit. */
export class PayloadTooLargeError extends AppError {
  override name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(
      'payload_too_large',
      413,
      `The request body is larger than the limit of ${limitBytes} bytes (after decompression); send fewer rows per request or import a file.`,
      { limit: limitBytes },
    );
  }
}

/** A JSON body nested deeper than the configured limit. */
export class JsonTooDeepError extends AppError {
  override name = 'JsonTooDeepError';
  constructor(maxDepth: number) {
    super('invalid_parameter', 400, `The request body is nested more than ${maxDepth} levels deep.`, { max_depth: maxDepth });
  }
  override toResponse(): ErrorResponse {
    return { ...super.toResponse(), parameter: 'body' };
  }
}

/** The disk (or the storage) is full: nothing the client did wrong, but nothing a quick retry fixes. */
export class InsufficientStorageError extends AppError {
  override name = 'InsufficientStorageError';
  constructor() {
    super('insufficient_storage', 507, 'The server has no space left to store the upload; please try again later.');
  }
}

/** The table is locked by a running import or export; deleting it now would block every reader. */
export class TableBusyError extends AppError {
  override name = 'TableBusyError';
  constructor(tableId: number) {
    super('table_busy', 409, `Table ${tableId} is in use by a running import or export; try again when it has finished.`);
  }
}

/** The upload itself is malformed (not multipart, cut short, compressed, a bad file name). */
export class InvalidUploadError extends AppError {
  override name = 'InvalidUploadError';
  constructor(message: string) {
    super('invalid_upload', 400, message);
  }
}

/** An export file whose table has been deleted is no longer served. */
export class TableDeletedError extends AppError {
  override name = 'TableDeletedError';
  constructor(message: string) {
    super('table_deleted', 410, message);
  }
}

/** One row of an import file cannot be taken (too large a cell or row); the file's line, and the field when known. */
export class InvalidRowError extends AppError {
  override name = 'InvalidRowError';
  constructor(
    readonly line: number,
    readonly field: string | undefined,
    message: string,
  ) {
    super(
      'invalid_row',
      400,
      `line ${line}: ${field === undefined ? '' : `field "${field}" `}${message}`,
      field === undefined ? { line } : { line, field },
    );
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/**
 * An outbound request (an import URL, an object store endpoint, a webhook) to an address the
 * service must not reach: loopback, private, link-local (cloud metadata), multicast and the like.
 * The sentence names the host the user gave, never the addresses our DNS answered.
 */
export class OutboundAddressRefusedError extends AppError {
  override name = 'OutboundAddressRefusedError';
  constructor(host: string, reason: string) {
    super('invalid_parameter', 400, `Refusing to connect to ${host}: ${reason}. An operator can allow it with OUTBOUND_ALLOW_HOSTS.`);
  }

  /** The same refusal again, from its sentence: some client libraries keep only an error's message. */
  static isRefusalMessage(message: string): boolean {
    return (
      /^Refusing to connect to .+ An operator can allow it with OUTBOUND_ALLOW_HOSTS\.$/.test(message) ||
      HostNotFoundError.isNotFoundMessage(message)
    );
  }

  static fromMessage(message: string): OutboundAddressRefusedError {
    const e = new OutboundAddressRefusedError('', '');
    e.message = message;
    return e;
  }
}

/**
 * A host name that does not resolve: no allow-list changes that, so the sentence suggests none and
 * says what to check instead.
 */
export class HostNotFoundError extends OutboundAddressRefusedError {
  override name = 'HostNotFoundError';
  constructor(host: string) {
    super(host, '');
    this.message = `Cannot connect to ${host}: the host name does not resolve; check the host in the URL (or this server's DNS).`;
  }

  static isNotFoundMessage(message: string): boolean {
    return /^Cannot connect to .+: the host name does not resolve; check the host in the URL \(or this server's DNS\)\.$/.test(message);
  }
}

/** A location URL or its connection options that cannot be used; names the parameter. */
export class InvalidLocationError extends InvalidParameterError {
  override name = 'InvalidLocationError';
}

/** The object (or every object under a prefix) a location names does not exist. */
export class LocationNotFoundError extends AppError {
  override name = 'LocationNotFoundError';
  constructor(url: string) {
    super('not_found', 404, `Nothing was found at ${url}.`);
  }
}

/** The store refused the credentials or the permission; the sentence never holds a secret. */
export class LocationAccessDeniedError extends InvalidParameterError {
  override name = 'LocationAccessDeniedError';
  constructor(url: string, detail?: string) {
    super(
      'connection',
      `The store refused access to ${url}${detail ? ` (${detail})` : ''}: check the connection's credentials and permissions.`,
    );
  }
}

/** The store could not be reached or failed; worth a retry. */
export class LocationUnavailableError extends AppError {
  override name = 'LocationUnavailableError';
  constructor(url: string, detail: string) {
    super('service_unavailable', 503, `The store at ${url} could not be used: ${detail}.`);
  }
}

/** A SQL statement that does not parse; says where (1-based line and column) and what was expected. */
export class SqlSyntaxError extends AppError {
  override name = 'SqlSyntaxError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly offset: number,
    readonly expected: string[],
  ) {
    super('invalid_parameter', 400, `${message} (line ${line}, column ${column}).`, { line, column, offset, expected });
  }
  override toResponse(): ErrorResponse {
    return { ...super.toResponse(), parameter: 'sql' };
  }
}

/** A second bundle export or import by the same user within the minute (the limit is per user, not per table). */
export class BundleTooFrequentError extends TooFrequentError {
  override name = 'BundleTooFrequentError';
  constructor(retryAfterSeconds: number, kind: 'bundle export' | 'bundle import') {
    super(retryAfterSeconds, kind);
    this.message = `You started a ${kind} less than a minute ago; try again in ${retryAfterSeconds} s.`;
  }
}

/**
 * A bundle import that did not happen: some tables failed (`tables` says why, per table; `""` for
 * the tables that were fine) and every change was rolled back.
 */
export class BundleImportFailedError extends AppError {
  override name = 'BundleImportFailedError';
  constructor(
    readonly tables: Record<string, string>,
    /** The problems, each naming its table (the job's `errors`). */
    readonly rowErrors: Array<{ error_code: string; error_msg: string; line?: number; field?: string; table?: string }>,
    readonly errorCount: number,
    summary?: string,
  ) {
    const failed = Object.keys(tables).filter((t) => tables[t]);
    super(
      'invalid_file',
      400,
      summary ??
        (failed.length
          ? `The bundle was not imported: ${failed.length === 1 ? 'table' : 'tables'} ${failed.map((t) => `"${t}"`).join(', ')} could not be imported, so no table was changed.`
          : 'The bundle was not imported; no table was changed.'),
    );
  }
}

/** Cancel of a job that already ended. */
export class JobNotCancellableError extends AppError {
  override name = 'JobNotCancellableError';
  constructor(jobId: string, status: string) {
    super('job_not_cancellable', 409, `Job ${jobId} has already ended (${status}); only a queued or running job can be cancelled.`);
  }
}

/** Retry of a job that did not fail and was not cancelled. */
export class JobNotRetriableError extends AppError {
  override name = 'JobNotRetriableError';
  constructor(jobId: string, status: string, why: 'status' | 'location' | 'bundle' = 'status') {
    super(
      'job_not_retriable',
      409,
      why === 'location'
        ? `Job ${jobId} reads from or writes to a location with its own credentials, which cannot be reused; ask for the export or import again.`
        : why === 'bundle'
          ? `Job ${jobId} is a bundle job, which is not retried; ask for the bundle export or import again.`
          : `Job ${jobId} is ${status}; only a failed or cancelled job can be retried.`,
    );
  }
}

/** `POST /jobs/:id/undo` of a job that cannot be undone (or no longer): the sentence says why. */
export class UndoNotPossibleError extends AppError {
  override name = 'UndoNotPossibleError';
  constructor(jobId: string, why: string, details?: Record<string, unknown>) {
    super('undo_not_possible', 409, `Import ${jobId} cannot be undone: ${why}`, details);
  }
}

/** Retry of an import whose uploaded file is no longer kept. */
export class UploadGoneError extends AppError {
  override name = 'UploadGoneError';
  constructor(jobId: string) {
    super(
      'upload_gone',
      410,
      `The file uploaded for job ${jobId} is no longer kept (it was retried already, or it expired); upload it again.`,
    );
  }
}

/** A job that ran past JOB_TIMEOUT_SECONDS: stopped and rolled back, and not tried again (it would take as long). */
export class JobTimedOutError extends AppError {
  override name = 'JobTimedOutError';
  constructor(seconds: number) {
    super(
      'job_timeout',
      408,
      `The job ran for more than ${seconds} s (JOB_TIMEOUT_SECONDS) and was stopped; nothing was written. ` +
        'Split the work (a smaller selection or file), or ask the operator to raise JOB_TIMEOUT_SECONDS.',
    );
  }
}
