/**
 * The one interface every file format implements. A format is one file exporting a `FileFormat`
 * and one line in `registry.ts`; the export and import services only ever talk to this interface.
 *
 * Exports have three shapes, from fastest to most general:
 * - `copy-csv`: PostgreSQL's own COPY CSV writer, passed through and counted;
 * - `json-lines`: PostgreSQL's `row_to_json` lines reshaped as bytes (JSON array, NDJSON);
 * - `rows`: those lines parsed into row objects and written by a format's own writer (Parquet without DuckDB);
 * - `csv-rewrite`: PostgreSQL's CSV made into the file as it streams (SQL and xlsx byte by byte; Parquet by DuckDB).
 * (`json-lines` formats also read PostgreSQL's CSV, rewritten as row_to_json lines: copy-csv-json.transform.ts.)
 * Imports have two: `bytes` (a Transform from file bytes to COPY text, for text formats read as they
 * stream) and `rows` (a reader of a local file yielding row objects, for formats that need seeking).
 */
import type { Duplex, Transform } from 'node:stream';
import type { FieldSchema, FileType } from '../types/api.js';
import type { ImportEncoder, ImportEncoderOptions } from './import-encoder.js';
import type { ValueLimits } from './values.js';

/** The type of an exported column: a field's type, or a built-in's natural one. */
export type ExportColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'array' | 'object';

/** One column of an exported file, in file order. */
export interface ExportColumn {
  name: string;
  type: ExportColumnType;
}

/** What a row writer is told about the table it writes. */
export interface RowWriterOptions {
  tableName: string;
  fields: FieldSchema[];
  columns: ExportColumn[];
}

/**
 * A row writer: writable side in objectMode taking row objects shaped like the JSON export's rows
 * (native JSON types, dates as ISO 8601 strings), readable side the file's bytes.
 */
export type RowWriterFactory = (opts: RowWriterOptions) => Transform;

/** One row read from a file: `line` is the 1-based record number used in error messages. */
export interface ImportedRow {
  line: number;
  row: Record<string, unknown>;
}

/** What a row reader is told besides the file. */
export interface RowReadOptions {
  signal?: AbortSignal;
  /** A workbook: the sheet to read, by name or 1-based position. */
  sheet?: string;
  /** The columns the table takes (built-ins and fields): a workbook of several sheets is read from the one whose header names only these. */
  columns?: readonly string[];
}

/** A reader of a whole local file (the upload is on disk) yielding rows in native JS types. */
export type RowReader = (path: string, opts?: RowReadOptions) => AsyncIterable<ImportedRow>;

/**
 * Where a worker thread finds a format's `RowReader`: the URL of the module (`new URL('./x.js',
 * import.meta.url).href`, which tsx maps to the `.ts` source) and the name of its export. The
 * thread imports that module alone, so it must not start anything when loaded.
 */
export interface RowReaderModule {
  url: string;
  name: string;
}

/** CSV options of an export. */
export interface CsvExportDialect {
  /** One character; default `,`. */
  delimiter: string;
  header: boolean;
  /** Start the file with a UTF-8 byte order mark (Excel wants one to read UTF-8). */
  bom: boolean;
  /** Text cells a spreadsheet would run as formulas get a leading `'` (see csv-formulas.ts). */
  escapeFormulas?: boolean;
}

/** A Transform that knows how many rows have gone through it. */
export type CountingTransform = Transform & { readonly rows: number };

export interface JsonLinesExportContext {
  /** Called as rows go through, with the number so far. */
  onRows: (rows: number) => void;
}

export type ExportShape =
  | { kind: 'copy-csv' }
  | { kind: 'json-lines'; createTransform: (ctx: JsonLinesExportContext) => CountingTransform }
  | { kind: 'rows'; createWriter: RowWriterFactory }
  /** PostgreSQL's CSV of the selection (no header) made into the file's bytes as it streams (SQL; Parquet through DuckDB). */
  | { kind: 'csv-rewrite'; createTransform: (opts: CsvRewriteOptions) => Duplex };

/** What a format that rewrites PostgreSQL's CSV is told: the table and the SELECT's columns in order. */
export interface CsvRewriteOptions {
  tableName: string;
  columns: ExportColumn[];
}

/** What a bytes import encoder may be told beyond the common options. */
export interface ImportFileOptions {
  /** CSV: the cell separator (one character). */
  csvDelimiter?: string;
  /** CSV: `false` when the first line is data; the columns are then `columns`. */
  csvHeader?: boolean;
  /** CSV without a header: the columns in file order. */
  columns?: string[];
  /** The server's MAX_CELL_BYTES and MAX_JSON_DEPTH; the defaults when omitted. */
  limits?: ValueLimits;
  /** CSV: the decimal separator of number cells (`,`: `.` and spaces group thousands); default `.`, no grouping. */
  decimalSeparator?: '.' | ',';
  /** xlsx: the sheet to read, by name or 1-based position. */
  sheet?: string;
  /** Text formats: the file's text encoding (a canonical WHATWG name, see text-encoding.ts); default UTF-8. */
  encoding?: string;
  /** File column → field it fills, or `null`: the column is dropped (`mapping`). Columns not named keep their names. */
  mapping?: Record<string, string | null>;
}

export type ImportShape =
  | { kind: 'bytes'; createEncoder: (opts: ImportEncoderOptions & ImportFileOptions) => ImportEncoder }
  | {
      kind: 'rows';
      read: RowReader;
      /**
       * The import runs `read` (this module's export) in a worker thread beside the encoder, rows
       * crossing in batches (row-reader.thread.ts); without it, in the job's thread. Set when that
       * is measured faster (docs/benchmarks.md).
       */
      thread?: RowReaderModule;
      /** A quick look at a whole uploaded file (its structure, not its rows), to refuse a damaged one before it is queued. */
      check?: (path: string) => Promise<void>;
      /** The file's columns in order, from its schema: a new table gets them even when the file holds no row (Parquet). */
      columns?: (path: string) => Promise<string[]>;
      /**
       * A workbook: the name of the sheet an import reads (named in `opts.sheet`, or found by
       * `opts.columns`), refused with the list of sheets when that is not clear.
       */
      sheet?: (path: string, opts: RowReadOptions) => Promise<string>;
      /** A workbook: the names of its sheets, in order. */
      sheets?: (path: string) => Promise<string[]>;
    };

export interface FileFormat {
  fileType: FileType;
  /** The file name's extension, with its dot. */
  extension: string;
  /** Other extensions users give such files (`.jsonl` for NDJSON). */
  aliases?: string[];
  contentType: string;
  /** A name for people: "NDJSON", "Parquet". */
  title: string;
  export?: ExportShape;
  import?: ImportShape;
  /**
   * Whether a file's first bytes (after any gzip) are this format. Binary formats check magic
   * bytes; text formats get the text with a BOM and leading white space removed, and are asked in
   * registry order, so CSV (anything else) comes last.
   */
  detect: (head: Buffer, text: string | undefined) => boolean;
}
