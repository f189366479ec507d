/**
 * One set of value converters for every way a row arrives: CSV cells (strings, with `null` for an
 * empty unquoted cell) and JSON values (native types). Each returns the COPY text of the value, or
 * `undefined` after writing a sentence into `problem.message`. They avoid allocating per cell on
 * the happy path because an import runs them ten million times.
 */
import type { FieldType } from '../types/api.js';
import { jsonDeeperThan } from './json-depth.js';
import { COPY_NULL, escapeCopy } from './copy-text.js';
import { JSONB_BAD_ESCAPE } from './storable-text.js';

/**
 * Caps on one value: `MAX_CELL_BYTES` and `MAX_JSON_DEPTH` (the Config carries both under these
 * names, so it can be passed as is). A few MiB: API and workers may share a 256 MB heap, and one
 * cell is held several times over while a row is converted (text, parsed value, COPY text).
 */
export interface ValueLimits {
  readonly maxCellBytes: number;
  readonly maxJsonDepth: number;
}

/** The configuration's defaults, for callers that are given no limits (tools, tests). */
export const DEFAULT_VALUE_LIMITS: ValueLimits = Object.freeze({ maxCellBytes: 4 * 1024 * 1024, maxJsonDepth: 64 });

/** True when the UTF-8 form of `s` is over the cell cap; exact only when it could be. */
function tooBig(s: string, max: number): boolean {
  return s.length > max || (s.length * 3 > max && Buffer.byteLength(s) > max);
}

function tooBigMessage(max: number): string {
  return `is larger than the limit of ${max} bytes for one value (MAX_CELL_BYTES)`;
}

/** What a converter is given: the caps a value must keep, and where it leaves the reason of its last rejection. */
export interface Problem {
  readonly limits: ValueLimits;
  message: string;
}

/** A fresh Problem for a converter's caller that converts under `limits`. */
export function problemUnder(limits: ValueLimits = DEFAULT_VALUE_LIMITS): Problem {
  return { limits, message: '' };
}

export const KIND_STRING = 0;
export const KIND_INTEGER = 1;
export const KIND_NUMBER = 2;
export const KIND_BOOLEAN = 3;
export const KIND_DATE = 4;
export const KIND_ARRAY = 5;
export const KIND_OBJECT = 6;

export function kindOf(type: FieldType): number {
  switch (type) {
    case 'string':
      return KIND_STRING;
    case 'integer':
      return KIND_INTEGER;
    case 'number':
      return KIND_NUMBER;
    case 'boolean':
      return KIND_BOOLEAN;
    case 'date':
      return KIND_DATE;
    case 'array':
      return KIND_ARRAY;
    case 'object':
      return KIND_OBJECT;
  }
}

const MAX_SHOWN = 40;

/** A value as an error message shows it: strings quoted and cut, other values by their kind. */
export function show(v: unknown): string {
  if (typeof v === 'string') {
    // A cut between the halves of a surrogate pair (an emoji) would show a broken escape.
    const end = MAX_SHOWN - (v.charCodeAt(MAX_SHOWN - 1) >> 10 === 0x36 ? 1 : 0);
    const cut = v.length > MAX_SHOWN ? `${v.slice(0, end)}…` : v;
    return JSON.stringify(cut);
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** `got …` for JSON values: says the type when it is not obvious from the shown value. */
function got(v: unknown): string {
  return typeof v === 'string' ? `got the string ${show(v)}` : `got ${show(v)}`;
}

const INTEGER_TEXT = /^-?\d{1,16}$/;
const PLAIN_NUMBER_TEXT = /^[+-]?(?:\d{1,300}(?:\.\d*)?|\.\d+)$/;
export const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NUL_MESSAGE = 'contains the character U+0000, which PostgreSQL cannot store; remove it from the value';
const SURROGATE_MESSAGE =
  'contains a lone UTF-16 surrogate (a broken \\uD800-\\uDFFF escape), which is not valid text; remove it or write the whole character';

// One scan for the common case: nothing to escape and no U+0000 (nor, from JSON, surrogates).
const TEXT_SPECIAL = /[\\\n\r\t\0]/;
const JSON_TEXT_SPECIAL = /[\\\n\r\t\0\ud800-\udfff]/;

export function convertText(kind: number, cell: string | null, problem: Problem): string | undefined {
  if (cell === null) return COPY_NULL;
  if (tooBig(cell, problem.limits.maxCellBytes)) return fail(problem, tooBigMessage(problem.limits.maxCellBytes));
  if (kind === KIND_STRING) {
    if (!TEXT_SPECIAL.test(cell)) return cell;
    if (cell.includes('\0')) return fail(problem, NUL_MESSAGE);
    return escapeCopy(cell);
  }
  // A quoted empty cell ("") can only mean "no value" for a non-string field: store NULL.
  if (cell === '') return COPY_NULL;
  switch (kind) {
    case KIND_INTEGER:
      // PostgreSQL reads the digits as they are; only 16-digit values can pass 2^53 - 1.
      if (INTEGER_TEXT.test(cell) && (cell.length < 16 || Number.isSafeInteger(Number(cell)))) return cell;
      return fail(problem, `must be an integer between -9007199254740991 and 9007199254740991, got ${show(cell)}`);
    case KIND_NUMBER:
      // Without an exponent and with under 300 integer digits a number can neither overflow nor
      // underflow, so the text needs no conversion.
      if (PLAIN_NUMBER_TEXT.test(cell)) return cell;
      if (NUMBER_TEXT.test(cell)) {
        const n = Number(cell);
        // The text goes through as written (PostgreSQL's strtod reads the same syntax), except
        // that values too small for a double are sent as 0, where PostgreSQL would refuse them.
        if (n !== 0 && Number.isFinite(n)) return cell;
        if (n === 0) return '0';
      }
      return fail(problem, `must be a number, got ${show(cell)}`);
    case KIND_BOOLEAN:
      if (cell === 'true') return 't';
      if (cell === 'false') return 'f';
      if (cell.length === 4 && cell.toLowerCase() === 'true') return 't';
      if (cell.length === 5 && cell.toLowerCase() === 'false') return 'f';
      return fail(problem, `must be true or false, got ${show(cell)}`);
    case KIND_DATE:
      return parseDate(cell, problem);
    default:
      return jsonText(kind, cell, problem);
  }
}

/**
 * A value a typed file holds that no field can store, read as such by the file's reader (a Parquet
 * INT96 timestamp whose time of day is out of range, a timestamp past the years a date holds): its
 * row is refused with `reason`, naming the row and the column, as a NaN is.
 */
export class UnstorableValue {
  constructor(readonly reason: string) {}
}

export function convertJson(kind: number, v: unknown, problem: Problem): string | undefined {
  if (v === null || v === undefined) return COPY_NULL;
  if (v instanceof UnstorableValue) return fail(problem, v.reason);
  // JSON cannot hold them, but typed files can (Parquet floats, xlsx cells): refused whatever the column.
  if (typeof v === 'number' && !Number.isFinite(v)) return fail(problem, notFiniteMessage(v));
  switch (kind) {
    case KIND_STRING:
      if (typeof v !== 'string') return fail(problem, `must be a string, ${got(v)}`);
      if (tooBig(v, problem.limits.maxCellBytes)) return fail(problem, tooBigMessage(problem.limits.maxCellBytes));
      return textValue(v, problem);
    case KIND_INTEGER:
      if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
      return fail(problem, `must be an integer between -9007199254740991 and 9007199254740991, ${got(v)}`);
    case KIND_NUMBER:
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      return fail(problem, `must be a number, ${got(v)}`);
    case KIND_BOOLEAN:
      if (v === true) return 't';
      if (v === false) return 'f';
      return fail(problem, `must be true or false, ${got(v)}`);
    case KIND_DATE:
      if (typeof v !== 'string') return fail(problem, `must be an ISO 8601 date string, ${got(v)}`);
      return parseDate(v, problem);
    case KIND_ARRAY:
      if (!Array.isArray(v)) return fail(problem, `must be an array, ${got(v)}`);
      return jsonValue(v, problem);
    default:
      if (typeof v !== 'object' || Array.isArray(v)) return fail(problem, `must be an object, ${got(v)}`);
      return jsonValue(v, problem);
  }
}

/**
 * A value read from a typed file (JSON, NDJSON, Parquet, xlsx) for a column of `kind`. As
 * `convertJson`, with two rules for files, whose writers type values by look rather than by the
 * column's meaning (and so that a schema inferred from a file always takes it):
 * - a `string` column takes a number or boolean as its text (`42`, `1.5`, `true`) and an array or
 *   object as its JSON text, as a CSV export writes them;
 * - an empty string in a column of any other type is NULL, as a quoted empty CSV cell is.
 * The records API keeps to `convertJson`: a program sending JSON sends the types it means.
 */
export function convertFileValue(kind: number, v: unknown, problem: Problem): string | undefined {
  if (typeof v === 'string') return v === '' && kind !== KIND_STRING ? COPY_NULL : convertJson(kind, v, problem);
  if (kind !== KIND_STRING || v === null || v === undefined || v instanceof UnstorableValue) return convertJson(kind, v, problem);
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return String(v);
    return fail(problem, notFiniteMessage(v));
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object') return jsonValue(v, problem, false);
  return fail(problem, `must be a string, ${got(v)}`);
}

function notFiniteMessage(v: number): string {
  return `is ${v}, which a table cannot store (a number must be finite: not NaN, Infinity or -Infinity)`;
}

function fail(problem: Problem, message: string): undefined {
  problem.message = message;
  return undefined;
}

/** A JSON string for a text column: no U+0000 and no lone surrogate (which \uD800 escapes can make). */
export function textValue(s: string, problem: Problem): string | undefined {
  if (!JSON_TEXT_SPECIAL.test(s)) return s;
  if (s.includes('\0')) return fail(problem, NUL_MESSAGE);
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    return fail(problem, SURROGATE_MESSAGE);
  }
  return escapeCopy(s);
}

function jsonText(kind: number, cell: string, problem: Problem): string | undefined {
  const what = kind === KIND_ARRAY ? 'a JSON array' : 'a JSON object';
  if (jsonDeeperThan(cell, problem.limits.maxJsonDepth)) return fail(problem, tooDeepMessage(problem.limits.maxJsonDepth));
  let v: unknown;
  try {
    v = JSON.parse(cell);
  } catch {
    return fail(problem, `must be ${what}, got ${show(cell)}, which is not valid JSON`);
  }
  const ok = kind === KIND_ARRAY ? Array.isArray(v) : typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!ok) return fail(problem, `must be ${what}, got ${show(cell)}`);
  // An exponent or a very long run of digits may be a number no double can hold (1e400): JSON.parse
  // makes it Infinity, which would be stored as null. Refuse it rather than lose it.
  if (MAYBE_HUGE_NUMBER.test(cell) && hasNonFinite(v)) return fail(problem, NON_FINITE_MESSAGE);
  // Text without white space or \u escapes is already compact, as our own export writes it:
  // pass it through rather than serialise it again (PostgreSQL takes any valid JSON as jsonb).
  if (!NOT_COMPACT.test(cell)) return cell.includes('\\') ? cell.replaceAll('\\', '\\\\') : cell;
  return jsonValue(v as object, problem);
}

const NOT_COMPACT = /\s|\\u/;
const MAYBE_HUGE_NUMBER = /\d[eE]|\d{300}/;
const NON_FINITE_MESSAGE =
  'holds a number too large to be stored exactly (beyond ±1.8e308, e.g. 1e400); send it as a string if it must be kept';

function tooDeepMessage(max: number): string {
  return `is nested more than ${max} levels deep (MAX_JSON_DEPTH)`;
}

/** Looks for Infinity (a number literal too large for a double), iteratively: nesting is capped but may still be deep. */
function hasNonFinite(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const k in v) stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return false;
}

/** Depth of a parsed value, stopping as soon as it passes `max`. */
function deeperThan(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    if (Array.isArray(v)) for (const x of v) stack.push([x, depth + 1]);
    else for (const k in v) stack.push([(v as Record<string, unknown>)[k], depth + 1]);
  }
  return false;
}

/** JSON text of `v` as COPY text; `jsonb` false: for a text column, which holds \u0000 escapes as they are. */
function jsonValue(v: object, problem: Problem, jsonb = true): string | undefined {
  // JSON.stringify recurses: a value nested thousands of levels deep would overflow the stack.
  if (deeperThan(v, problem.limits.maxJsonDepth)) return fail(problem, tooDeepMessage(problem.limits.maxJsonDepth));
  const text = JSON.stringify(v);
  // JSON.stringify writes Infinity as null: look for it only when a null was written.
  if (text.includes('null') && hasNonFinite(v)) return fail(problem, NON_FINITE_MESSAGE);
  if (tooBig(text, problem.limits.maxCellBytes)) return fail(problem, tooBigMessage(problem.limits.maxCellBytes));
  if (jsonb && text.includes('\\u') && JSONB_BAD_ESCAPE.test(text)) {
    return fail(
      problem,
      'contains the character U+0000 or a lone UTF-16 surrogate (a broken \\uD800-\\uDFFF escape), which PostgreSQL cannot store in JSON; remove it from the value',
    );
  }
  return escapeCopy(text);
}

// YYYY-MM-DD, optionally followed by a time (T or space) with optional seconds, fraction and offset.
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2})(?::?(\d{2}))?)?)?$/;
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An offset can move a date of year 1 or 9999 out of years 1-9999 in UTC, which is what is stored
 * and exported (`0001-01-01T00:00+05:00` is 1 BC, which an export's four-digit year would write as
 * AD 1): such an instant is refused rather than changed.
 */
function inYears(year: number, m: RegExpExecArray): boolean {
  if ((year !== 1 && year !== 9999) || m[8] === undefined || m[8] === 'Z') return true;
  const sign = m[8].startsWith('-') ? -1 : 1;
  const offsetMinutes = sign * (Number(m[9]) * 60 + Number(m[10] ?? 0));
  const local = Date.UTC(2000, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])) - offsetMinutes * 60_000;
  const utcYear = new Date(local).getUTCFullYear() - 2000 + year;
  return utcYear >= 1 && utcYear <= 9999;
}

/**
 * Strict ISO 8601 / RFC 3339 date-times, checked field by field so PostgreSQL never rejects one
 * mid-COPY. A value without an offset is taken as UTC (as JavaScript does for plain dates), so the
 * stored instant does not depend on the database session's time zone.
 */
export function parseDate(s: string, problem: Problem): string | undefined {
  const m = DATE_TEXT.exec(s);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    const dayOk = day >= 1 && (month === 2 && !leap ? day <= 28 : day <= (DAYS_IN_MONTH[month] ?? 0));
    const timeOk = m[4] === undefined || (Number(m[4]) <= 23 && Number(m[5]) <= 59 && (m[6] === undefined || Number(m[6]) <= 59));
    const offsetOk = m[9] === undefined || (Number(m[9]) <= 15 && (m[10] === undefined || Number(m[10]) <= 59));
    if (year >= 1 && month >= 1 && month <= 12 && dayOk && timeOk && offsetOk) {
      if (!inYears(year, m)) return fail(problem, `must fall in years 1 to 9999 in UTC, which its offset moves it out of, got ${show(s)}`);
      if (m[4] === undefined) return `${m[1]}-${m[2]}-${m[3]} 00:00:00+00`;
      return m[8] === undefined ? `${s}+00` : s;
    }
  }
  return fail(problem, `must be an ISO 8601 date such as "2024-05-01T12:00:00Z", got ${show(s)}`);
}
