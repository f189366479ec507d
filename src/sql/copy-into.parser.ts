/**
 * A recursive-descent parser for CnosDB's `COPY INTO` statements:
 *
 *   statement   := COPY INTO ( location FROM table | table [columns] FROM location ) clause* [';'] EOF
 *   location    := string | "quoted" holding a URL        -- one of CnosDB's examples double-quotes it
 *   table       := ident ['.' ident]
 *   columns     := '(' ident (',' ident)* ')'
 *   clause      := ( CONNECTION | FILE_FORMAT | COPY_OPTIONS ) ['='] options   -- CnosDB's syntax omits '=' at times
 *   options     := '(' [ option ( [','] option )* ] ')'      -- CnosDB's examples omit commas too
 *   option      := ident '=' ( string | TRUE | FALSE | number )
 *   ident       := word | "quoted"
 *
 * Keywords and option names are case-insensitive; each clause and each option may appear once.
 * Every error is a SqlSyntaxError with the 1-based line and column and what was expected there.
 */
import { isLocationScheme, optionNames, type LocationScheme } from '../locations/connection-options.js';
import type { CopyFileFormat, CopyFileType, CopyOptions, CopyStatement, TableRef } from './copy-into.ast.js';
import { SourceText, tokenize, type Token } from './sql.tokenizer.js';

/** Longer than any real statement (a PEM private key is ~2 KB); keeps a hostile body cheap. */
export const MAX_STATEMENT_LENGTH = 64 * 1024;

const FILE_TYPES: Record<string, CopyFileType> = { CSV: 'csv', JSON: 'json', NDJSON: 'ndjson', PARQUET: 'parquet' };
const CLAUSES = ['CONNECTION', 'FILE_FORMAT', 'COPY_OPTIONS'] as const;
type Clause = (typeof CLAUSES)[number];

type OptionValue = { value: string | boolean | number; token: Token };
type OptionList = Map<string, OptionValue & { keyToken: Token }>;

export function parseCopyInto(sql: string): CopyStatement {
  const src = new SourceText(sql);
  if (sql.length > MAX_STATEMENT_LENGTH)
    throw src.error(MAX_STATEMENT_LENGTH, `The statement is longer than ${MAX_STATEMENT_LENGTH} characters`);
  return new Parser(src, tokenize(src)).statement();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly src: SourceText,
    private readonly tokens: Token[],
  ) {}

  statement(): CopyStatement {
    this.keyword('COPY');
    this.keyword('INTO');
    let kind: 'export' | 'import';
    let location: Token;
    let table: TableRef;
    let columns: string[] | undefined;
    if (this.isLocation(this.peek())) {
      kind = 'export';
      location = this.next();
      this.keyword('FROM');
      table = this.table();
    } else if (this.isIdent(this.peek())) {
      kind = 'import';
      table = this.table();
      if (this.isPunct('(')) columns = this.columns();
      this.keyword('FROM');
      if (!this.isLocation(this.peek())) throw this.unexpected(["a quoted location such as 's3://bucket/path'"]);
      location = this.next();
    } else {
      throw this.unexpected(["a quoted location such as 's3://bucket/path'", 'a table name']);
    }
    const scheme = this.schemeOf(location);

    const seen = new Map<Clause, OptionList>();
    while (this.peek().kind === 'word' && (CLAUSES as readonly string[]).includes(this.peek().value.toUpperCase())) {
      const clauseToken = this.next();
      const clause = clauseToken.value.toUpperCase() as Clause;
      if (seen.has(clause)) throw this.src.error(clauseToken.offset, `${clause} is given twice`);
      if (this.isPunct('=')) this.next();
      seen.set(clause, this.options());
    }
    if (this.isPunct(';')) this.next();
    if (this.peek().kind !== 'eof') {
      const expected = [...CLAUSES.filter((c) => !seen.has(c)), "';'", 'the end of the statement'];
      throw this.unexpected(expected, 'Unexpected text after the statement');
    }

    const copyOptions = this.copyOptions(seen.get('COPY_OPTIONS'), kind);
    return {
      kind,
      table: columns ? { ...table, columns } : table,
      location: location.value,
      connection: this.connection(seen.get('CONNECTION'), scheme),
      fileFormat: this.fileFormat(seen.get('FILE_FORMAT')),
      copyOptions,
    };
  }

  private table(): TableRef {
    const first = this.ident('a table name');
    if (this.isPunct('.')) {
      this.next();
      return { database: first, name: this.ident('a table name after "."') };
    }
    return { name: first };
  }

  private columns(): string[] {
    this.punct('(');
    const out = [this.columnName()];
    while (this.isPunct(',')) {
      this.next();
      out.push(this.columnName());
    }
    this.punct(')');
    return out;
  }

  private columnName(): string {
    const t = this.peek();
    // CnosDB's time-series TAGS (...) group has no meaning for tableport's tables.
    if (t.kind === 'word' && t.value.toUpperCase() === 'TAGS')
      throw this.src.error(t.offset, 'TAGS columns are not supported; list plain column names');
    return this.ident('a column name');
  }

  private options(): OptionList {
    this.punct('(');
    const out: OptionList = new Map();
    while (!this.isPunct(')')) {
      if (out.size > 0 && this.isPunct(',')) this.next();
      const keyToken = this.peek();
      const key = this.ident('an option name').toLowerCase();
      if (out.has(key)) throw this.src.error(keyToken.offset, `The option ${JSON.stringify(key)} is given twice`);
      this.punct('=');
      const t = this.peek();
      let value: string | boolean | number;
      if (t.kind === 'string') value = t.value;
      else if (t.kind === 'number' && /^\d+(\.\d+)?$/.test(t.value)) value = Number(t.value);
      else if (t.kind === 'word' && /^(true|false)$/i.test(t.value)) value = t.value.toLowerCase() === 'true';
      else throw this.unexpected(['a quoted string', 'TRUE', 'FALSE', 'a number']);
      this.next();
      out.set(key, { value, token: t, keyToken });
      if (this.peek().kind === 'eof') throw this.unexpected(["')'", "','"]);
    }
    this.next();
    return out;
  }

  private connection(list: OptionList | undefined, scheme: LocationScheme): Record<string, string | boolean> {
    const out: Record<string, string | boolean> = {};
    const allowed = optionNames(scheme);
    for (const [key, { value, token, keyToken }] of list ?? []) {
      if (!allowed.includes(key)) {
        throw this.src.error(keyToken.offset, `Unknown CONNECTION option ${JSON.stringify(key)} for ${scheme}://`, [...allowed]);
      }
      if (typeof value === 'number')
        throw this.src.error(token.offset, `The CONNECTION option ${JSON.stringify(key)} takes a quoted string or TRUE/FALSE`);
      out[key] = value;
    }
    return out;
  }

  private fileFormat(list: OptionList | undefined): CopyFileFormat {
    const out: CopyFileFormat = {};
    for (const [key, { value, token, keyToken }] of list ?? []) {
      if (key === 'type') {
        const type = typeof value === 'string' ? FILE_TYPES[value.toUpperCase()] : undefined;
        if (!type)
          throw this.src.error(
            token.offset,
            "TYPE must be 'CSV', 'JSON', 'NDJSON' or 'PARQUET'",
            Object.keys(FILE_TYPES).map((t) => `'${t}'`),
          );
        out.type = type;
      } else if (key === 'delimiter') {
        if (typeof value !== 'string' || [...value].length !== 1)
          throw this.src.error(token.offset, 'DELIMITER must be one character in quotes', ["','"]);
        out.delimiter = value;
      } else if (key === 'with_header') {
        if (typeof value !== 'boolean') throw this.src.error(token.offset, 'WITH_HEADER must be TRUE or FALSE', ['TRUE', 'FALSE']);
        out.withHeader = value;
      } else {
        throw this.src.error(keyToken.offset, `Unknown FILE_FORMAT option ${JSON.stringify(keyToken.value)}`, [
          'TYPE',
          'DELIMITER',
          'WITH_HEADER',
        ]);
      }
    }
    if ((out.delimiter !== undefined || out.withHeader !== undefined) && out.type !== undefined && out.type !== 'csv') {
      const key = list?.get(out.delimiter !== undefined ? 'delimiter' : 'with_header');
      throw this.src.error(key?.keyToken.offset ?? 0, "DELIMITER and WITH_HEADER apply only to TYPE = 'CSV'");
    }
    return out;
  }

  private copyOptions(list: OptionList | undefined, kind: 'export' | 'import'): CopyOptions {
    const out: CopyOptions = {};
    for (const [key, { value, token, keyToken }] of list ?? []) {
      if (key !== 'auto_infer_schema')
        throw this.src.error(keyToken.offset, `Unknown COPY_OPTIONS option ${JSON.stringify(keyToken.value)}`, ['auto_infer_schema']);
      if (kind === 'export') throw this.src.error(keyToken.offset, 'auto_infer_schema applies only to COPY INTO a table (an import)');
      if (typeof value !== 'boolean') throw this.src.error(token.offset, 'auto_infer_schema must be TRUE or FALSE', ['TRUE', 'FALSE']);
      out.autoInferSchema = value;
    }
    return out;
  }

  private schemeOf(location: Token): LocationScheme {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location.value)?.[1]?.toLowerCase();
    if (!scheme || !isLocationScheme(scheme)) {
      throw this.src.error(location.offset, 'The location must be an s3://, gcs://, azblob://, http(s):// or file:// URL', [
        "'s3://bucket/path'",
      ]);
    }
    return scheme;
  }

  // Token helpers.

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === p;
  }

  private isLocation(t: Token): boolean {
    return t.kind === 'string' || (t.kind === 'quoted_ident' && /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t.value));
  }

  private isIdent(t: Token): boolean {
    return t.kind === 'word' || t.kind === 'quoted_ident';
  }

  private ident(what: string): string {
    const t = this.peek();
    if (!this.isIdent(t)) throw this.unexpected([what]);
    this.next();
    return t.value;
  }

  private keyword(word: string): void {
    const t = this.peek();
    if (t.kind !== 'word' || t.value.toUpperCase() !== word) throw this.unexpected([word]);
    this.next();
  }

  private punct(p: string): void {
    const t = this.peek();
    if (t.kind !== 'punct' || t.value !== p) throw this.unexpected([`'${p}'`]);
    this.next();
  }

  private unexpected(expected: string[], lead?: string): Error {
    const t = this.peek();
    const found = t.kind === 'eof' ? 'the end of the statement' : describe(t);
    const message = lead ? `${lead}: found ${found}` : `Expected ${expected.join(' or ')} but found ${found}`;
    return this.src.error(t.offset, message, expected);
  }
}

/** A token as an error names it; a string's content is never echoed, since it may be a secret. */
function describe(t: Token): string {
  if (t.kind === 'string') return 'a quoted string';
  const text = t.kind === 'quoted_ident' ? `"${t.value}"` : t.value;
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
