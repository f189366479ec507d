import type { ComponentChildren } from 'preact';
import { ApiError } from './api';
import { type Key, lang, serverSentence, t } from './i18n';
import { signal } from './signal';

/** A status line: `role=status` for news, `role=alert` for errors (read out at once). */
export function Notice({ kind, children }: { kind: 'ok' | 'error'; children: ComponentChildren }) {
  return (
    <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

/**
 * News kept as a key and its values, not as text: a banner stays in the language the user
 * switches to after it appeared ("Export queued" included).
 */
export interface Msg {
  key: Key;
  vars?: Record<string, string | number>;
}
export const msg = (key: Key, vars?: Record<string, string | number>): Msg => (vars ? { key, vars } : { key });
export const News = ({ news }: { news: Msg | null }) => (news ? <Notice kind="ok">{t(news.key, news.vars)}</Notice> : null);

/** A failed call, kept as the error itself and put into words at render time, in the current language. */
export function ErrorNotice({ error }: { error: unknown }) {
  lang.use();
  if (error === null || error === undefined) return null;
  if (error instanceof LocalError) return <Notice kind="error">{t(error.key, error.vars)}</Notice>;
  return <Notice kind="error">{<ServerText code={codeOf(error)} message={messageOf(error)} status={statusOf(error)} />}</Notice>;
}

/** The API's sentence for `code` in the current language, with the server's wording one click away in Chinese. */
export function ServerText({ code, message, status, prefix }: { code: string; message: string; status?: number; prefix?: string }) {
  lang.use();
  const shown = serverSentence(code, message, status);
  return (
    <>
      {prefix}
      {shown ?? message} <span class="muted small">({code})</span>
      {shown !== null && shown !== message && (
        <details class="original">
          <summary>{t('original')}</summary>
          <span lang="en">{message}</span>
        </details>
      )}
    </>
  );
}

const codeOf = (e: unknown): string => (e instanceof ApiError ? e.code : 'error');
const statusOf = (e: unknown): number | undefined => (e instanceof ApiError ? e.status : undefined);
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A mistake the console finds itself (before any request): already a catalogue sentence. */
export class LocalError extends Error {
  constructor(
    readonly key: Key,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(key);
  }
}

/** A tick every 15 seconds, so "3 minutes ago" stays true on a page left open (renders read the clock itself). */
export const now = signal(Date.now());
setInterval(() => now.set(Date.now()), 15_000);

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** A server clock a little ahead of the browser's still reads "now", not "in 10 seconds". */
const SKEW_SECONDS = 60;

/** "3 minutes ago" / "3分钟前", in the console's language. */
export function relative(secs: number, nowMs: number): string {
  const diff = secs - nowMs / 1000;
  const abs = Math.abs(diff);
  const fmt = new Intl.RelativeTimeFormat(lang.get(), { numeric: 'auto' });
  if (abs < 10 || (diff > 0 && diff < SKEW_SECONDS)) return fmt.format(0, 'second');
  for (const [unit, size] of UNITS) if (abs >= size) return fmt.format(Math.round(diff / size), unit);
  return fmt.format(0, 'second');
}

/** Unix seconds as a local date and time, in the console's language. */
export const when = (secs: number | null | undefined): string => (secs ? new Date(secs * 1000).toLocaleString(lang.get()) : '');

/**
 * A moment, local and relative: `<time>` with the machine-readable instant. `compact` shows the
 * relative time with the local one as its tooltip (dense tables); otherwise both are shown.
 */
export function When({ secs, compact = false }: { secs: number | null | undefined; compact?: boolean }) {
  now.use();
  lang.use();
  if (!secs) return null;
  const n = Date.now();
  const local = when(secs);
  const iso = new Date(secs * 1000).toISOString();
  if (compact)
    return (
      <time dateTime={iso} title={local}>
        {relative(secs, n)}
      </time>
    );
  return (
    <time dateTime={iso} title={iso}>
      {local} <span class="muted">· {relative(secs, n)}</span>
    </time>
  );
}

/** A span of time: "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t('durationS', { s });
  if (s < 3600) return t('durationMS', { m: Math.floor(s / 60), s: s % 60 });
  return t('durationHM', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

/** How long a job ran (or has run so far); empty while queued. */
export function Duration({ start, end }: { start: number | null | undefined; end: number | null | undefined }) {
  now.use();
  lang.use();
  if (!start) return null;
  return <>{duration((end ?? Date.now() / 1000) - start)}</>;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "a, b ,c" → ["a", "b", "c"]; empty → undefined so the parameter is left out. */
export function list(text: string): string[] | undefined {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}
