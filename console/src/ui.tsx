import type { ComponentChildren } from 'preact';
import { ApiError } from './api';
import { lang } from './i18n';

/** A status line: `role=status` for news, `role=alert` for errors (read out at once). */
export function Notice({ kind, children }: { kind: 'ok' | 'error'; children: ComponentChildren }) {
  return (
    <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

/** The API's own sentence for a failed call, with its code. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** Unix seconds as a local date and time, in the console's language. */
export const when = (secs: number | null | undefined): string => (secs ? new Date(secs * 1000).toLocaleString(lang.get()) : '');

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
