/**
 * How one row becomes one COPY text line: the built-in columns, then the schema's fields in order.
 * Shared by the CSV and JSON file encoders and by rows sent to the records API, so a value is
 * accepted or refused the same way whichever way it came in.
 */
import { BUILTIN_FIELDS, type FieldSchema } from '../types/api.js';
import { escapeCopy } from './copy-text.js';
import { type DecimalSeparator, looksLikeDecimalComma, normalizeNumberText, notWrittenWith } from './number-format.js';
import {
  convertFileValue,
  convertJson,
  convertText,
  KIND_INTEGER,
  KIND_NUMBER,
  kindOf,
  problemUnder,
  show,
  textValue,
  type Problem,
  type ValueLimits,
} from './values.js';

/** Values used when a row leaves a built-in field out. */
export interface RowDefaults {
  /** Unix seconds for `created_at` (and `updated_at`) when the row has none. */
  createdAt: number;
  createdBy: string;
  newId: () => string;
}

/** A problem with one row: the field at fault (when there is one) and a sentence. */
export interface RowProblem {
  field?: string;
  /** A sentence naming the field: `field "qty" must be an integer, got "x"`. */
  message: string;
  /** The same without the field's name: `must be an integer, got "x"`. */
  reason: string;
}

const MAX_ID_LENGTH = 64;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ids may not hold control characters; matching them is the point.
const CONTROL = /[\x00-\x1f\x7f]/;
export const BUILTIN_COUNT = BUILTIN_FIELDS.length;

export class RowPlan {
  /** Every column a row can carry: the built-ins, then the schema's fields. */
  readonly names: string[];
  /** Column name → position in `names`. */
  readonly index: Map<string, number>;
  private readonly kinds: number[];
  /** The cells of the row being encoded, reused from row to row. */
  private readonly parts: string[];
  private readonly createdByDefault: string;
  private readonly createdAtDefault: string;
  private readonly problem: Problem;
  /** The problems of the last `encode` that returned `undefined`. */
  problems: RowProblem[] = [];
  /** `id` and `created_at` of the last row encoded. */
  lastId = '';
  lastCreatedAt = 0;

  /** MAX_CELL_BYTES and MAX_JSON_DEPTH this plan converts under. */
  get limits(): ValueLimits {
    return this.problem.limits;
  }

  /** Values come from a file: typed values take the file rules (`convertFileValue`). */
  private readonly fileValues: boolean;
  /** Text cells of number fields: the decimal separator they are written with (then grouped digits are read too). */
  private readonly decimal: DecimalSeparator | undefined;

  constructor(
    readonly fields: readonly FieldSchema[],
    readonly defaults: RowDefaults,
    opts: { fileValues?: boolean; limits?: ValueLimits | undefined; decimalSeparator?: DecimalSeparator } = {},
  ) {
    this.fileValues = opts.fileValues ?? false;
    this.problem = problemUnder(opts.limits);
    this.decimal = opts.decimalSeparator;
    this.names = [...BUILTIN_FIELDS, ...fields.map((f) => f.name)];
    this.index = new Map(this.names.map((n, i) => [n, i]));
    this.kinds = fields.map((f) => kindOf(f.type));
    this.parts = new Array<string>(this.names.length).fill('');
    this.createdByDefault = escapeCopy(defaults.createdBy);
    this.createdAtDefault = String(defaults.createdAt);
  }

  /**
   * Encodes one row from `slots` (indexed like `names`; `undefined` = missing). `fromText` says the
   * values are CSV cells (strings, `null` for an empty unquoted cell) rather than JSON values. With
   * `all` false it stops at the first problem, which is all a file import reports per row.
   */
  encode(slots: readonly unknown[], fromText: boolean, all: boolean): string | undefined {
    if (this.problems.length) this.problems = [];
    const p = this.problem;
    let ok = true;

    const id = this.id(slots[0]);
    if (id === undefined) {
      ok = false;
      this.addProblem('id');
      if (!all) return undefined;
    }
    const createdAt = this.time(slots[1], fromText, 'created_at', this.defaults.createdAt);
    if (createdAt < 0) {
      ok = false;
      if (!all) return undefined;
    }
    const updatedAt = this.time(slots[2], fromText, 'updated_at', Math.max(createdAt, 0));
    if (updatedAt < 0) {
      ok = false;
      if (!all) return undefined;
    }
    const createdBy = this.createdBy(slots[3], fromText);
    if (createdBy === undefined) {
      ok = false;
      this.addProblem('created_by');
      if (!all) return undefined;
    }

    const parts = this.parts;
    if (ok) {
      parts[0] = (id as string).includes('\\') ? escapeCopy(id as string) : (id as string);
      parts[1] = createdAt === this.defaults.createdAt ? this.createdAtDefault : String(createdAt);
      parts[2] = updatedAt === createdAt ? (parts[1] as string) : String(updatedAt);
      parts[3] = createdBy as string;
    }
    const kinds = this.kinds;
    for (let j = 0; j < kinds.length; j++) {
      const v = slots[BUILTIN_COUNT + j];
      const kind = kinds[j] as number;
      const piece = fromText
        ? this.textCell(kind, v === undefined ? null : (v as string | null))
        : this.fileValues
          ? convertFileValue(kind, v, p)
          : convertJson(kind, v, p);
      if (piece === undefined) {
        ok = false;
        this.addProblem(this.names[BUILTIN_COUNT + j] as string);
        if (!all) return undefined;
        continue;
      }
      parts[BUILTIN_COUNT + j] = piece;
    }
    if (!ok) return undefined;
    this.lastId = id as string;
    this.lastCreatedAt = createdAt;
    // One native join makes a flat string, cheaper to encode than a rope of concatenations.
    return `${parts.join('\t')}\n`;
  }

  /** A CSV cell; a number field's reads the decimal separator of the file, or says when it looks like a decimal comma. */
  private textCell(kind: number, cell: string | null): string | undefined {
    const p = this.problem;
    if (cell === null || cell === '' || (kind !== KIND_NUMBER && kind !== KIND_INTEGER)) return convertText(kind, cell, p);
    if (this.decimal !== undefined) {
      const n = normalizeNumberText(cell, this.decimal);
      if (n === undefined) {
        p.message = notWrittenWith(cell, this.decimal);
        return undefined;
      }
      const piece = convertText(kind, n, p);
      // The error shows the cell as the file has it, not as it was rewritten.
      if (piece === undefined && n !== cell) p.message = p.message.replace(show(n), show(cell));
      return piece;
    }
    const piece = convertText(kind, cell, p);
    if (piece === undefined && looksLikeDecimalComma(cell))
      p.message += '; if "," is the decimal separator, set the import option decimal_separator to ","';
    return piece;
  }

  private addProblem(field: string): void {
    this.problems.push({ field, message: `field "${field}" ${this.problem.message}`, reason: this.problem.message });
  }

  private id(v: unknown): string | undefined {
    if (v === undefined || v === null || v === '') return this.defaults.newId();
    // A file's ids may be numbers (another database's keys): their text, as created_by takes them.
    if (this.fileValues && typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    if (typeof v !== 'string') {
      this.problem.message = `must be a string, got ${show(v)}`;
      return undefined;
    }
    if (v.length > MAX_ID_LENGTH || CONTROL.test(v) || !(v as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      this.problem.message = `must be at most ${MAX_ID_LENGTH} characters without control characters or lone UTF-16 surrogates, got ${show(v)}`;
      return undefined;
    }
    return v;
  }

  /** Unix seconds, or -1 after recording a problem. */
  private time(v: unknown, fromText: boolean, field: string, fallback: number): number {
    if (v === undefined || v === null || v === '') return fallback;
    if (fromText && typeof v === 'string' && /^\d{1,16}$/.test(v)) {
      const n = Number(v);
      if (Number.isSafeInteger(n)) return n;
    } else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      return v;
    }
    this.problem.message = `must be a whole number of seconds since 1970 (0 or more), got ${show(v)}`;
    this.addProblem(field);
    return -1;
  }

  private createdBy(v: unknown, fromText: boolean): string | undefined {
    if (v === undefined || v === null || v === '') return this.createdByDefault;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    if (typeof v === 'string') return fromText ? convertText(0, v, this.problem) : textValue(v, this.problem);
    this.problem.message = `must be a string or an integer, got ${show(v)}`;
    return undefined;
  }
}
