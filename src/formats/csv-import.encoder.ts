/**
 * CSV file → COPY text. The first record is the header: built-in fields and schema fields by name,
 * in any order, each at most once; fields it leaves out are defaulted (built-ins) or NULL.
 *
 * NULL and empty: an empty unquoted cell is NULL. A quoted empty cell ("") is the empty string for
 * a string field and NULL for every other type (there is no other value it could mean). This is
 * how PostgreSQL's own CSV output tells NULL from '', so export → import is lossless.
 */
import { InvalidFileError } from '../errors.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { ERROR_REPORT_COLUMN } from './error-report.js';
import type { ImportFileOptions } from './format.js';
import { ImportEncoder, type ImportEncoderOptions } from './import-encoder.js';
import { StrictTextDecoder, UTF8 } from './text-encoding.js';
import { unknownColumnsError } from './unknown-columns.js';

export class CsvImportEncoder extends ImportEncoder {
  private readonly decoder: StrictTextDecoder;
  private readonly tokenizer: CsvTokenizer;
  /** CSV position → plan column, once the header is read. */
  private columnOf: number[] | undefined;
  private readonly slots: (string | null | undefined)[];
  /** The file's column names, for the error report. */
  private names: string[] = [];

  constructor(opts: ImportEncoderOptions & ImportFileOptions) {
    super(opts);
    this.decoder = new StrictTextDecoder(opts.encoding ?? UTF8, 'save it as UTF-8 CSV.');
    this.slots = new Array<string | null | undefined>(this.plan.names.length).fill(undefined);
    this.tokenizer = new CsvTokenizer(
      (cells, count, line) => this.record(cells, count, line),
      opts.csvDelimiter ?? ',',
      opts.limits?.maxCellBytes,
    );
    // Without a header, the columns are the ones named, or the schema's fields in order.
    if (opts.csvHeader === false) {
      const names = opts.columns ?? opts.fields.map((f) => f.name);
      this.columnOf = this.header(names, names.length, 0);
    }
  }

  protected consume(chunk: Buffer): void {
    const text = this.decoder.decode(chunk);
    this.tokenizer.write(text);
  }

  protected finish(): void {
    const text = this.decoder.decode();
    if (text) this.tokenizer.write(text);
    this.tokenizer.end();
  }

  private record(cells: (string | null)[], count: number, line: number): void {
    const columnOf = this.columnOf;
    if (columnOf === undefined) {
      this.columnOf = this.header(cells, count, line);
      return;
    }
    this.countRecord();
    if (count !== columnOf.length) {
      this.addRowError(
        line,
        `the row has ${count} ${count === 1 ? 'cell' : 'cells'} but the header has ${columnOf.length} columns`,
        this.asRow(cells, count),
      );
      return;
    }
    const slots = this.slots;
    for (let i = 0; i < count; i++) {
      const at = columnOf[i] as number;
      if (at >= 0) slots[at] = cells[i];
    }
    const out = this.plan.encode(slots, true, true);
    if (out === undefined) this.addPlanErrors(line, [], this.asRow(cells, count));
    else this.addLine(out, line);
  }

  /** A refused record by column name (only built when there is a report to write). */
  private asRow(cells: readonly (string | null)[], count: number): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < count && i < this.names.length; i++) row[this.names[i] as string] = cells[i];
    return row;
  }

  private header(cells: readonly (string | null)[], count: number, line: number): number[] {
    const names = cells.slice(0, count).map((c) => c ?? '');
    this.names = names;
    const unknown: string[] = [];
    const seen = new Set<string>();
    const dup = new Set<string>();
    /** Field → the column that fills it, to name both when two columns fill one field. */
    const filledBy = new Map<string, string>();
    const columnOf = names.map((name) => {
      if (seen.has(name)) dup.add(name);
      seen.add(name);
      // The reasons column of an error report, imported back once its rows are fixed.
      if (name === ERROR_REPORT_COLUMN) return -1;
      const field = this.fieldOf(name);
      if (field === null) return -1;
      const at = this.plan.index.get(field);
      if (at === undefined) {
        unknown.push(name);
        return -1;
      }
      const other = filledBy.get(field);
      if (other !== undefined && other !== name) {
        throw new InvalidFileError(
          `line ${line}: the columns ${JSON.stringify(other)} and ${JSON.stringify(name)} both fill the field ${JSON.stringify(field)} (through "mapping"); map one of them to another field, or drop it with null.`,
          { line, columns: [other, name], field },
        );
      }
      filledBy.set(field, name);
      this.sourceOf.set(field, name);
      return at;
    });
    // Said as the look before the job says it: a location's file meets this check only here.
    if (unknown.length)
      throw unknownColumnsError(
        line === 0 ? '"columns"' : 'The CSV header',
        unknown,
        this.plan.fields,
        line || undefined,
        this.mapping !== undefined,
      );
    if (dup.size) {
      throw new InvalidFileError(`line ${line}: the header names ${[...dup].map((n) => JSON.stringify(n)).join(', ')} more than once.`, {
        line,
        columns: [...dup],
      });
    }
    const missing = [...(this.mapping?.keys() ?? [])].filter((k) => !seen.has(k));
    if (missing.length) {
      throw new InvalidFileError(
        `"mapping" names ${missing.length === 1 ? 'a column' : 'columns'} the file does not have: ${missing.map((n) => JSON.stringify(n)).join(', ')}; the file's columns are ${names.map((n) => JSON.stringify(n)).join(', ')}.`,
        { line, columns: missing },
      );
    }
    return columnOf;
  }
}
