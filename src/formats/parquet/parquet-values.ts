/**
 * Parquet values as tableport stores them, where hyparquet's own conversions would change them
 * without a word. hyparquet is given a copy of the footer in which those columns are left raw, and
 * each top-level column gets a `Mend` that turns what hyparquet assembles into the file's value:
 *
 * - DECIMAL: the exact decimal, as the number when that number is the decimal (its shortest form
 *   reads back as the same digits), else as its decimal text (hyparquet multiplies by 10^-scale,
 *   which makes 1003.858 into 1003.8580000000001; a DECIMAL(38) does not fit a double at all);
 * - INT96: read as its 12 bytes (hyparquet's reading loses the day when the nanoseconds are
 *   negative); a time of day outside the day names no instant, and its row is refused;
 * - timestamps and dates outside what a JavaScript Date holds are refused row by row (a Date of
 *   them is Invalid Date, which would be stored as that text);
 * - GEOMETRY, GEOGRAPHY (WKB) and BSON are bytes: base64, like any BINARY without a string
 *   annotation (hyparquet would turn WKB into GeoJSON, or fail on BSON);
 * - a struct field that is null is null, not left out (hyparquet leaves it undefined, and JSON
 *   drops an undefined field); an unannotated REPEATED field holding nothing is an empty list;
 * - a MAP is an object keyed by its keys' text, made here from its entries (hyparquet would make
 *   a binary key "104,105", a timestamp key the Date's local text, a DECIMAL key its unscaled
 *   digits): bytes in base64, dates in ISO 8601, numbers as written; a MAP without a value field
 *   is the list of its keys; a legacy LIST whose repeated group has several fields is the list of
 *   those structs (hyparquet would give the groups' own shape);
 * - LIST, DATE, JSON, ENUM given only as logical types are read as their converted types are
 *   (hyparquet looks at converted types only), ENUM and JSON being text.
 *
 * INTERVAL is refused, naming the column.
 */
import { parquetSchema } from 'hyparquet';
import type { ColumnChunk, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { isListLike } from 'hyparquet/src/schema.js';
import { InvalidFileError } from '../../errors.js';
import { UnstorableValue } from '../values.js';

/** What turns a column's value as hyparquet assembles it into the file's value. */
export type Mend = (v: unknown) => unknown;

export interface ParquetReadPlan {
  /** The footer hyparquet reads the pages with. */
  metadata: FileMetaData;
  /** For each top-level column, its mend; undefined where hyparquet's value is the file's. */
  mends: Array<Mend | undefined>;
  parsers: Partial<ParquetParsers>;
}

/** The milliseconds a JavaScript Date holds, each side of 1970. */
const MAX_DATE_MS = 8_640_000_000_000_000n;
const NANOS_PER_DAY = 86_400_000_000_000n;
/** The Julian day of 1970-01-01, where INT96 days count from. */
const JULIAN_EPOCH = 2_440_588;

/** A timestamp as a Date, or refused when no Date holds it. */
function instant(ms: bigint): Date | UnstorableValue {
  if (ms < -MAX_DATE_MS || ms > MAX_DATE_MS) {
    return new UnstorableValue(`is a timestamp ${ms} ms from 1970, outside the dates a table can hold (about 275,000 years either way)`);
  }
  return new Date(Number(ms));
}

/** hyparquet's parsers of dates and timestamps, refusing what no Date holds. */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (ms) => instant(BigInt(ms)),
  timestampFromMicroseconds: (us) => instant(BigInt(us) / 1000n),
  timestampFromNanoseconds: (ns) => instant(BigInt(ns) / 1_000_000n),
  dateFromDays: (days) => instant(BigInt(days) * 86_400_000n),
};

/** An INT96 timestamp from its 12 bytes: nanoseconds of the day (little-endian int64), then the Julian day (int32). */
function int96(v: unknown): unknown {
  if (!(v instanceof Uint8Array) || v.length !== 12) return v;
  const view = new DataView(v.buffer, v.byteOffset, 12);
  const nanos = view.getBigInt64(0, true);
  const day = view.getInt32(8, true);
  if (nanos < 0n || nanos >= NANOS_PER_DAY) {
    return new UnstorableValue(
      `is an INT96 timestamp whose time of day (${nanos} ns) is outside a day, so it names no instant (Spark writes such values for dates it cannot hold)`,
    );
  }
  return instant((BigInt(day - JULIAN_EPOCH) * NANOS_PER_DAY + nanos) / 1_000_000n);
}

/** The unscaled value of a DECIMAL: an INT32, an INT64, or big-endian two's complement bytes. */
function unscaled(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (!(v instanceof Uint8Array)) return undefined;
  if (v.length === 0) return 0n;
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  return (v[0] as number) & 0x80 ? n - (1n << BigInt(v.length * 8)) : n;
}

/** `-12.345` as sign, digits without leading or trailing zeros, and exponent: `-12345e-3`. */
function canonical(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!m) return text;
  const fraction = m[3] ?? '';
  let digits = `${m[2] ?? ''}${fraction}`.replace(/^0+/, '');
  let exponent = Number(m[4] ?? 0) - fraction.length;
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  return digits === '' ? '0' : `${m[1] === '-' ? '-' : ''}${digits}e${exponent}`;
}

/** Below this many units, a decimal has at most 15 significant digits, which a double always keeps. */
const EXACT_UNITS = 1_000_000_000_000_000n;

/** A DECIMAL's value: the number when it is the decimal exactly, else the decimal's text. */
export function decimalValue(u: bigint, scale: number): number | string {
  const small = u > -EXACT_UNITS && u < EXACT_UNITS;
  // Both operands exact, so the division rounds once, as parsing the decimal text would.
  if (small && scale <= 22) return Number(u) / 10 ** scale;
  const digits = (u < 0n ? -u : u).toString().padStart(scale + 1, '0');
  const text = `${u < 0n ? '-' : ''}${scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits}`;
  const n = Number(text);
  return small || canonical(String(n)) === canonical(text) ? n : text;
}

function decimal(scale: number): Mend {
  return (v) => {
    const u = unscaled(v);
    return u === undefined ? v : decimalValue(u, scale);
  };
}

/** JSON text as its value; text that is not JSON stays text. */
function json(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/**
 * Leaves the column's values raw where hyparquet's conversion would change them (the element is
 * the plan's own copy), and returns how to convert them; undefined when hyparquet's are right.
 */
function rawLeaf(e: SchemaElement, path: string): Mend | undefined {
  const logical = e.logical_type?.type;
  if (e.converted_type === 'INTERVAL' || logical === 'INTERVAL') {
    throw new InvalidFileError(
      `Column "${path}" of the Parquet file holds INTERVAL values, which are not supported; write them as numbers or text.`,
    );
  }
  if (e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL') {
    const scale = (e.logical_type?.type === 'DECIMAL' ? e.logical_type.scale : e.scale) ?? 0;
    delete e.converted_type;
    delete e.logical_type;
    return decimal(scale);
  }
  if (e.type === 'INT96') {
    e.type = 'FIXED_LEN_BYTE_ARRAY';
    e.type_length = 12;
    return int96;
  }
  if (logical === 'GEOMETRY' || logical === 'GEOGRAPHY' || logical === 'BSON' || e.converted_type === 'BSON') {
    delete e.converted_type;
    delete e.logical_type;
    return undefined;
  }
  if (logical === 'JSON' || e.converted_type === 'JSON') {
    e.converted_type = 'UTF8';
    delete e.logical_type;
    return json;
  }
  if (logical === 'ENUM' || e.converted_type === 'ENUM') e.converted_type = 'UTF8';
  else if (logical === 'DATE' && !e.converted_type) e.converted_type = 'DATE';
  return undefined;
}

/**
 * A LIST annotated with a logical type only is read as its converted type says. A MAP (whose one
 * child is its repeated key_value group) loses its annotation in the copy: hyparquet then gives
 * its entries as they are, `{key_value: [{key, value}]}`, and the mend makes the map. True for a MAP.
 */
function groupType(node: SchemaTree): boolean {
  const e = node.element;
  const logical = e.logical_type?.type;
  if (!e.converted_type && logical === 'LIST') e.converted_type = 'LIST';
  const entries = node.children.length === 1 ? node.children[0] : undefined;
  if ((e.converted_type === 'MAP' || logical === 'MAP') && entries?.element.repetition_type === 'REPEATED' && entries.children.length) {
    delete e.converted_type;
    delete e.logical_type;
    return true;
  }
  return false;
}

/** A map key as an object key: bytes in base64, a date in ISO 8601, anything else as its text. */
function keyText(k: unknown): string {
  if (k instanceof Uint8Array) return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('base64');
  if (k instanceof Date) return k.toISOString();
  if (k !== null && typeof k === 'object') return JSON.stringify(k);
  return String(k);
}

/** A null for what hyparquet leaves undefined. */
const orNull: Mend = (v) => v ?? null;

/** The mend of a node's values: one value, or (for an unannotated REPEATED node outside a list) a list of them. */
/** The plan's knowledge of the schema: each converted leaf's conversion, and the groups that are MAPs. */
interface Shapes {
  leaves: Map<SchemaTree, Mend>;
  maps: Set<SchemaTree>;
}

function nodeMend(node: SchemaTree, shapes: Shapes, element = false): Mend {
  const one = valueMend(node, shapes);
  if (node.element.repetition_type !== 'REPEATED' || element) return one;
  // A repeated field holding nothing is an empty list (hyparquet gives undefined).
  return (v) => (Array.isArray(v) ? v.map(one) : []);
}

function valueMend(node: SchemaTree, shapes: Shapes): Mend {
  const { element, children } = node;
  if (children.length === 0) {
    const leaf = shapes.leaves.get(node);
    return leaf ? (v) => (v === undefined || v === null ? null : leaf(v)) : orNull;
  }
  const list =
    (mend: Mend): Mend =>
    (v) =>
      Array.isArray(v) ? v.map(mend) : null;
  if (isListLike(node)) {
    const repeated = children[0] as SchemaTree;
    const item = repeated.children.length === 1 ? (repeated.children[0] as SchemaTree) : repeated;
    return list(nodeMend(item, shapes, true));
  }
  const group = children.length === 1 ? (children[0] as SchemaTree) : undefined;
  const repeatedGroup = group?.element.repetition_type === 'REPEATED' && group.children.length > 0 ? group : undefined;
  if (repeatedGroup && shapes.maps.has(node)) {
    const name = (n: string) => repeatedGroup.children.find((c) => c.element.name === n);
    const keyNode = name('key') ?? (repeatedGroup.children[0] as SchemaTree);
    const valueNode = name('value') ?? (repeatedGroup.children.length === 2 ? repeatedGroup.children[1] : undefined);
    const key = nodeMend(keyNode, shapes, true);
    const entry = (e: unknown, field: SchemaTree) =>
      e === null || typeof e !== 'object' ? undefined : (e as Record<string, unknown>)[field.element.name];
    // A MAP whose key_value group has only a key: the file means the list of its keys.
    if (!valueNode) return (v) => unwrap(v, repeatedGroup.element.name, (e) => key(entry(e, keyNode)));
    const value = nodeMend(valueNode, shapes, true);
    return (v) => {
      const entries = unwrap(v, repeatedGroup.element.name, (e) => e);
      if (!Array.isArray(entries)) return null;
      const map: Record<string, unknown> = {};
      for (const e of entries) {
        const k = key(entry(e, keyNode));
        // A key no field can store refuses the row, as a value would.
        if (k instanceof UnstorableValue) return k;
        map[keyText(k)] = value(entry(e, valueNode));
      }
      return map;
    };
  }
  // A legacy LIST whose repeated group has several fields: hyparquet gives {group: [...]}, the file means the list.
  if (element.converted_type === 'LIST' && repeatedGroup) {
    const mend = nodeMend(repeatedGroup, shapes, true);
    return (v) => unwrap(v, repeatedGroup.element.name, mend);
  }
  if (element.logical_type?.type === 'VARIANT') return orNull;
  const fields = children.map((c) => [c.element.name, nodeMend(c, shapes)] as const);
  return (v) => {
    if (v === undefined || v === null || typeof v !== 'object') return v ?? null;
    const struct = v as Record<string, unknown>;
    for (const [name, mend] of fields) struct[name] = mend(struct[name]);
    return struct;
  };
}

/** The list a group holds under `name`, each item mended. */
function unwrap(v: unknown, name: string, mend: Mend): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return null;
  const items = (v as Record<string, unknown>)[name];
  return Array.isArray(items) ? items.map(mend) : [];
}

/** Whether hyparquet's value of a top-level column needs its mend. */
function needsMend(node: SchemaTree, shapes: Shapes): boolean {
  return node.children.length > 0 || node.element.repetition_type === 'REPEATED' || shapes.leaves.has(node);
}

/** The footer hyparquet reads with, and each top-level column's mend. */
export function parquetReadPlan(metadata: FileMetaData): ParquetReadPlan {
  const schema = metadata.schema.map((e) => ({ ...e }));
  const tree = parquetSchema({ schema });
  const shapes: Shapes = { leaves: new Map(), maps: new Set() };
  /** Leaf paths whose physical type the copy changes (INT96 read as 12 bytes). */
  const retyped = new Map<string, SchemaElement>();
  const walk = (node: SchemaTree): void => {
    for (const child of node.children) {
      if (child.children.length) {
        if (groupType(child)) shapes.maps.add(child);
        walk(child);
        continue;
      }
      const type = child.element.type;
      const leaf = rawLeaf(child.element, child.path.join('.'));
      if (leaf) shapes.leaves.set(child, leaf);
      if (child.element.type !== type) retyped.set(child.path.join('.'), child.element);
    }
  };
  walk(tree);
  // Copies down to each chunk's metadata, which the reader may correct (a chunk's true length).
  const rowGroups = metadata.row_groups.map((g) => ({
    ...g,
    columns: g.columns.map((c): ColumnChunk => {
      if (!c.meta_data) return c;
      const type = retyped.get(c.meta_data.path_in_schema.join('.'))?.type;
      return { ...c, meta_data: { ...c.meta_data, ...(type ? { type } : {}) } };
    }),
  }));
  return {
    metadata: { ...metadata, schema, row_groups: rowGroups },
    mends: tree.children.map((c) => (needsMend(c, shapes) ? nodeMend(c, shapes) : undefined)),
    parsers: PARSERS,
  };
}
