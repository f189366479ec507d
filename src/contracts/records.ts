/**
 * The records API: rows in (one object, or an array of up to 1,000), changes to one row, and a
 * page's query (MinApp's `where` and `order_by`). Each row's fields are checked against its table
 * by the records service, as an import checks them.
 */
import { parseOrderByText, parseWhereText } from '../db/query/index.js';
import { InvalidParameterError } from '../errors.js';
import { parsePageQuery, type PageQuery } from './paging.js';

/** A value of a JSON body. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const MAX_ROWS_PER_INSERT = 1000;

/** `POST .../record/`: one row, or several. */
export interface RowsInsert {
  many: boolean;
  rows: JsonValue[];
}

export function parseRowsInsert(body: JsonValue | undefined): RowsInsert {
  const many = Array.isArray(body);
  const rows: JsonValue[] = Array.isArray(body) ? body : [body ?? null];
  if (rows.length === 0) throw new InvalidParameterError('body', 'Send a row object or a non-empty array of rows.');
  if (rows.length > MAX_ROWS_PER_INSERT)
    throw new InvalidParameterError('body', `At most ${MAX_ROWS_PER_INSERT} rows can be inserted in one call; got ${rows.length}.`);
  return { many, rows };
}

/** `PUT .../record/:id/`: the fields to change, with plain values or MinApp's atomic operators. */
export type RecordChanges = Record<string, JsonValue>;

export function parseRecordChanges(body: JsonValue | undefined): RecordChanges {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidParameterError('body', 'Send an object of the fields to change.');
  if (Object.keys(body).length === 0) throw new InvalidParameterError('body', 'Send at least one field to change.');
  return body;
}

/** `GET .../record/`: a page, a MinApp query and an order, each also kept as given for the page links. */
export interface RecordsQuery {
  page: PageQuery;
  where?: { value: unknown; text: string };
  orderBy?: { keys: string[]; text: string };
}

export function parseRecordsQuery(query: Record<string, unknown>): RecordsQuery {
  const out: RecordsQuery = { page: parsePageQuery(query) };
  const where = parseWhereText(query.where);
  if (where !== undefined) out.where = { value: where, text: String(query.where) };
  const orderBy = parseOrderByText(query.order_by);
  if (orderBy !== undefined) out.orderBy = { keys: orderBy, text: String(query.order_by) };
  return out;
}
