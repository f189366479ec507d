/** Numbers, dates and durations in the reader's language. */

export type MailLocale = 'en' | 'zh-CN';
export const MAIL_LOCALES: readonly MailLocale[] = ['en', 'zh-CN'];

/** The user's locale as a mail language: any Chinese goes to zh-CN, anything unknown to en. */
export function resolveLocale(locale: string | null | undefined): MailLocale {
  return typeof locale === 'string' && /^zh(?:[-_]|$)/i.test(locale.trim()) ? 'zh-CN' : 'en';
}

export function formatNumber(n: number, locale: MailLocale): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** A date-time in UTC, saying so: `January 8, 2026 at 15:04 UTC`, `2026年1月8日 15:04（UTC）`. */
export function formatUtc(date: Date, locale: MailLocale): string {
  const text = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23', timeZone: 'UTC' }).format(date);
  return locale === 'zh-CN' ? `${text}（UTC）` : `${text} UTC`;
}

/** How far `date` is from `now`, roughly: `in 7 days`, `3小时后`; null once it is past. */
export function formatRelative(date: Date, now: Date, locale: MailLocale): string | null {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  if (seconds <= 0) return null;
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'always' });
  if (seconds >= 36 * 3600) return rtf.format(Math.round(seconds / 86400), 'day');
  if (seconds >= 90 * 60) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.max(1, Math.round(seconds / 60)), 'minute');
}

/** English singular or plural by the number. */
export function plural(n: number, one: string, other: string): string {
  return new Intl.PluralRules('en').select(n) === 'one' ? one : other;
}

/** A user-supplied name fit for a header line: no line breaks or controls, not endless. */
export function oneLine(s: string, max = 120): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: line breaks and controls must not reach a mail header.
  const flat = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
