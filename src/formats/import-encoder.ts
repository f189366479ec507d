/**
 * The common part of the file import encoders: a Transform from file bytes to PostgreSQL COPY text
 * that validates every row, collects row errors (all counted, the first `maxErrors` kept), stops
 * output at the first one (the import is all or nothing, so nothing after it will be committed),
 * caps the number of rows, and batches output into ~64 KiB chunks.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { TooManyRowsError } from '../errors.js';
import type { FieldSchema, JobError } from '../types/api.js';
import type { DecimalSeparator } from './number-format.js';
import { RowPlan, type RowDefaults } from './row-plan.js';
import { storableText } from './storable-text.js';
import { show, type ValueLimits } from './values.js';

export interface ImportEncoderOptions {
  /** The table's schema fields, in order. */
  fields: FieldSchema[];
  /** Values for built-in fields a row leaves out. */
  defaults: RowDefaults;
  /** MAX_CELL_BYTES and MAX_JSON_DEPTH; the defaults when omitted. */
  limits?: ValueLimits;
  /** More rows than this fail the stream with `TooManyRowsError` at once. */
  maxRows: number;
  /** Row errors kept in `errors` (default 100); `errorCount` counts them all. */
  maxErrors?: number;
  /** Progress: called once per input chunk and at the end with the number of rows read so far. */
  onRows?: (rowsSoFar: number) => void;
  /**
   * Called for every valid row with its 1-based position among the rows output and the file line
   * it starts on. PostgreSQL names a refused COPY row by its position; this maps it back to the file.
   */
  onRowLine?: (row: number, fileLine: number) => void;
  /**
   * Append the file line as one more COPY column: for a staging table, where one query can then
   * name the line of every duplicate id.
   */
  lineColumn?: boolean;
  /**
   * Called for every refused row with what could be read of it (by column name) and its reasons,
   * each naming its field: for an error report the user fixes and imports again.
   */
  onBadRow?: (line: number, row: Record<string, unknown> | undefined, reasons: string[]) => void;
  /**
   * Typed values take the file rules (a number in a text column is its text; see `convertFileValue`),
   * as the files people have need. Default true; false holds every value to its column's JSON type
   * exactly, as the records API does.
   */
  fileValues?: boolean;
  /** CSV number cells: the decimal separator they are written with (see number-format.ts). */
  decimalSeparator?: DecimalSeparator;
  /** File column → the field it fills, or `null` to drop the column (`mapping`); other columns keep their names. */
  mapping?: Record<string, string | null>;
}

const BATCH_BYTES = 64 * 1024;

/** Why a key is not a column; a key no field name could be (U+0000, a lone surrogate) says so. */
function unknownKeyReason(key: string): string {
  if (storableText(key) === key) return 'not a field of the table';
  return 'not a field of the table: the key holds U+0000 or a lone UTF-16 surrogate (shown escaped), which no field name can; rename or remove the key';
}
export const DEFAULT_MAX_ERRORS = 100;

export abstract class ImportEncoder extends Transform {
  /** Valid rows read. When `errorCount` is 0 at the end, this is the number of rows written. */
  rows = 0;
  /** The first `maxErrors` invalid rows, in file order. */
  readonly errors: JobError[] = [];
  /** Every problem found (a row with two bad fields has two). */
  errorCount = 0;
  /** Every invalid row. */
  badRows = 0;
  /** Every row read, valid or not. */
  protected records = 0;
  protected readonly plan: RowPlan;
  /** Output being filled; pushed when the next line might not fit. */
  private out = Buffer.allocUnsafe(BATCH_BYTES);
  private outLength = 0;
  private readonly maxRows: number;
  private readonly maxErrors: number;
  private readonly onRows: ((rowsSoFar: number) => void) | undefined;
  private readonly onRowLine: ((row: number, fileLine: number) => void) | undefined;
  private readonly lineColumn: boolean;
  private readonly onBadRow: ImportEncoderOptions['onBadRow'];
  /** Slots for `addObject`, reused from row to row. */
  private objectSlots: unknown[] | undefined;
  /** `mapping`, for lookups that never reach Object.prototype. */
  protected readonly mapping: ReadonlyMap<string, string | null> | undefined;
  /**
   * Each field the file fills, with the file column it comes from (the first one seen, for rows
   * given as objects): what an upsert by key updates, and what a dry run shows.
   */
  readonly sourceOf = new Map<string, string>();

  constructor(opts: ImportEncoderOptions, streamOpts: { writableObjectMode?: boolean } = {}) {
    super(streamOpts);
    this.lineColumn = opts.lineColumn ?? false;
    this.onBadRow = opts.onBadRow;
    this.plan = new RowPlan(opts.fields, opts.defaults, {
      fileValues: opts.fileValues ?? true,
      limits: opts.limits,
      ...(opts.decimalSeparator !== undefined ? { decimalSeparator: opts.decimalSeparator } : {}),
    });
    this.maxRows = opts.maxRows;
    this.maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
    this.onRows = opts.onRows;
    this.onRowLine = opts.onRowLine;
    if (opts.mapping) this.mapping = new Map(Object.entries(opts.mapping));
  }

  /** The field a file column fills: its mapped name, its own, or `null` when `mapping` drops it. */
  protected fieldOf(column: string): string | null {
    const mapped = this.mapping?.get(column);
    return mapped === undefined ? column : mapped;
  }

  /** Feeds one chunk of file bytes; throws an AppError for what makes the whole file unusable. */
  protected abstract consume(chunk: Buffer): void;
  /** Ends the input. */
  protected abstract finish(): void;

  override _transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk as Buffer);
      this.onRows?.(this.records);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.finish();
      this.onRows?.(this.records);
      this.flushBatch();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** Tells the progress callback how many rows have been read. */
  protected onRowsNow(): void {
    this.onRows?.(this.records);
  }

  /** Counts a record before it is validated, so the cap holds for invalid rows too. */
  protected countRecord(): void {
    if (++this.records > this.maxRows) throw new TooManyRowsError(this.maxRows, undefined, "The file's rows");
  }

  /** Accepts a valid row's COPY line; `fileLine` is where the row starts in the file. */
  protected addLine(copyLine: string, fileLine: number): void {
    this.rows++;
    this.onRowLine?.(this.rows, fileLine);
    if (this.errorCount !== 0) return;
    const line = this.lineColumn ? `${copyLine.slice(0, -1)}\t${fileLine}\n` : copyLine;
    // Each line is written into the batch buffer as it comes: concatenating a 64 KiB string of
    // many small pieces and encoding it at once costs three times as much.
    const worst = line.length * 3;
    if (this.outLength + worst > this.out.length) {
      this.flushBatch();
      if (worst > this.out.length) this.out = Buffer.allocUnsafe(worst);
    }
    this.outLength += this.out.write(line, this.outLength, 'utf8');
  }

  /**
   * Records a problem of a row (`field` when one field is at fault); from now on nothing more is
   * output. Each problem is its own error, said once: "line 3, qty: must be an integer, got "1.5"".
   */
  protected addError(line: number, field: string | undefined, reason: string): void {
    this.errorCount++;
    this.outLength = 0;
    if (this.errors.length < this.maxErrors) {
      const where = field === undefined ? `line ${line}` : `line ${line}, ${storableText(field)}`;
      const err: JobError = { error_code: 'invalid_row', error_msg: `${where}: ${reason}`, line };
      if (field !== undefined) err.field = field;
      this.errors.push(err);
    }
  }

  /** Records a refused row: one error per problem the plan found. */
  protected addPlanErrors(line: number, unknownKeys: readonly string[] = [], row?: Record<string, unknown>): void {
    this.badRows++;
    for (const key of unknownKeys) this.addError(line, key, unknownKeyReason(key));
    for (const p of this.plan.problems) this.addError(line, p.field, p.reason);
    if (unknownKeys.length === 0 && this.plan.problems.length === 0) this.addError(line, undefined, 'the row is not valid');
    if (this.onBadRow) {
      const reasons = [
        ...unknownKeys.map((k) => `${storableText(k)}: ${unknownKeyReason(k)}`),
        ...this.plan.problems.map((p) => (p.field ? `${p.field}: ${p.reason}` : p.reason)),
      ];
      this.onBadRow(line, row, reasons);
    }
  }

  /** A whole row that is refused for one reason (not an object, wrong number of cells). */
  protected addRowError(line: number, reason: string, row?: Record<string, unknown>): void {
    this.badRows++;
    this.addError(line, undefined, reason);
    this.onBadRow?.(line, row, [reason]);
  }

  /** Validates and encodes one row given as an object (JSON, NDJSON, a Parquet or xlsx reader). */
  protected addObject(obj: unknown, line: number): void {
    this.countRecord();
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      this.addRowError(line, `a row must be an object of fields, got ${show(obj)}`, undefined);
      return;
    }
    this.objectSlots ??= new Array<unknown>(this.plan.names.length);
    const slots = this.objectSlots;
    slots.fill(undefined);
    const index = this.plan.index;
    let unknown: string[] | undefined;
    let twice: string | undefined;
    for (const key in obj) {
      const field = this.mapping ? this.fieldOf(key) : key;
      if (field === null) continue;
      const at = index.get(field);
      if (at === undefined) {
        if (unknown === undefined) unknown = [key];
        else unknown.push(key);
        continue;
      }
      if (field !== key && slots[at] !== undefined) twice = field;
      slots[at] = (obj as Record<string, unknown>)[key];
      if (!this.sourceOf.has(field)) this.sourceOf.set(field, key);
    }
    if (twice !== undefined) {
      this.badRows++;
      this.addError(line, twice, 'the row gives this field twice: once under its own name and once through "mapping"');
      return;
    }
    const out = this.plan.encode(slots, false, true);
    if (out === undefined || unknown !== undefined) this.addPlanErrors(line, unknown, obj as Record<string, unknown>);
    else this.addLine(out, line);
  }

  private flushBatch(): void {
    if (this.errorCount !== 0 || this.outLength === 0) return;
    this.push(this.out.subarray(0, this.outLength));
    this.out = Buffer.allocUnsafe(Math.max(BATCH_BYTES, this.out.length));
    this.outLength = 0;
  }
}
