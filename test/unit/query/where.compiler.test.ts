import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileOrderBy, compileWhere, parameterBinder, parseWhereText, settingBinder, settingsSql } from '../../../src/db/query/index.js';
import { InvalidParameterError } from '../../../src/errors.js';
import type { FieldSchema } from '../../../src/types/api.js';

const FIELDS: FieldSchema[] = [
  { name: 'title', type: 'string' },
  { name: 'qty', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'paid', type: 'boolean' },
  { name: 'due', type: 'date' },
  { name: 'tags', type: 'array' },
  { name: 'meta', type: 'object' },
];

function compile(where: unknown) {
  const b = parameterBinder();
  const c = compileWhere(where, FIELDS, b);
  return { sql: c.sql, values: b.values, regexes: c.regexes };
}

function refused(where: unknown, parameter: string, message?: RegExp) {
  assert.throws(
    () => compile(where),
    (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError, String(err));
      assert.equal(err.code, 'invalid_parameter');
      assert.equal(err.parameter, parameter);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('where compiler', () => {
  test('a bare value is $eq, several keys are ANDed, values are bound and never in the SQL', () => {
    const q = compile({ title: "x'); DROP TABLE t; --", qty: 3 });
    assert.equal(q.sql, '("title" = $1::text AND "qty" = $2::bigint)');
    assert.deepEqual(q.values, ["x'); DROP TABLE t; --", '3']);
  });

  test('every operator compiles on the types it applies to', () => {
    const cases: Array<[unknown, string, string[]]> = [
      [{ qty: { $ne: 1 } }, '"qty" IS DISTINCT FROM $1::bigint', ['1']],
      [{ qty: { $lt: 1, $gte: -5 } }, '("qty" < $1::bigint AND "qty" >= $2::bigint)', ['1', '-5']],
      [{ price: { $lte: 1.5 } }, '"price" <= $1::double precision', ['1.5']],
      [{ price: { $gt: 2 } }, '"price" > $1::double precision', ['2']],
      [{ price: { $range: [1, 2.5] } }, '"price" BETWEEN $1::double precision AND $2::double precision', ['1', '2.5']],
      [{ created_at: { $range: [10, 20] } }, 'created_at BETWEEN $1::bigint AND $2::bigint', ['10', '20']],
      [{ due: { $gte: '2024-05-01' } }, '"due" >= $1::timestamptz', ['2024-05-01 00:00:00+00']],
      [{ paid: true }, '"paid" = $1::boolean', ['true']],
      [{ title: { $in: ['a', 'b'] } }, '"title" = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::text[])', ['["a","b"]']],
      [
        { qty: { $nin: [1, 2] } },
        '("qty" IS NULL OR NOT "qty" = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::bigint[]))',
        ['["1","2"]'],
      ],
      [{ title: { $contains: '50%_off\\' } }, '"title" LIKE $1::text', ['%50\\%\\_off\\\\%']],
      [{ tags: { $contains: 'x' } }, '"tags" @> $1::jsonb', ['["x"]']],
      [{ tags: { $all: ['x', 2] } }, '"tags" @> $1::jsonb', ['["x",2]']],
      [
        { tags: { $in: ['x', true] } },
        'EXISTS (SELECT 1 FROM jsonb_array_elements($1::jsonb) "#el" WHERE "tags" @> jsonb_build_array("#el"))',
        ['["x",true]'],
      ],
      [{ tags: ['a', 'b'] }, '"tags" = $1::jsonb', ['["a","b"]']],
      [{ meta: { a: 1 } }, '"meta" = $1::jsonb', ['{"a":1}']],
      [{ meta: { $isnull: true } }, '"meta" IS NULL', []],
      [{ meta: { $exists: true } }, '"meta" IS NOT NULL', []],
      [{ paid: { $exists: false } }, '"paid" IS NULL', []],
      [{ due: null }, '"due" IS NULL', []],
      [{ title: { $regex: '^a.c$', $options: 'i' } }, '"title" ~* $1::text', ['^a.c$']],
      [{ id: { $in: ['r1'] } }, 'id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::text[])', ['["r1"]']],
      [{ created_by: 7 }, 'created_by = $1::text', ['7']],
    ];
    for (const [where, sql, values] of cases) {
      const q = compile(where);
      assert.equal(q.sql, sql, JSON.stringify(where));
      assert.deepEqual(q.values, values, JSON.stringify(where));
    }
    assert.deepEqual(compile({ title: { $regex: 'a(' } }).regexes, ['a(']);
  });

  test('$and and $or combine, nested, beside plain fields', () => {
    const q = compile({ qty: 1, $or: [{ title: 'a' }, { $and: [{ paid: true }, { price: { $gt: 1 } }] }] });
    assert.equal(q.sql, '("qty" = $1::bigint AND ("title" = $2::text OR ("paid" = $3::boolean AND "price" > $4::double precision)))');
    assert.equal(compile({}).sql, 'TRUE');
  });

  test('operators refused on types they do not apply to, naming the field and operator', () => {
    refused({ title: { $gt: 'a' } }, 'where.title.$gt', /does not apply to the string field "title"/);
    refused({ paid: { $in: [true] } }, 'where.paid.$in');
    refused({ meta: { $contains: 'a' } }, 'where.meta.$contains');
    refused({ qty: { $regex: '1' } }, 'where.qty.$regex');
    refused({ title: { $all: ['a'] } }, 'where.title.$all');
    refused({ due: { $range: ['2024-01-01', '2024-02-01'] } }, 'where.due.$range');
    refused({ tags: { $gt: 1 } }, 'where.tags.$gt');
    refused({ qty: { $contains: 1 } }, 'where.qty.$contains');
  });

  test('values of the wrong type are refused, as an insert would refuse them', () => {
    refused({ qty: 'three' }, 'where.qty', /must be an integer/);
    refused({ qty: { $gt: 1.5 } }, 'where.qty.$gt', /must be an integer/);
    refused({ price: { $lt: 'x' } }, 'where.price.$lt', /must be a number/);
    refused({ paid: 'yes' }, 'where.paid', /true or false/);
    refused({ due: { $lt: '2024-13-01' } }, 'where.due.$lt', /ISO 8601/);
    refused({ due: { $lt: 1700000000 } }, 'where.due.$lt', /ISO 8601/);
    refused({ title: 5 }, 'where.title', /must be a string/);
    refused({ title: { $contains: 'a\u0000' } }, 'where.title.$contains', /U\+0000/);
    refused({ tags: { $contains: { a: 1 } } }, 'where.tags.$contains', /strings, numbers or booleans/);
    refused({ tags: 'x' }, 'where.tags', /must be an array/);
    refused({ meta: [1] }, 'where.meta', /must be an object/);
    refused({ qty: { $in: [] } }, 'where.qty.$in', /non-empty array/);
    refused({ qty: { $in: [1, 'a'] } }, 'where.qty.$in[1]');
    refused({ qty: { $range: [5, 1] } }, 'where.qty.$range');
    refused({ qty: { $range: [1] } }, 'where.qty.$range');
    refused({ qty: { $isnull: 'yes' } }, 'where.qty.$isnull');
    refused({ qty: { $lt: null } }, 'where.qty.$lt');
    refused({ title: { $regex: 'a', $options: 'g' } }, 'where.title.$options');
    refused({ title: { $options: 'i' } }, 'where.title.$options');
  });

  test('unknown fields, operators and shapes are refused', () => {
    refused({ nope: 1 }, 'where.nope', /"nope" is not a field/);
    refused({ qty: { $between: [1, 2] } }, 'where.qty.$between', /not an operator/);
    refused({ $not: { qty: 1 } }, 'where.$not');
    refused({ $or: [] }, 'where.$or');
    refused({ $or: { qty: 1 } }, 'where.$or');
    refused({ $and: [1] }, 'where.$and[0]');
    refused({ qty: { $gt: 1, x: 2 } }, 'where.qty.x');
    refused([], 'where');
    refused('qty=1', 'where');
  });

  test('a hostile query is refused cheaply: depth, size, list and pattern limits', () => {
    let deep: unknown = { qty: 1 };
    for (let i = 0; i < 50; i++) deep = { $and: [deep] };
    refused(deep, 'where.$and[0].$and[0].$and[0].$and[0].$and[0].$and[0].$and[0].$and[0].$and[0]', /nested more than 8/);
    refused({ qty: { $in: Array.from({ length: 501 }, (_, i) => i) } }, 'where.qty.$in', /more than 500/);
    refused({ $or: Array.from({ length: 400 }, () => ({ qty: { $in: [1, 2, 3] } })) }, 'where', /more than 1000/);
    refused({ title: { $regex: 'a'.repeat(1001) } }, 'where.title.$regex', /longer than 1000/);
    let deepObj: unknown = 1;
    for (let i = 0; i < 40; i++) deepObj = { a: deepObj };
    refused({ meta: deepObj }, 'where.meta', /nested more than 32/);
  });

  test('parseWhereText reads JSON text once, and refuses anything else', () => {
    assert.deepEqual(parseWhereText('{"qty": 1}'), { qty: 1 });
    assert.equal(parseWhereText(undefined), undefined);
    assert.throws(() => parseWhereText('{'), /not valid JSON/);
    assert.throws(() => parseWhereText(['{}', '{}']), /given once/);
    assert.throws(() => parseWhereText('x'.repeat(20_000)), /longer than/);
  });

  test('the COPY binder reads values from session settings set by bound parameters', () => {
    const b = settingBinder();
    const c = compileWhere({ qty: { $gt: 1 }, title: 'a' }, FIELDS, b);
    assert.equal(
      c.sql,
      `("qty" > (SELECT current_setting('tableport.q0')::bigint) AND "title" = (SELECT current_setting('tableport.q1')::text))`,
    );
    assert.deepEqual(b.values, ['1', 'a']);
    assert.equal(settingsSql(2), `SELECT set_config('tableport.q0', $1, false), set_config('tableport.q1', $2, false)`);
    assert.equal(settingsSql(0), null);
  });
});

describe('order_by compiler', () => {
  test('keys, descending, and the id tie-break in the last key direction', () => {
    assert.equal(compileOrderBy(['-price', 'title'], FIELDS, []), '"price" DESC, "title" ASC, id ASC');
    assert.equal(compileOrderBy(undefined, FIELDS, ['-created_at']), 'created_at DESC, id DESC');
    assert.equal(compileOrderBy(['created_at'], FIELDS, ['-created_at']), 'created_at ASC, id ASC');
    assert.equal(compileOrderBy(['-id'], FIELDS, []), 'id DESC');
    assert.equal(compileOrderBy(['paid', '-due', 'qty'], FIELDS, []), '"paid" ASC, "due" DESC, "qty" ASC, id ASC');
  });

  test('array and object fields, unknown and repeated keys are refused', () => {
    assert.throws(() => compileOrderBy(['tags'], FIELDS, []), /array field/);
    assert.throws(() => compileOrderBy(['-meta'], FIELDS, []), /object field/);
    assert.throws(() => compileOrderBy(['nope'], FIELDS, []), /"nope" is not a field/);
    assert.throws(() => compileOrderBy(['qty', '-qty'], FIELDS, []), /named twice/);
    assert.throws(() => compileOrderBy(['title"; DROP'], FIELDS, []), InvalidParameterError);
  });
});

describe('export columns', () => {
  test('include/exclude keys pick and order the columns; converted timestamps read as dates', async () => {
    const { exportColumns, exportColumnTypes } = await import('../../../src/db/table-sql.js');
    assert.deepEqual(exportColumns(FIELDS, {}), ['id', 'created_at', 'updated_at', 'created_by', ...FIELDS.map((f) => f.name)]);
    assert.deepEqual(exportColumns(FIELDS, { include_keys: ['qty', 'id'] }), ['qty', 'id']);
    assert.deepEqual(exportColumns(FIELDS, { exclude_keys: ['updated_at', 'created_by', 'meta'] }), [
      'id',
      'created_at',
      'title',
      'qty',
      'price',
      'paid',
      'due',
      'tags',
    ]);
    assert.deepEqual(
      exportColumnTypes(FIELDS, { include_keys: ['id', 'created_at', 'qty', 'due'], timestamp_convert_keys: ['created_at'] }),
      [
        { name: 'id', type: 'string' },
        { name: 'created_at', type: 'date' },
        { name: 'qty', type: 'integer' },
        { name: 'due', type: 'date' },
      ],
    );
  });
});
