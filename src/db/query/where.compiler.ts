/**
 * MinApp's `where` (a JSON query) compiled to a SQL condition. Pure: names are checked against the
 * table's fields and quoted, values are checked against the field's type and bound through a
 * {@link Binder}, never written into the SQL. Every refusal is `invalid_parameter` naming the field
 * or operator at fault.
 */
import { InvalidParameterError } from '../../errors.js';
import {
  convertJson,
  DEFAULT_VALUE_LIMITS,
  kindOf,
  KIND_STRING,
  problemUnder,
  show,
  type Problem,
  type ValueLimits,
} from '../../formats/values.js';
import type { FieldSchema, FieldType } from '../../types/api.js';
import type { Binder } from './binder.js';
import { queryFields, type QueryField } from './query-fields.js';

/** Bounds on the query itself, so a hostile `where` costs little to refuse. */
export const WHERE_LIMITS = {
  /** Nesting of `$and`/`$or`. */
  maxDepth: 8,
  /** Conditions and list items in all. */
  maxNodes: 1000,
  /** Items of one `$in`/`$nin`/`$all`/`$and`/`$or` list. */
  maxListItems: 500,
  /** Characters of a `$regex` pattern. */
  maxRegexLength: 1000,
  /** Nesting of an object or array value (`$eq` on an object field). */
  maxValueDepth: 32,
};

export const WHERE_OPERATORS = [
  '$eq',
  '$ne',
  '$lt',
  '$lte',
  '$gt',
  '$gte',
  '$in',
  '$nin',
  '$contains',
  '$isnull',
  '$range',
  '$exists',
  '$regex',
  '$all',
] as const;
type Operator = (typeof WHERE_OPERATORS)[number];

// What MinApp allows per field type ("数据类型对应查询操作符表"), plus `$ne`, `$in`, `$nin` where they mean something.
const ALLOWED: Record<FieldType, ReadonlySet<Operator>> = {
  string: new Set(['$eq', '$ne', '$in', '$nin', '$contains', '$regex', '$isnull', '$exists']),
  integer: new Set(['$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$range', '$isnull', '$exists']),
  number: new Set(['$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$range', '$isnull', '$exists']),
  boolean: new Set(['$eq', '$ne', '$isnull', '$exists']),
  date: new Set(['$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$isnull', '$exists']),
  array: new Set(['$eq', '$in', '$nin', '$contains', '$all', '$isnull', '$exists']),
  object: new Set(['$eq', '$isnull', '$exists']),
};

const COMPARE = { $lt: '<', $lte: '<=', $gt: '>', $gte: '>=' } as const;

export interface CompiledWhere {
  /** A SQL condition (`TRUE` for an empty query). */
  sql: string;
  /** Every `$regex` pattern, to be checked by PostgreSQL before the query runs (see {@link assertRegexes}). */
  regexes: string[];
}

/** Compiles `where` (already parsed JSON) against a table's fields. */
export function compileWhere(
  where: unknown,
  fields: readonly FieldSchema[],
  binder: Binder,
  param = 'where',
  /** MAX_CELL_BYTES and MAX_JSON_DEPTH for the values compared with. */
  limits: ValueLimits = DEFAULT_VALUE_LIMITS,
): CompiledWhere {
  const c = new WhereCompiler(queryFields(fields), binder, param, limits);
  return { sql: c.query(where, param, 0), regexes: c.regexes };
}

/** Reads `where` from a query string value: URL-decoded JSON text of an object. */
export function parseWhereText(v: unknown, param = 'where'): unknown {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidParameterError(param, `"${param}" must be given once, as JSON text.`);
  // MinApp's URLs stop at 16 KiB; a query this long is a mistake or an attack.
  if (v.length > 16_384) throw new InvalidParameterError(param, `"${param}" is longer than 16384 characters.`);
  try {
    return JSON.parse(v);
  } catch {
    throw new InvalidParameterError(param, `"${param}" is not valid JSON.`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Conditions joined by AND or OR, parenthesised when there is more than one. */
function combine(conds: string[], op: string): string {
  return conds.length === 1 ? conds.join('') : `(${conds.join(op)})`;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, '\\$&');
}

class WhereCompiler {
  readonly regexes: string[] = [];
  private nodes = 0;
  private readonly problem: Problem;

  constructor(
    private readonly fields: Map<string, QueryField>,
    private readonly binder: Binder,
    private readonly root: string,
    limits: ValueLimits,
  ) {
    this.problem = problemUnder(limits);
  }

  private fail(path: string, message: string): never {
    throw new InvalidParameterError(path, `Invalid "${path}": ${message}.`);
  }

  private count(path: string, n = 1): void {
    this.nodes += n;
    if (this.nodes > WHERE_LIMITS.maxNodes)
      this.fail(this.root, `the query has more than ${WHERE_LIMITS.maxNodes} conditions and list items`);
    void path;
  }

  query(q: unknown, path: string, depth: number): string {
    if (depth > WHERE_LIMITS.maxDepth) this.fail(path, `$and/$or are nested more than ${WHERE_LIMITS.maxDepth} levels deep`);
    if (!isPlainObject(q)) this.fail(path, 'must be a JSON object of conditions');
    const parts: string[] = [];
    for (const key of Object.keys(q)) {
      const v = q[key];
      const at = `${path}.${key}`;
      this.count(at);
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(v) || v.length === 0) this.fail(at, 'must be a non-empty array of queries');
        if (v.length > WHERE_LIMITS.maxListItems) this.fail(at, `has more than ${WHERE_LIMITS.maxListItems} items`);
        const subs = v.map((s, i) => this.query(s, `${at}[${i}]`, depth + 1));
        parts.push(combine(subs, key === '$and' ? ' AND ' : ' OR '));
      } else if (key.startsWith('$')) {
        this.fail(at, `"${key}" is not an operator here (use $and or $or to combine queries)`);
      } else {
        parts.push(this.field(key, v, at));
      }
    }
    return parts.length === 0 ? 'TRUE' : combine(parts, ' AND ');
  }

  private field(name: string, v: unknown, path: string): string {
    const f = this.fields.get(name);
    if (!f) this.fail(path, `"${name}" is not a field of the table`);
    if (isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'))) {
      const keys = Object.keys(v);
      const plain = keys.find((k) => !k.startsWith('$'));
      if (plain !== undefined) this.fail(`${path}.${plain}`, 'operators and plain keys cannot be mixed');
      if ('$options' in v && !('$regex' in v)) this.fail(`${path}.$options`, '$options goes with $regex only');
      const conds = keys.filter((k) => k !== '$options').map((op) => this.operator(f, op, v[op], `${path}.${op}`, v.$options));
      return combine(conds, ' AND ');
    }
    // A bare value means $eq.
    return this.operator(f, '$eq', v, path, undefined);
  }

  private operator(f: QueryField, op: string, v: unknown, path: string, options: unknown): string {
    this.count(path);
    if (!(WHERE_OPERATORS as readonly string[]).includes(op))
      this.fail(path, `"${op}" is not an operator; use one of ${WHERE_OPERATORS.join(' ')}`);
    const o = op as Operator;
    if (!ALLOWED[f.type].has(o)) this.fail(path, `"${op}" does not apply to the ${f.type} field "${f.name}"`);
    const col = f.column;
    switch (o) {
      case '$isnull':
      case '$exists': {
        if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${show(v)}`);
        // A missing value is stored as NULL: "exists" is "is not null".
        return (o === '$isnull') === v ? `${col} IS NULL` : `${col} IS NOT NULL`;
      }
      case '$eq':
        if (v === null) return `${col} IS NULL`;
        return `${col} = ${this.whole(f, v, path)}`;
      case '$ne':
        if (v === null) return `${col} IS NOT NULL`;
        // As MinApp (MongoDB): rows without a value differ from any value.
        return `${col} IS DISTINCT FROM ${this.whole(f, v, path)}`;
      case '$lt':
      case '$lte':
      case '$gt':
      case '$gte':
        return `${col} ${COMPARE[o]} ${this.scalar(f, v, path)}`;
      case '$range': {
        if (!Array.isArray(v) || v.length !== 2) this.fail(path, 'must be [low, high]');
        const lo = this.scalarText(f, v[0], `${path}[0]`);
        const hi = this.scalarText(f, v[1], `${path}[1]`);
        if (Number(lo) > Number(hi)) this.fail(path, 'low must not be greater than high');
        return `${col} BETWEEN ${this.binder.bind(lo, f.cast)} AND ${this.binder.bind(hi, f.cast)}`;
      }
      case '$in':
      case '$nin': {
        const any = f.type === 'array' ? this.overlaps(f, v, path) : `${col} = ANY (${this.list(f, v, path)})`;
        return o === '$in' ? any : `(${col} IS NULL OR NOT ${any})`;
      }
      case '$contains':
        if (f.type === 'array') return `${col} @> ${this.binder.bind(JSON.stringify([this.element(v, path)]), 'jsonb')}`;
        return `${col} LIKE ${this.binder.bind(`%${escapeLike(this.text(v, path))}%`, 'text')}`;
      case '$all': {
        const items = this.items(v, path);
        return `${col} @> ${this.binder.bind(JSON.stringify(items.map((x, i) => this.element(x, `${path}[${i}]`))), 'jsonb')}`;
      }
      case '$regex': {
        const pattern = this.text(v, path);
        if (pattern.length > WHERE_LIMITS.maxRegexLength) this.fail(path, `is longer than ${WHERE_LIMITS.maxRegexLength} characters`);
        if (options !== undefined && options !== '' && options !== 'i')
          this.fail(path.replace(/\$regex$/, '$options'), 'the only option is "i" (ignore case)');
        this.regexes.push(pattern);
        return `${col} ${options === 'i' ? '~*' : '~'} ${this.binder.bind(pattern, 'text')}`;
      }
    }
  }

  /** A value compared with the whole field: a scalar, or for array/object fields a JSON value of that shape. */
  private whole(f: QueryField, v: unknown, path: string): string {
    if (f.type !== 'array' && f.type !== 'object') return this.scalar(f, v, path);
    this.checkDepth(v, path, 0);
    if (convertJson(kindOf(f.type), v, this.problem) === undefined) this.fail(path, this.problem.message);
    return this.binder.bind(JSON.stringify(v), 'jsonb');
  }

  private scalar(f: QueryField, v: unknown, path: string): string {
    return this.binder.bind(this.scalarText(f, v, path), f.cast);
  }

  /** The text of a value for a scalar field, checked as an insert would check it. */
  private scalarText(f: QueryField, v: unknown, path: string): string {
    if (v === null || v === undefined) this.fail(path, 'must be a value, not null');
    // created_by holds a user id: MinApp's clients send it as a number.
    if (f.name === 'created_by' && typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    const out = convertJson(kindOf(f.type), v, this.problem);
    if (out === undefined) this.fail(path, `field "${f.name}" ${this.problem.message}`);
    if (f.type === 'string') return v as string; // convertJson gives COPY text; a bound value is the string itself
    if (f.type === 'boolean') return v ? 'true' : 'false';
    return out;
  }

  private text(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${show(v)}`);
    if (convertJson(KIND_STRING, v, this.problem) === undefined) this.fail(path, this.problem.message);
    return v;
  }

  private items(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v) || v.length === 0) this.fail(path, 'must be a non-empty array');
    if (v.length > WHERE_LIMITS.maxListItems) this.fail(path, `has more than ${WHERE_LIMITS.maxListItems} items`);
    this.count(path, v.length);
    return v;
  }

  /** `$in` on a scalar field: the values as a SQL array of the column's type. */
  private list(f: QueryField, v: unknown, path: string): string {
    const texts = this.items(v, path).map((x, i) => this.scalarText(f, x, `${path}[${i}]`));
    return `ARRAY(SELECT jsonb_array_elements_text(${this.binder.bind(JSON.stringify(texts), 'jsonb')}))::${f.cast}[]`;
  }

  /** `$in` on an array field: the array holds at least one of the values. */
  private overlaps(f: QueryField, v: unknown, path: string): string {
    const els = this.items(v, path).map((x, i) => this.element(x, `${path}[${i}]`));
    // "#el", a name no field can have: a field named "v" was taken for the element (and matched nothing).
    return `EXISTS (SELECT 1 FROM jsonb_array_elements(${this.binder.bind(JSON.stringify(els), 'jsonb')}) "#el" WHERE ${f.column} @> jsonb_build_array("#el"))`;
  }

  /** An element to look for in an array field: a string, a number or a boolean. */
  private element(v: unknown, path: string): string | number | boolean {
    if (typeof v === 'string') return this.text(v, path);
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return v;
    return this.fail(path, `array elements to match must be strings, numbers or booleans, got ${show(v)}`);
  }

  private checkDepth(v: unknown, path: string, depth: number): void {
    if (typeof v !== 'object' || v === null) return;
    if (depth >= WHERE_LIMITS.maxValueDepth) this.fail(path, `is nested more than ${WHERE_LIMITS.maxValueDepth} levels deep`);
    for (const x of Object.values(v)) this.checkDepth(x, path, depth + 1);
  }
}
