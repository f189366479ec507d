/**
 * A push parser for bundles: text in (any chunking), events out, memory bounded by the limits.
 *
 * Why hand-written: stream-json 3.8 (parser + pick + streamArray) read a 200,000-row bundle
 * (35 MB) at 15-24k rows/s here, this scanner at ~300k rows/s, and stream-json's own README says
 * it is not designed for hostile input. A bundle's envelope is a fixed shape, and a row is handed
 * to `JSON.parse` whole, several rows at once when they lie in one chunk, as the JSON import does.
 * The scanner tracks only what it must (nesting, strings, escapes, line breaks) and refuses, with
 * `invalid_file` and a sentence, anything that is not a bundle or is bigger or deeper than allowed.
 */
import { AppError, InvalidFileError, TooManyRowsError } from '../errors.js';
import { parseTableDefinition } from '../services/tables.service.js';
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

// Where the scanner is.
const START = 0; // before the top '{'
const OBJ_FIRST = 1; // after '{': a key or '}'
const OBJ_KEY = 2; // after ',': a key
const OBJ_COLON = 3;
const OBJ_VALUE = 4;
const OBJ_AFTER = 5; // after a value: ',' or '}'
const ARR_FIRST = 6; // after the rows' '[': a row or ']'
const ARR_NEXT = 7; // after ',': a row
const ARR_AFTER = 8; // after a row: ',' or ']'
const CAPTURE = 9; // inside a value whose text is being kept
const DONE = 10;

// Which object the scanner is in.
const TOP = 0;
const TABLES = 1;
const TABLE = 2;
const ROWS = 3;

// What a captured value is for.
type Purpose = 'key' | 'top' | 'schema' | 'row';

const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const MAX_KEY_CHARS = 256;
const MAX_TOP_VALUE_CHARS = 256;
const TOP_KEYS = new Set(['format', 'version', 'exported_at', 'tables']);

interface TableState {
  name: string;
  line: number;
  schema: TableSchema | undefined;
  hasRows: boolean;
  /** Rows started (counted at their first character, for the cap). */
  rows: number;
  /** Rows parsed and handed out. */
  parsed: number;
}

export class BundleScanner {
  private readonly limits: BundleLimits;
  private state = START;
  private ctx = TOP;
  private line = 1;
  private started = false;
  private readonly events: BundleEvent[] = [];

  // The value being captured.
  private purpose: Purpose = 'key';
  private capKind = 0; // '{', '[', '"' or 0 for a bare scalar
  private capDepth = 0;
  private capInString = false;
  private capEsc = false;
  private capLine = 1;
  private capLimit = 0;
  private capParts = '';
  private capLength = 0;

  // The envelope.
  private key = '';
  private readonly topSeen = new Set<string>();
  private header: Partial<{ format: string; version: number; exportedAt: number }> = {};
  private readonly tableNames = new Set<string>();
  private table: TableState | undefined;
  private tableKeys = new Set<string>();

  // Rows found whole in the current chunk, parsed together by one JSON.parse of the span.
  private spanText = '';
  private spanStart = -1;
  private spanEnd = 0;
  private spanLines: number[] = [];
  private batch: BundleRow[] = [];

  constructor(limits: Partial<BundleLimits> = {}) {
    this.limits = { ...DEFAULT_BUNDLE_LIMITS, ...limits };
  }

  /** The events found so far, handing them over. */
  take(): BundleEvent[] {
    this.flushRows();
    return this.events.splice(0, this.events.length);
  }

  write(text: string): void {
    let i = 0;
    if (!this.started && text.length) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = text.length;
    while (i < n) {
      if (this.state === CAPTURE) {
        i = this.capture(text, i);
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === LF || c === 0x0d || c === 0x09) {
        if (c === LF) this.line++;
        i++;
        continue;
      }
      switch (this.state) {
        case START:
          if (c !== LBRACE) {
            throw new InvalidFileError(
              `This is not a tableport bundle: a bundle is one JSON object ({"format": "${BUNDLE_FORMAT}", ...}), but the file starts with ${describe(c)}.`,
            );
          }
          this.state = OBJ_FIRST;
          i++;
          break;
        case OBJ_FIRST:
        case OBJ_KEY:
          if (c === RBRACE && this.state === OBJ_FIRST) {
            this.closeObject();
            i++;
          } else if (c === QUOTE) {
            this.begin('key', c, MAX_KEY_CHARS);
          } else {
            throw this.syntax(`expected a key in quotes${this.state === OBJ_FIRST ? ' or "}"' : ''}, got ${describe(c)}`);
          }
          break;
        case OBJ_COLON:
          if (c !== COLON) throw this.syntax(`expected ":" after the key "${this.key}", got ${describe(c)}`);
          this.state = OBJ_VALUE;
          i++;
          break;
        case OBJ_VALUE:
          i = this.value(c, i);
          break;
        case OBJ_AFTER:
          if (c === COMMA) this.state = OBJ_KEY;
          else if (c === RBRACE) this.closeObject();
          else throw this.syntax(`expected "," or "}", got ${describe(c)}`);
          i++;
          break;
        case ARR_FIRST:
        case ARR_NEXT:
          if (c === LBRACE) {
            const t = this.table as TableState;
            if (++t.rows > this.limits.maxRowsPerTable) {
              throw new TooManyRowsError(this.limits.maxRowsPerTable, undefined, `The rows of the bundle's table "${t.name}"`);
            }
            this.begin('row', c, this.limits.maxRowChars);
          } else if (c === RBRACKET && this.state === ARR_FIRST) {
            this.closeRows();
            i++;
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
          i++;
          break;
        default:
          throw this.syntax('the file goes on after the bundle\'s closing "}"');
      }
    }
    // The span points into this chunk's text: parse it before the text goes.
    this.flushSpan();
  }

  end(): BundleHeader {
    this.flushRows();
    if (this.state === START) throw new InvalidFileError('The bundle is empty.');
    if (this.state !== DONE) {
      const where = this.state === CAPTURE ? `inside the value that starts on line ${this.capLine}` : `on line ${this.line}`;
      throw new InvalidFileError(`The bundle is cut short: it ends ${where}, before its closing "}".`, { line: this.line });
    }
    if (!this.topSeen.has('tables')) throw new InvalidFileError('The bundle has no "tables".');
    return this.headerValue();
  }

  private begin(purpose: Purpose, c: number, limit: number): void {
    this.state = CAPTURE;
    this.purpose = purpose;
    this.capKind = c === LBRACE || c === LBRACKET || c === QUOTE ? c : 0;
    this.capDepth = 0;
    this.capInString = false;
    this.capEsc = false;
    this.capLine = this.line;
    this.capLimit = limit;
    this.capParts = '';
    this.capLength = 0;
  }

  /** Scans the captured value from `i`; returns where scanning stopped. */
  private capture(text: string, i: number): number {
    const n = text.length;
    const from = i;
    let j = i;
    let done = false;
    if (this.capKind === LBRACE || this.capKind === LBRACKET) {
      let depth = this.capDepth;
      let inString = this.capInString;
      let esc = this.capEsc;
      const max = this.purpose === 'row' ? this.limits.maxDepth : 64;
      let line = this.line;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (inString) {
          if (esc) esc = false;
          else if (c === BACKSLASH) esc = true;
          else if (c === QUOTE) inString = false;
        } else if (c === QUOTE) inString = true;
        else if (c === LBRACE || c === LBRACKET) {
          if (++depth > max) {
            this.line = line;
            throw this.tooDeep(max);
          }
        } else if (c === RBRACE || c === RBRACKET) {
          if (--depth === 0) {
            j++;
            done = true;
            break;
          }
        } else if (c === LF) line++;
      }
      this.line = line;
      this.capDepth = depth;
      this.capInString = inString;
      this.capEsc = esc;
    } else if (this.capKind === QUOTE) {
      // The opening quote is at `from` when the capture starts in this chunk.
      let esc = this.capEsc;
      let k = this.capLength === 0 && j === from ? j + 1 : j;
      for (; k < n; k++) {
        const c = text.charCodeAt(k);
        if (esc) esc = false;
        else if (c === BACKSLASH) esc = true;
        else if (c === QUOTE) {
          k++;
          done = true;
          break;
        }
      }
      this.capEsc = esc;
      j = k;
    } else {
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c === COMMA || c === RBRACE || c === RBRACKET || c === 0x20 || c === LF || c === 0x0d || c === 0x09) {
          done = true;
          break;
        }
      }
    }

    this.capLength += j - from;
    if (this.capLength > this.capLimit) throw this.tooBig();
    if (!done) {
      // The value goes on in the next chunk: keep this part (rows found whole earlier are parsed first).
      this.capParts += text.slice(from, j);
      return j;
    }
    if (this.purpose === 'row' && this.capParts.length === 0) {
      this.queueRow(text, from, j);
    } else {
      const whole = this.capParts + text.slice(from, j);
      this.capParts = '';
      this.completed(whole);
    }
    return j;
  }

  private completed(textValue: string): void {
    const purpose = this.purpose;
    if (purpose === 'row') {
      this.flushSpan(); // rows stay in file order
      this.parseRows([this.capLine], textValue, true);
      this.state = ARR_AFTER;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(textValue);
    } catch (err) {
      throw new InvalidFileError(`line ${this.capLine}: the bundle is not valid JSON here (${(err as Error).message}).`, {
        line: this.capLine,
      });
    }
    if (purpose === 'key') this.gotKey(value as string);
    else if (purpose === 'top') this.gotTopValue(value);
    else this.gotSchema(value);
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

  /** The value after a key, from its first character `c` at `i`. */
  private value(c: number, i: number): number {
    if (this.ctx === TOP) {
      if (this.key === 'tables') {
        if (c !== LBRACE) throw this.shape(`"tables" must be an object of tables by name, not ${describe(c)}`);
        if (!this.topSeen.has('format') || !this.topSeen.has('version')) {
          throw this.shape(`"format" and "version" must come before "tables" (as tableport writes them)`);
        }
        this.ctx = TABLES;
        this.state = OBJ_FIRST;
        return i + 1;
      }
      this.begin('top', c, MAX_TOP_VALUE_CHARS);
      return i;
    }
    if (this.ctx === TABLES) {
      if (c !== LBRACE) throw this.shape(`table "${cut(this.key)}" must be an object with "schema" and "rows", not ${describe(c)}`);
      this.table = { name: this.key, line: this.line, schema: undefined, hasRows: false, rows: 0, parsed: 0 };
      this.tableKeys = new Set();
      this.ctx = TABLE;
      this.state = OBJ_FIRST;
      return i + 1;
    }
    const t = this.table as TableState;
    if (this.key === 'schema') {
      if (c !== LBRACE) throw this.shape(`the schema of table "${t.name}" must be an object, not ${describe(c)}`);
      this.begin('schema', c, this.limits.maxSchemaChars);
      return i;
    }
    if (c !== LBRACKET) throw this.shape(`the rows of table "${t.name}" must be an array, not ${describe(c)}`);
    t.hasRows = true;
    this.ctx = ROWS;
    this.state = ARR_FIRST;
    return i + 1;
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

  /** A row found whole in `text` [start, end): joined to the span of rows parsed together. */
  private queueRow(text: string, start: number, end: number): void {
    if (this.spanStart < 0) {
      this.spanText = text;
      this.spanStart = start;
    }
    this.spanEnd = end;
    this.spanLines.push(this.capLine);
    this.state = ARR_AFTER;
  }

  private flushSpan(): void {
    if (this.spanStart < 0) return;
    const lines = this.spanLines;
    const text = this.spanText.slice(this.spanStart, this.spanEnd);
    this.spanText = '';
    this.spanStart = -1;
    this.spanLines = [];
    this.parseRows(lines, text, lines.length === 1);
  }

  private parseRows(lines: number[], text: string, single: boolean): void {
    const t = this.table as TableState;
    const first = t.parsed + 1;
    let objects: unknown;
    try {
      objects = JSON.parse(single ? text : `[${text}]`);
    } catch {
      objects = undefined;
    }
    if (objects === undefined) {
      // Some row is not valid JSON: find which, one by one (this ends the import).
      const one = single ? [text] : splitTopLevel(text);
      one.forEach((rowText, k) => {
        try {
          JSON.parse(rowText);
        } catch (err) {
          const line = lines[k] ?? this.line;
          throw new InvalidFileError(`line ${line}: row ${first + k} of table "${t.name}" is not valid JSON (${(err as Error).message}).`, {
            line,
            table: t.name,
            row: first + k,
          });
        }
      });
      throw new InvalidFileError(`line ${lines[0]}: a row of table "${t.name}" is not valid JSON.`, { line: lines[0], table: t.name });
    }
    const list = (single ? [objects] : objects) as Record<string, unknown>[];
    t.parsed += list.length;
    for (let k = 0; k < list.length; k++) {
      this.batch.push({ row: list[k] as Record<string, unknown>, position: first + k, line: lines[k] as number });
    }
  }

  private flushRows(): void {
    this.flushSpan();
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

  private tooBig(): InvalidFileError {
    const where = this.table ? ` of table "${this.table.name}"` : '';
    const what =
      this.purpose === 'row'
        ? `row ${this.table?.rows ?? 0}${where} is larger than ${this.capLimit} characters`
        : this.purpose === 'schema'
          ? `the schema${where} is larger than ${this.capLimit} characters`
          : `a ${this.purpose === 'key' ? 'key' : 'value'} is longer than ${this.capLimit} characters`;
    return new InvalidFileError(`line ${this.capLine}: ${what}, or never ends.`, { line: this.capLine });
  }

  private tooDeep(max: number): InvalidFileError {
    const where = this.table ? ` in table "${this.table.name}"` : '';
    return new InvalidFileError(`line ${this.line}: objects and arrays${where} are nested more than ${max} deep.`, { line: this.line });
  }
}

/** Splits `{...}, {...}` (whitespace and commas between whole objects) into the objects' text. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let esc = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (esc) esc = false;
      else if (c === BACKSLASH) esc = true;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === LBRACE || c === LBRACKET) {
      if (depth++ === 0) start = i;
    } else if ((c === RBRACE || c === RBRACKET) && --depth === 0) out.push(text.slice(start, i + 1));
  }
  return out;
}

function describe(c: number): string {
  if (c > 0x20 && c !== 0x7f) return JSON.stringify(String.fromCharCode(c));
  return `the character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** A name from the file, cut for a message (a key may be up to MAX_KEY_CHARS long). */
function cut(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
