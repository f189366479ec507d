/**
 * MAX_CELL_BYTES and MAX_JSON_DEPTH travel with the options: two callers with different limits in
 * one process each get their own, whatever ran before (no module-level setting).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvTokenizer } from '../../../src/formats/csv-tokenizer.js';
import { encodeJsonRow } from '../../../src/formats/index.js';
import { jsonArrayLimits, JsonArraySplitter } from '../../../src/formats/json/json-array-splitter.js';
import { DEFAULT_VALUE_LIMITS } from '../../../src/formats/values.js';
import { defaults, runImport } from './helpers.js';

const small = { maxCellBytes: 64, maxJsonDepth: 3 };
const fields = [
  { name: 'title', type: 'string' as const },
  { name: 'meta', type: 'object' as const },
];

describe('value limits as options', () => {
  it('a row is measured by the limits its caller gives, the same fields and defaults notwithstanding', () => {
    const d = defaults();
    const row = { title: 'x'.repeat(100), meta: { a: { b: { c: { d: 1 } } } } };
    const strict = encodeJsonRow(row, { fields, defaults: d, limits: small });
    assert.equal(strict.ok, false);
    assert.deepEqual(strict.ok ? [] : strict.errors.map((e) => e.field), ['title', 'meta']);
    assert.equal(encodeJsonRow(row, { fields, defaults: d }).ok, true);
    assert.equal(encodeJsonRow(row, { fields, defaults: d, limits: small }).ok, false);
  });

  it('the CSV tokenizer and the JSON array splitter take the cell cap they are given', () => {
    // A cell still open at the end of a chunk is what the tokenizer measures (a whole one, the converters).
    assert.throws(() => new CsvTokenizer(() => undefined, ',', 64).write(`a\n"${'x'.repeat(100)}`), /limit of 64 bytes/);
    new CsvTokenizer(() => undefined, ',').write(`a\n"${'x'.repeat(100)}`);
    const splitter = new JsonArraySplitter(() => undefined, jsonArrayLimits(small));
    assert.throws(() => splitter.write(`[{"a": [[[[1]]]]}]`), /nested more than 3 levels/);
    new JsonArraySplitter(() => undefined, jsonArrayLimits(DEFAULT_VALUE_LIMITS)).write(`[{"a": [[[[1]]]]}]`);
  });

  it('an import with small limits refuses what the defaults take', async () => {
    const csv = `title\n${'x'.repeat(100)}\n`;
    const strict = await runImport('csv', csv, { fields: [{ name: 'title', type: 'string' }], limits: small });
    assert.match(strict.errors[0]?.error_msg ?? '', /MAX_CELL_BYTES/);
    const loose = await runImport('csv', csv, { fields: [{ name: 'title', type: 'string' }] });
    assert.equal(loose.errors.length, 0);
  });
});
