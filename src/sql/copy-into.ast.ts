/** The typed result of parsing a `COPY INTO` statement (CnosDB's two directions). */

export type CopyFileType = 'csv' | 'json' | 'ndjson' | 'parquet';

export interface CopyFileFormat {
  /** Absent: the location's file name decides (export) or the content does (import). */
  type?: CopyFileType;
  /** CSV only; one character. */
  delimiter?: string;
  /** CSV only; CnosDB's default is `true`. */
  withHeader?: boolean;
}

export interface CopyOptions {
  /** Import only: create/extend the schema from the file instead of requiring the table's fields. */
  autoInferSchema?: boolean;
}

export interface TableRef {
  /** CnosDB's optional `database.` prefix, kept so the caller can refuse or ignore it. */
  database?: string;
  name: string;
  /** Import only: the file's columns are these fields, in order (CnosDB's `COPY INTO t (a, b) FROM ...`). */
  columns?: string[];
}

interface CopyBase {
  table: TableRef;
  /** The location URL as written (`s3://bucket/prefix`, `file:///tmp/air/`, ...). */
  location: string;
  /** Connection options, keys lower-cased, checked against the location's scheme. */
  connection: Record<string, string | boolean>;
  fileFormat: CopyFileFormat;
  copyOptions: CopyOptions;
}

/** `COPY INTO 'location' FROM table ...`: write the table's rows to the location. */
export interface CopyExportStatement extends CopyBase {
  kind: 'export';
}

/** `COPY INTO table FROM 'location' ...`: read the location's file(s) into the table. */
export interface CopyImportStatement extends CopyBase {
  kind: 'import';
}

export type CopyStatement = CopyExportStatement | CopyImportStatement;
