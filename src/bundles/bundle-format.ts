/**
 * The bundle file: one JSON object holding several tables, their schemas and rows (API.md,
 * "Bundles"). Names and limits shared by the writer and the reader.
 *
 *   {"format": "tableport.bundle", "version": 1, "exported_at": <unix>,
 *    "tables": {"<name>": {"schema": {"fields": [...]}, "rows": [ {...}, ... ]}}}
 *
 * Order matters where a stream reader needs it, and the writer always writes it so: `format` and
 * `version` come before `tables`, and in each table `schema` comes before `rows`. A reader that
 * accepted the other order would have to hold a whole table's rows until its schema came; a tool
 * that sorts keys (`jq -S`, Python's `sort_keys`) must not be used on a bundle that will be imported.
 */
import type { TableSchema } from '../types/api.js';

export const BUNDLE_FORMAT = 'tableport.bundle';
export const BUNDLE_VERSION = 1;

/** What a reader refuses beyond; every cap can be lowered or raised by the caller. */
export interface BundleLimits {
  /** Tables in one bundle. */
  maxTables: number;
  /** Characters of one row's JSON text (so also of any one value in it). */
  maxRowChars: number;
  /** Characters of one table's schema object. */
  maxSchemaChars: number;
  /** Nesting of objects and arrays in a row, the row object itself being 1. */
  maxDepth: number;
  /** Rows in one table. */
  maxRowsPerTable: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxTables: 1000,
  maxRowChars: 8 * 1024 * 1024,
  maxSchemaChars: 1024 * 1024,
  maxDepth: 64,
  maxRowsPerTable: 1_000_000,
};

/** The top of a bundle, once read. */
export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  /** Unix seconds, when the bundle says. */
  exportedAt: number | undefined;
}

/** One row of a bundle, parsed, with where it was. */
export interface BundleRow {
  row: Record<string, unknown>;
  /** 1-based position among its table's rows. */
  position: number;
  /** 1-based line of the file where the row starts. */
  line: number;
}

/** What a reader gives, in file order: each table, then its rows in batches, then its end. */
export type BundleEvent =
  | { kind: 'table'; name: string; schema: TableSchema; line: number }
  | { kind: 'rows'; table: string; rows: BundleRow[] }
  | { kind: 'table_end'; name: string; rows: number }
  | { kind: 'end'; header: BundleHeader; tables: number };
