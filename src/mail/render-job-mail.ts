/**
 * The email a user gets when an export or import ends: four outcomes, in English or Simplified
 * Chinese, as a subject, a plain-text part and an HTML part holding the same facts.
 */
import type { FileType, JobError, JobType } from '../types/api.js';
import { jobErrorWhere, jobProblems } from '../types/job-errors.js';
import { code, p, renderHtml, renderText } from './templates/blocks.js';
import type { JobMailFacts, MailCopy, MailJobError } from './templates/copy.js';
import { en } from './templates/en.js';
import { formatNumber, formatRelative, formatUtc, oneLine, resolveLocale, type MailLocale } from './templates/format.js';
import { zhCN } from './templates/zh-cn.js';

export { resolveLocale, type MailLocale } from './templates/format.js';

/** At most this many errors are listed in a mail; the job holds them all. */
export const MAIL_ERROR_LIMIT = 20;

export interface JobMailInput {
  /** The user's locale; anything but Chinese gets English. */
  locale?: string | null;
  userName?: string | null;
  tableName: string;
  /** `null` for a bundle job. */
  tableId: number | null;
  jobId: string;
  type: JobType;
  outcome: 'succeeded' | 'failed';
  /** Rows exported, or written by an import. */
  rows: number;
  fileType?: FileType | string | null;
  fileName?: string | null;
  /** The signed link of a succeeded export. */
  downloadUrl?: string | null;
  expiresAt?: Date | null;
  errors?: JobError[];
  /** Errors in all, when `errors` holds only the first ones. */
  errorCount?: number | null;
  /** PUBLIC_URL. */
  publicUrl: string;
  /** An import that only validated its file. */
  dryRun?: boolean;
  /** The time the relative expiry is counted from; now by default. */
  now?: Date;
  /** An export's destination object or an import's source (a location URL; never a credential). */
  location?: string | null;
}

/** The line naming a task's location, put after a mail's opening paragraph. */
const LOCATION_LEAD: Record<MailLocale, Record<JobType, string>> = {
  // An undo reads and writes no location (and sends no mail); the line is there for the type's sake.
  en: { export: 'Written to: ', import: 'Read from: ', bundle_export: 'Written to: ', bundle_import: 'Read from: ', undo: 'Read from: ' },
  'zh-CN': { export: '写入位置：', import: '读取位置：', bundle_export: '写入位置：', bundle_import: '读取位置：', undo: '读取位置：' },
};

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const COPY: Record<MailLocale, MailCopy> = { en, 'zh-CN': zhCN };

export function renderJobMail(input: JobMailInput): RenderedMail {
  const f = facts(input);
  const copy = COPY[f.locale];
  const content =
    input.type === 'export' || input.type === 'bundle_export'
      ? input.outcome === 'succeeded'
        ? copy.exportSucceeded(f)
        : copy.exportFailed(f)
      : input.outcome === 'succeeded'
        ? copy.importSucceeded(f)
        : copy.importFailed(f);
  const blocks = input.location
    ? [...content.blocks.slice(0, 2), p(LOCATION_LEAD[f.locale][input.type], code(input.location)), ...content.blocks.slice(2)]
    : content.blocks;
  return {
    subject: content.subject,
    text: renderText(blocks),
    html: renderHtml(blocks, { lang: f.locale, title: content.subject }),
  };
}

function facts(input: JobMailInput): JobMailFacts {
  const locale = resolveLocale(input.locale);
  const publicUrl = input.publicUrl.replace(/\/+$/, '');
  // The summary line that ends an import's list is said by the mail's own sentence.
  const errors = jobProblems(input.errors ?? []);
  const listed = errors.slice(0, MAIL_ERROR_LIMIT);
  const totalErrors = Math.max(input.errorCount ?? 0, errors.length);
  const moreErrors = totalErrors - listed.length;
  const expiresAt = input.expiresAt && !Number.isNaN(input.expiresAt.getTime()) ? input.expiresAt : null;
  return {
    locale,
    userName: input.userName?.trim() ? oneLine(input.userName, 80) : null,
    tableName: input.tableName,
    tableNameOneLine: oneLine(input.tableName),
    tableId: input.tableId,
    jobId: input.jobId,
    type: input.type,
    rows: formatNumber(input.rows, locale),
    rowCount: input.rows,
    fileType: input.fileType ? String(input.fileType).toUpperCase() : null,
    fileName: input.fileName ?? null,
    downloadUrl: input.downloadUrl ?? null,
    expiresAt: expiresAt ? formatUtc(expiresAt, locale) : null,
    expiresIn: expiresAt ? formatRelative(expiresAt, input.now ?? new Date(), locale) : null,
    errors: listed.map((e) => mailError(e, locale)),
    totalErrors,
    totalErrorsText: formatNumber(totalErrors, locale),
    moreErrors,
    moreErrorsText: formatNumber(moreErrors, locale),
    jobUrl: `${publicUrl}/oserve/v1/jobs/${encodeURIComponent(input.jobId)}`,
    dryRun: input.dryRun ?? false,
    publicUrl,
  };
}

function mailError(e: JobError, locale: MailLocale): MailJobError {
  // A message that says where it is ("line 2, score: ...") is shown as it is, not after "Line 2, field score".
  const says = e.error_msg !== '' && jobErrorWhere(e) === undefined;
  return {
    code: e.error_code,
    // A message may quote a cell of the file; a long one would bury the rest of the list.
    message: oneLine(e.error_msg || e.error_code, 300),
    line: !says && typeof e.line === 'number' ? formatNumber(e.line, locale) : null,
    field: !says && e.field ? oneLine(e.field, 80) : null,
  };
}
