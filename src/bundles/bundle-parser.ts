/**
 * The grammar of a bundle, on the one JSON scanner: text in (any chunking), events out, memory
 * bounded by the limits. A bundle's envelope is a fixed shape, checked as it streams by; each row's
 * text is handed to `JSON.parse`, the rows of one chunk at once, as the JSON import does. Anything
 * that is not a bundle, or is bigger or deeper than allowed, is refused with `invalid_file` and a
 * sentence.
 */
import { AppError, InvalidFileError, TooManyRowsError } from '../errors.js';
import { JsonElementBatch } from '../formats/json/json-element-batch.js';
import { describeChar as describe, JsonScanner } from '../formats/json/json-scanner.js';
import { parseTableDefinition } from '../contracts/tables.js';
import type { TableSchema } from '../types/api.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  DEFAULT_BUNDLE_LIMITS,
  type BundleEvent,
  type BundleHeader,
  type BundleLimits,
  type BundleRow,
} from './bundle-format.js';

// Where the parser is (outside captured values).
const START = 0; // before the top '{'
const OBJ_FIRST = 1; // after '{': a key or '}'
const OBJ_KEY = 2; // after ',': a key
const OBJ_COLON = 3;
const OBJ_VALUE = 4;
const OBJ_AFTER = 5; // after a value: ',' or '}'
const ARR_FIRST = 6; // after the rows' '[': a row or ']'
const ARR_NEXT = 7; // after ',': a row
const ARR_AFTER = 8; // after a row: ',' or ']'
const CAPTURE = 9; // inside a value the scanner is capturing
const DONE = 10;

// Which object the parser is in.
const TOP = 0;
const TABLES = 1;
const TABLE = 2;
const ROWS = 3;

// What a captured value is for.
type Purpose = 'key' | 'top' | 'schema' | 'row';

const QUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const MAX_KEY_CHARS = 256;
const MAX_TOP_VALUE_CHARS = 256;
/** Nesting of the envelope's own values (keys, top values, schemas). */
const MAX_ENVELOPE_DEPTH = 64;
const TOP_KEYS = new Set(['format', 'version', 'exported_at', 'tables']);

interface TableState {
  name: string;
  line: number;
  schema: TableSchema | undefined;
  /** Rows started (counted at their first character, for the cap). */
  rows: number;
  /** Rows parsed and handed out. */
  parsed: number;
}

export class BundleParser extends JsonScanner {
  private readonly limits: BundleLimits;
  private state = START;
  private ctx = TOP;
  private readonly events: BundleEvent[] = [];

  /** What the value being captured is for, and its cap (for the message when it is too big). */
  private purpose: Purpose = 'key';
  private capLimit = 0;

  // The envelope.
  private key = '';
  private readonly topSeen = new Set<string>();
  private header: Partial<{ format: string; version: number; exportedAt: number }> = {};
  private readonly tableNames = new Set<string>();
  private table: TableState | undefined;
  private tableKeys = new Set<string>();

  /** Rows of the current chunk, parsed together; then gathered into one `rows` event. */
  private readonly rowTexts = new JsonElementBatch(
    (row, line) => this.gotRow(row, line),
    (line, reason) => this.invalidRow(line, reason),
  );
  private batch: BundleRow[] = [];

  constructor(limits: Partial<BundleLimits> = {}) {
    super();
    this.limits = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  }

  /** The events found so far, handing them over. */
  take(): BundleEvent[] {
    this.flushRows();
    return this.events.splice(0, this.events.length);
  }

  override write(text: string): void {
    super.write(text);
    // The rows' text points into this chunk: parse them before it goes.
    this.rowTexts.flush();
  }

  end(): BundleHeader {
    this.flushRows();
    if (this.state === START) throw new InvalidFileError('The bundle is empty.');
    if (this.state !== DONE) {
      const where = this.inValue ? `inside the value that starts on line ${this.valueLine}` : `on line ${this.line}`;
      throw new InvalidFileError(`The bundle is cut short: it ends ${where}, before its closing "}".`, { line: this.line });
    }
    if (!this.topSeen.has('tables')) throw new InvalidFileError('The bundle has no "tables".');
    return this.headerValue();
  }

  protected onToken(c: number, _line: number): void {
    switch (this.state) {
      case START:
        if (c !== LBRACE) {
          throw new InvalidFileError(
            `This is not a tableport bundle: a bundle is one JSON object ({"format": "${BUNDLE_FORMAT}", ...}), but the file starts with ${describe(c)}.`,
          );
        }
        this.state = OBJ_FIRST;
        break;
      case OBJ_FIRST:
      case OBJ_KEY:
        if (c === RBRACE && this.state === OBJ_FIRST) {
          this.closeObject();
        } else if (c === QUOTE) {
          this.begin('key', MAX_KEY_CHARS, MAX_ENVELOPE_DEPTH);
        } else {
          throw this.syntax(`expected a key in quotes${this.state === OBJ_FIRST ? ' or "}"' : ''}, got ${describe(c)}`);
        }
        break;
      case OBJ_COLON:
        if (c !== COLON) throw this.syntax(`expected ":" after the key "${this.key}", got ${describe(c)}`);
        this.state = OBJ_VALUE;
        break;
      case OBJ_VALUE:
        this.value(c);
        break;
      case OBJ_AFTER:
        if (c === COMMA) this.state = OBJ_KEY;
        else if (c === RBRACE) this.closeObject();
        else throw this.syntax(`expected "," or "}", got ${describe(c)}`);
        break;
      case ARR_FIRST:
      case ARR_NEXT:
        if (c === LBRACE) {
          const t = this.table as TableState;
          if (++t.rows > this.limits.maxRowsPerTable) {
            throw new TooManyRowsError(this.limits.maxRowsPerTable, undefined, `The rows of the bundle's table "${t.name}"`);
          }
          this.begin('row', this.limits.maxRowChars, this.limits.maxDepth);
        } else if (c === RBRACKET && this.state === ARR_FIRST) {
          this.closeRows();
        } else {
          throw this.syntax(
            c === RBRACKET
              ? 'a comma before the closing "]" of the rows is not valid JSON'
              : `row ${(this.table as TableState).rows + 1} of table "${(this.table as TableState).name}" is not an object (it starts with ${describe(c)})`,
          );
        }
        break;
      case ARR_AFTER:
        if (c === COMMA) this.state = ARR_NEXT;
        else if (c === RBRACKET) this.closeRows();
        else throw this.syntax(`expected "," or "]" after a row of table "${(this.table as TableState).name}", got ${describe(c)}`);
        break;
      default:
        throw this.syntax('the file goes on after the bundle\'s closing "}"');
    }
  }

  protected onValue(text: string, start: number, end: number, line: number, inChunk: boolean): void {
    const purpose = this.purpose;
    if (purpose === 'row') {
      this.state = ARR_AFTER;
      this.rowTexts.take(text, start, end, line, inChunk);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(inChunk ? text.slice(start, end) : text);
    } catch (err) {
      throw new InvalidFileError(`line ${line}: the bundle is not valid JSON here (${(err as Error).message}).`, { line });
    }
    if (purpose === 'key') this.gotKey(value as string);
    else if (purpose === 'top') this.gotTopValue(value);
    else this.gotSchema(value);
  }

  protected tooDeep(line: number): Error {
    const where = this.table ? ` in table "${this.table.name}"` : '';
    const max = this.purpose === 'row' ? this.limits.maxDepth : MAX_ENVELOPE_DEPTH;
    return new InvalidFileError(`line ${line}: objects and arrays${where} are nested more than ${max} deep.`, { line });
  }

  protected tooLarge(valueLine: number): Error {
    const where = this.table ? ` of table "${this.table.name}"` : '';
    const what =
      this.purpose === 'row'
        ? `row ${this.table?.rows ?? 0}${where} is larger than ${this.capLimit} characters`
        : this.purpose === 'schema'
          ? `the schema${where} is larger than ${this.capLimit} characters`
          : `a ${this.purpose === 'key' ? 'key' : 'value'} is longer than ${this.capLimit} characters`;
    return new InvalidFileError(`line ${valueLine}: ${what}, or never ends.`, { line: valueLine });
  }

  private begin(purpose: Purpose, maxChars: number, maxDepth: number): void {
    this.state = CAPTURE;
    this.purpose = purpose;
    this.capLimit = maxChars;
    this.capture(maxChars, maxDepth);
  }

  private gotKey(key: string): void {
    this.key = key;
    this.state = OBJ_COLON;
    if (this.ctx === TOP) {
      if (!TOP_KEYS.has(key)) throw this.shape(`a bundle has no key "${cut(key)}" (its keys are format, version, exported_at and tables)`);
      if (this.topSeen.has(key)) throw this.shape(`the key "${key}" appears twice`);
      this.topSeen.add(key);
    } else if (this.ctx === TABLES) {
      if (this.tableNames.has(key)) throw this.shape(`the table "${cut(key)}" appears twice`);
      if (this.tableNames.size >= this.limits.maxTables) throw this.shape(`a bundle may hold at most ${this.limits.maxTables} tables`);
      this.tableNames.add(key);
    } else {
      const t = this.table as TableState;
      if (key !== 'schema' && key !== 'rows')
        throw this.shape(`table "${t.name}" has a key "${cut(key)}"; a table has only "schema" and "rows"`);
      if (this.tableKeys.has(key)) throw this.shape(`table "${t.name}" has "${key}" twice`);
      if (key === 'rows' && !t.schema) {
        throw this.shape(
          `the rows of table "${t.name}" come before its schema; a bundle gives each table's "schema" first (as tableport writes it)`,
        );
      }
      this.tableKeys.add(key);
    }
  }

  /** The value after a key, from its first character `c`. */
  private value(c: number): void {
    if (this.ctx === TOP) {
      if (this.key === 'tables') {
        if (c !== LBRACE) throw this.shape(`"tables" must be an object of tables by name, not ${describe(c)}`);
        if (!this.topSeen.has('format') || !this.topSeen.has('version')) {
          throw this.shape(`"format" and "version" must come before "tables" (as tableport writes them)`);
        }
        this.ctx = TABLES;
        this.state = OBJ_FIRST;
        return;
      }
      this.begin('top', MAX_TOP_VALUE_CHARS, MAX_ENVELOPE_DEPTH);
      return;
    }
    if (this.ctx === TABLES) {
      if (c !== LBRACE) throw this.shape(`table "${cut(this.key)}" must be an object with "schema" and "rows", not ${describe(c)}`);
      this.table = { name: this.key, line: this.line, schema: undefined, rows: 0, parsed: 0 };
      this.tableKeys = new Set();
      this.ctx = TABLE;
      this.state = OBJ_FIRST;
      return;
    }
    const t = this.table as TableState;
    if (this.key === 'schema') {
      if (c !== LBRACE) throw this.shape(`the schema of table "${t.name}" must be an object, not ${describe(c)}`);
      this.begin('schema', this.limits.maxSchemaChars, MAX_ENVELOPE_DEPTH);
      return;
    }
    if (c !== LBRACKET) throw this.shape(`the rows of table "${t.name}" must be an array, not ${describe(c)}`);
    this.ctx = ROWS;
    this.state = ARR_FIRST;
  }

  private gotTopValue(value: unknown): void {
    const key = this.key;
    if (key === 'format') {
      if (value !== BUNDLE_FORMAT) throw this.shape(`"format" is ${show(value)}, not "${BUNDLE_FORMAT}": this is not a tableport bundle`);
      this.header.format = value;
    } else if (key === 'version') {
      if (value !== BUNDLE_VERSION) throw this.shape(`"version" is ${show(value)}; this server reads bundles of version ${BUNDLE_VERSION}`);
      this.header.version = value;
    } else {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
        throw this.shape(`"exported_at" must be Unix seconds, not ${show(value)}`);
      this.header.exportedAt = value;
    }
    this.state = OBJ_AFTER;
  }

  private gotSchema(value: unknown): void {
    const t = this.table as TableState;
    let schema: TableSchema;
    try {
      schema = parseTableDefinition({ name: t.name, schema: value }).schema;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const param = (err as { parameter?: string }).parameter ?? '';
      const why = err.message.replace(/^Invalid parameter "[^"]*": /, '').replace(/\.$/, '');
      const what =
        param === 'name'
          ? `the table name "${cut(t.name)}" cannot be used: it must be ${why}`
          : `table "${t.name}": ${param ? `${param} ` : ''}${why}`;
      throw new InvalidFileError(`line ${t.line}: ${what}.`, { line: t.line, table: cut(t.name) });
    }
    t.schema = schema;
    this.events.push({ kind: 'table', name: t.name, schema, line: t.line });
    this.state = OBJ_AFTER;
  }

  private closeObject(): void {
    if (this.ctx === TABLE) {
      const t = this.table as TableState;
      if (!t.schema) throw this.shape(`table "${t.name}" has no "schema"`);
      this.flushRows();
      this.events.push({ kind: 'table_end', name: t.name, rows: t.rows });
      this.table = undefined;
      this.ctx = TABLES;
      this.state = OBJ_AFTER;
    } else if (this.ctx === TABLES) {
      this.ctx = TOP;
      this.state = OBJ_AFTER;
    } else {
      if (!this.topSeen.has('tables')) throw this.shape('the bundle has no "tables"');
      this.state = DONE;
      this.flushRows();
      this.events.push({ kind: 'end', header: this.headerValue(), tables: this.tableNames.size });
    }
  }

  private closeRows(): void {
    this.flushRows();
    this.ctx = TABLE;
    this.state = OBJ_AFTER;
  }

  private headerValue(): BundleHeader {
    return { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, exportedAt: this.header.exportedAt };
  }

  // ---- rows ----

  private gotRow(row: unknown, line: number): void {
    const t = this.table as TableState;
    this.batch.push({ row: row as Record<string, unknown>, position: ++t.parsed, line });
  }

  private invalidRow(line: number, reason: string): InvalidFileError {
    const t = this.table as TableState;
    const row = t.parsed + 1;
    return new InvalidFileError(`line ${line}: row ${row} of table "${t.name}" is not valid JSON (${reason}).`, {
      line,
      table: t.name,
      row,
    });
  }

  /** Parses the rows taken so far and hands them out as one event. */
  private flushRows(): void {
    this.rowTexts.flush();
    if (this.batch.length === 0) return;
    this.events.push({ kind: 'rows', table: (this.table as TableState).name, rows: this.batch });
    this.batch = [];
  }

  // ---- errors ----

  private syntax(what: string): InvalidFileError {
    return new InvalidFileError(`line ${this.line}: the bundle is not valid JSON here: ${what}.`, { line: this.line });
  }

  private shape(what: string): InvalidFileError {
    return new InvalidFileError(`line ${this.line}: ${what}.`, { line: this.line });
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** A name from the file, cut for a message (a key may be up to MAX_KEY_CHARS long). */
function cut(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
