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
    super(
      'too_frequent',
      400,
      `An ${kind} task was created for this table less than a minute ago; try again in ${retryAfterSeconds} s.`,
    );
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
      rows === undefined
        ? `${what} number more than the limit of ${limit}.`
        : `${what} number ${rows}, more than the limit of ${limit}.`,
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

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
