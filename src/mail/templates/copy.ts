/** What a language's templates receive (every value ready to show) and what they return. */
import type { JobType } from '../../types/api.js';
import type { Block } from './blocks.js';
import type { MailLocale } from './format.js';

/** One error as a mail shows it. */
export interface MailJobError {
  code: string;
  message: string;
  /** Formatted line number of the file, for import rows. */
  line: string | null;
  field: string | null;
}

export interface JobMailFacts {
  locale: MailLocale;
  userName: string | null;
  /** As the user wrote it; escaping is the renderer's job. */
  tableName: string;
  /** For the subject: one line, shortened. */
  tableNameOneLine: string;
  tableId: number | null;
  jobId: string;
  type: JobType;
  /** Formatted count of rows exported or written. */
  rows: string;
  rowCount: number;
  /** Upper-case, e.g. `CSV`. */
  fileType: string | null;
  fileName: string | null;
  /** A succeeded export's file, or a failed import's error report (a CSV of the bad rows). */
  downloadUrl: string | null;
  /** Formatted in UTC. */
  expiresAt: string | null;
  /** e.g. `in 7 days`. */
  expiresIn: string | null;
  /** The errors to list (already capped). */
  errors: MailJobError[];
  /** All errors of the job, listed or not. */
  totalErrors: number;
  totalErrorsText: string;
  /** Errors not listed, and that number formatted. */
  moreErrors: number;
  moreErrorsText: string;
  /** `GET` this (with an API token) to see the whole job. */
  jobUrl: string;
  publicUrl: string;
  /** An import that only validated its file (`dry_run`): nothing was written. */
  dryRun: boolean;
}

export interface MailContent {
  subject: string;
  blocks: Block[];
}

/** One language's four mails. */
export interface MailCopy {
  exportSucceeded(f: JobMailFacts): MailContent;
  exportFailed(f: JobMailFacts): MailContent;
  importSucceeded(f: JobMailFacts): MailContent;
  importFailed(f: JobMailFacts): MailContent;
}
