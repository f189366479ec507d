/**
 * Splits a SQL statement into tokens, each with its offset, line and column, so every parse error
 * can say where it is. Strings are single-quoted with '' for a quote; identifiers are plain
 * (letters, digits, `_`) or double-quoted with "" for a quote; `--` and block comments are skipped.
 */
import { SqlSyntaxError } from '../errors.js';

/** `other`: a character outside the grammar, reported by the parser where it expected something else. */
export type TokenKind = 'word' | 'quoted_ident' | 'string' | 'number' | 'punct' | 'other' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The value: a word as written, a string or quoted identifier unescaped, a punctuation character. */
  value: string;
  offset: number;
  line: number;
  column: number;
}

/** A statement's text with its line starts, to turn offsets into 1-based lines and columns. */
export class SourceText {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  error(offset: number, message: string, expected: string[] = []): SqlSyntaxError {
    const { line, column } = this.position(offset);
    return new SqlSyntaxError(message, line, column, offset, expected);
  }
}

const PUNCT = new Set(['(', ')', '=', ',', ';', '.']);

export function tokenize(src: SourceText): Token[] {
  const text = src.text;
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number): void => {
    const { line, column } = src.position(start);
    tokens.push({ kind, value, offset: start, line, column });
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw src.error(i, 'Unterminated comment', ['*/']);
      i = end + 2;
    } else if (c === "'" || c === '"') {
      const start = i;
      const [value, next] = quoted(src, i, c);
      push(c === "'" ? 'string' : 'quoted_ident', value, start);
      i = next;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++;
      push('word', text.slice(start, i), start);
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < text.length && /[0-9.]/.test(text[i] as string)) i++;
      push('number', text.slice(start, i), start);
    } else if (PUNCT.has(c)) {
      push('punct', c, i);
      i++;
    } else {
      push('other', String.fromCodePoint(text.codePointAt(i) ?? 0), i);
      i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    }
  }
  push('eof', '', text.length);
  return tokens;
}

/** Reads a quoted run starting at `start` (the opening quote); a doubled quote stands for one. */
function quoted(src: SourceText, start: number, q: string): [string, number] {
  const text = src.text;
  let out = '';
  let i = start + 1;
  for (;;) {
    const end = text.indexOf(q, i);
    if (end < 0) {
      throw src.error(start, q === "'" ? 'Unterminated string' : 'Unterminated quoted identifier', [q]);
    }
    out += text.slice(i, end);
    if (text[end + 1] === q) {
      out += q;
      i = end + 2;
    } else {
      return [out, end + 1];
    }
  }
}
