import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonElementBatch } from '../../../../src/formats/json/json-element-batch.js';

function batch() {
  const got: [unknown, number][] = [];
  const b = new JsonElementBatch(
    (value, line) => got.push([value, line]),
    (line, reason) => new Error(`line ${line}: ${reason}`),
  );
  return { b, got };
}

describe('JsonElementBatch', () => {
  it('parses the elements of a chunk together and hands them on in order with their lines', () => {
    const { b, got } = batch();
    const chunk = '[{"a":1},\n{"a":[2]} ,\t{"a":"}"}]';
    b.take(chunk, 1, 8, 1, true);
    b.take(chunk, 10, 19, 2, true);
    b.take(chunk, 22, 31, 2, true);
    assert.deepEqual(got, []);
    b.flush();
    assert.deepEqual(got, [
      [{ a: 1 }, 1],
      [{ a: [2] }, 2],
      [{ a: '}' }, 2],
    ]);
    b.flush();
    assert.equal(got.length, 3);
  });

  it('parses an element joined from chunks after the ones taken before it', () => {
    const { b, got } = batch();
    b.take('{"a":1}', 0, 7, 1, true);
    b.take('{"b":2}', 0, 7, 2, false);
    assert.deepEqual(got, [
      [{ a: 1 }, 1],
      [{ b: 2 }, 2],
    ]);
  });

  it('names the first invalid element, having handed on the ones before it', () => {
    const { b, got } = batch();
    const chunk = '{"a":1},\n{"a":x},\n{"a":y}';
    b.take(chunk, 0, 7, 1, true);
    b.take(chunk, 9, 16, 2, true);
    b.take(chunk, 18, 25, 3, true);
    assert.throws(() => b.flush(), /^Error: line 2: Unexpected token/);
    assert.deepEqual(got, [[{ a: 1 }, 1]]);
    const one = batch();
    one.b.take('{"a":', 0, 5, 7, true);
    assert.throws(() => one.b.flush(), /^Error: line 7: /);
  });
});
