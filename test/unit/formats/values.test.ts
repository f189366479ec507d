import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeJsonRow } from '../../../src/formats/index.js';
import type { FieldType } from '../../../src/types/api.js';
import { defaults, runImport } from './helpers.js';
import { defined } from '../../helpers/defined.js';

/** The COPY cell a CSV cell becomes for a one-field table of `type`, or the error message. */
async function csvCell(type: FieldType, cell: string): Promise<string> {
  const r = await runImport('csv', `v\n${cell}\n`, { fields: [{ name: 'v', type }] });
  assert.equal(r.error, undefined);
  if (r.errorCount) return `ERR ${defined(r.errors[0], 'r.errors[0]').error_msg}`;
  return defined(r.out.slice(0, -1).split('\t')[4], 'the value cell');
}

/** The same for a JSON value. */
function jsonCell(type: FieldType, value: unknown): string {
  const r = encodeJsonRow({ v: value }, { fields: [{ name: 'v', type }], defaults: defaults() });
  if (!r.ok) return `ERR ${defined(r.errors[0], 'r.errors[0]').message}`;
  return defined(r.line.slice(0, -1).split('\t')[4], 'the value cell');
}

const CSV_CASES: Record<FieldType, { ok: [string, string][]; bad: string[] }> = {
  string: {
    ok: [
      ['x', 'x'],
      ['"a\tb"', 'a\\tb'],
      ['"\\"', '\\\\'],
    ],
    bad: [],
  },
  integer: {
    ok: [
      ['0', '0'],
      ['-42', '-42'],
      ['007', '007'],
      ['9007199254740991', '9007199254740991'],
      ['-9007199254740991', '-9007199254740991'],
    ],
    bad: ['1.5', '9007199254740992', '1e3', ' 1', '+1', '0x10', 'abc', '١٢'],
  },
  number: {
    ok: [
      ['1.5', '1.5'],
      ['-0.25', '-0.25'],
      ['3', '3'],
      ['1e10', '1e10'],
      ['.5', '.5'],
      ['1E-3', '1E-3'],
      ['1e-400', '0'],
    ],
    bad: ['"12,5"', 'NaN', 'Infinity', '-Infinity', '0x10', '1e400', '', ' 1', '1.2.3', 'e5'].filter((v) => v !== ''),
  },
  boolean: {
    ok: [
      ['true', 't'],
      ['FALSE', 'f'],
      ['True', 't'],
    ],
    bad: ['1', '0', 'yes', 't', 'truee'],
  },
  date: {
    ok: [
      ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00Z'],
      ['2024-05-01T12:00:00.123+08:00', '2024-05-01T12:00:00.123+08:00'],
      ['2024-05-01', '2024-05-01 00:00:00+00'],
      ['2024-05-01T12:00:00', '2024-05-01T12:00:00+00'],
      ['2024-02-29T00:00Z', '2024-02-29T00:00Z'],
      ['2024-05-01 12:00:00-0530', '2024-05-01 12:00:00-0530'],
      ['0001-01-01T05:00:00+05:00', '0001-01-01T05:00:00+05:00'],
      ['9999-12-31T18:59:00-05:00', '9999-12-31T18:59:00-05:00'],
    ],
    bad: [
      // Their offsets move them to 1 BC and AD 10000 in UTC, which an export could not write back.
      '0001-01-01T04:59:00+05:00',
      '9999-12-31T19:00:00-05:00',
      '2023-02-29',
      '2024-13-01',
      '2024-04-31',
      '2024-05-01T24:00:00Z',
      '2024-05-01T12:60Z',
      '0000-01-01',
      '2024-5-1',
      'yesterday',
      '1714564800',
      '2024-05-01T12:00:00+16:00',
      '2024-05-01Z',
    ],
  },
  array: {
    ok: [
      ['"[1, ""a"", {""b"": null}]"', '[1,"a",{"b":null}]'],
      ['[]', '[]'],
      ['"[""a\\\\b""]"', '["a\\\\\\\\b"]'],
    ],
    bad: ['{}', '1', '"[1,"', 'null', '"""x"""'],
  },
  object: {
    ok: [
      ['"{""a"": [1]}"', '{"a":[1]}'],
      ['{}', '{}'],
    ],
    bad: ['[]', '"""x"""', '"{""a"":}"', 'null'],
  },
};

const JSON_CASES: Record<FieldType, { ok: [unknown, string][]; bad: unknown[] }> = {
  string: {
    ok: [
      ['x', 'x'],
      ['', ''],
      ['a\nb', 'a\\nb'],
      ['🚀', '🚀'],
    ],
    bad: [1, true, ['x'], { a: 1 }, 'a\u0000b', '\ud800'],
  },
  integer: {
    ok: [
      [0, '0'],
      [-42, '-42'],
      [2 ** 53 - 1, '9007199254740991'],
    ],
    bad: [1.5, 2 ** 53, '1', true, [1]],
  },
  number: {
    ok: [
      [1.5, '1.5'],
      [-3, '-3'],
      [1e21, '1e+21'],
    ],
    bad: ['1.5', true, { n: 1 }],
  },
  boolean: {
    ok: [
      [true, 't'],
      [false, 'f'],
    ],
    bad: ['true', 1, 0],
  },
  date: { ok: [['2024-05-01T12:00:00Z', '2024-05-01T12:00:00Z']], bad: [1714564800, '2024-02-30', true] },
  array: {
    ok: [
      [[1, 'a', { b: null }], '[1,"a",{"b":null}]'],
      [['\\'], '["\\\\\\\\"]'],
    ],
    bad: [{}, 'x', 1, ['\u0000'], ['\udc00']],
  },
  object: {
    ok: [
      [{ a: [1] }, '{"a":[1]}'],
      [{}, '{}'],
    ],
    bad: [[], 'x', 1, { '\u0000': 1 }],
  },
};

describe('value rules', () => {
  for (const type of Object.keys(CSV_CASES) as FieldType[]) {
    it(`${type}: CSV cells`, async () => {
      for (const [cell, want] of CSV_CASES[type].ok) assert.equal(await csvCell(type, cell), want, `accepts ${cell}`);
      for (const cell of CSV_CASES[type].bad) {
        const got = await csvCell(type, cell);
        assert.match(got, /^ERR line 2, v: (must|contains)/, `refuses ${cell}: ${got}`);
      }
    });
    it(`${type}: JSON values`, () => {
      for (const [value, want] of JSON_CASES[type].ok) assert.equal(jsonCell(type, value), want, `accepts ${JSON.stringify(value)}`);
      for (const value of JSON_CASES[type].bad) {
        assert.match(jsonCell(type, value), /^ERR field "v" (must|contains)/, `refuses ${JSON.stringify(value)}`);
      }
      assert.equal(jsonCell(type, null), '\\N');
      assert.equal(jsonCell(type, undefined), '\\N');
    });
  }

  it('an unquoted empty CSV cell is NULL for every type', async () => {
    for (const type of Object.keys(CSV_CASES) as FieldType[]) {
      const r = await runImport('csv', 'v,title\n,x\n', {
        fields: [
          { name: 'v', type },
          { name: 'title', type: 'string' },
        ],
      });
      assert.equal(r.out.split('\t')[4], '\\N', type);
    }
  });

  it('a string can be any text, including a CSV NUL-free line of 100 KB', async () => {
    const big = 'x'.repeat(100_000);
    assert.equal(await csvCell('string', big), big);
  });

  it('refuses U+0000 in a CSV cell', async () => {
    assert.match(await csvCell('string', 'a\u0000b'), /U\+0000/);
  });

  it('says what was wrong in a sentence a person understands', async () => {
    // A decimal comma says which option reads it (issue 23).
    assert.equal(
      await csvCell('number', '"12,5"'),
      'ERR line 2, v: must be a number, got "12,5"; if "," is the decimal separator, set the import option decimal_separator to ","',
    );
    assert.equal(jsonCell('boolean', 'yes'), 'ERR field "v" must be true or false, got the string "yes"');
    assert.equal(jsonCell('object', [1]), 'ERR field "v" must be an object, got an array');
  });
});

describe('built-in fields', () => {
  const ctx = () => ({ fields: [{ name: 'title', type: 'string' as const }], defaults: defaults() });

  it('defaults id, created_at, updated_at and created_by', () => {
    const r = encodeJsonRow({ title: 'x' }, ctx());
    assert.deepEqual(r, { ok: true, line: 'new1\t1700000000\t1700000000\tuser-1\tx\n', id: 'new1', createdAt: 1700000000 });
  });

  it('keeps valid given values; updated_at follows created_at', () => {
    const r = encodeJsonRow({ id: 'a\\b', created_at: 5, created_by: 9 }, ctx());
    assert.deepEqual(r, { ok: true, line: 'a\\\\b\t5\t5\t9\t\\N\n', id: 'a\\b', createdAt: 5 });
  });

  it('refuses bad ids, times and creators, listing every problem of the row', () => {
    const r = encodeJsonRow({ id: 'x'.repeat(65), created_at: -1, updated_at: 1.5, created_by: true, title: 3, extra: 1 }, ctx());
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => e.field),
      ['extra', 'id', 'created_at', 'updated_at', 'created_by', 'title'],
    );
    assert.equal(r.errors[0]?.message, '"extra" is not a field of the table');
  });

  it('refuses ids with control characters and non-string ids', () => {
    for (const id of ['a\tb', 'a\nb', 12]) assert.equal(encodeJsonRow({ id }, ctx()).ok, false, JSON.stringify(id));
  });

  it('refuses a row that is not an object', () => {
    for (const row of [null, [], 'x', 1]) assert.equal(encodeJsonRow(row, ctx()).ok, false);
  });

  it('applies the same rules to CSV built-ins', async () => {
    const r = await runImport('csv', 'id,created_at,title\nok,12,a\n"a\tb",1,b\nx,-3,c\ny,1.0,d\n');
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.field]),
      [
        [3, 'id'],
        [4, 'created_at'],
        [5, 'created_at'],
      ],
    );
  });
});
