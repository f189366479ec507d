// English and Simplified Chinese. The language comes from the browser unless the user picked one
// (kept in localStorage: it is a preference, not a secret). The sentences are in messages.ts.
import { en, type Key, zh, zhErrors, zhHttp } from './messages';
import { signal } from './signal';

export type { Key } from './messages';
export type Lang = 'en' | 'zh-CN';

const LANG_KEY = 'tableport.lang';

function initial(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.languages.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export const lang = signal<Lang>(initial());

export function setLang(l: Lang): void {
  localStorage.setItem(LANG_KEY, l);
  document.documentElement.lang = l;
  document.title = (l === 'zh-CN' ? zh : en).app;
  lang.set(l);
}
document.documentElement.lang = lang.get();
document.title = (lang.get() === 'zh-CN' ? zh : en).app;

/** The sentence for `key` in the current language, with `{name}` placeholders filled. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = (lang.get() === 'zh-CN' ? zh : en)[key];
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** A status, type, field type or mail word from the API, translated when known. */
export function word(prefix: 'st_' | 'ty_' | 'ft_' | 'mail_' | 'conflict_', value: string): string {
  const key = `${prefix}${value}`;
  return key in en ? t(key as Key) : value;
}

/**
 * The sentence to show for an API error: the server's own in English; in Chinese the catalogue's
 * sentence for its code (`null` when the code is unknown, so the caller shows the server's words).
 */
export function serverSentence(code: string, message: string, status?: number): string | null {
  if (lang.get() !== 'zh-CN') return message;
  const known = zhErrors[code];
  if (known) return known;
  const http = /^http_(\d{3})$/.exec(code);
  if (http?.[1]) return zhHttp(Number(http[1]));
  return status ? zhHttp(status) : null;
}
