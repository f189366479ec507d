import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createJsonArrayTransform } from '../../../src/formats/index.js';
import { chunked, through } from './helpers.js';

async function reshape(input: string, cut?: number | number[]) {
  const seen: number[] = [];
  const t = createJsonArrayTransform({ onRows: (n) => seen.push(n) });
  const r = await through(t, input === '' ? [] : chunked(input, cut));
  assert.equal(r.error, undefined);
  return { text: r.out.toString('utf8'), rows: t.rows, seen };
}

describe('createJsonArrayTransform', () => {
  it('writes [] for no rows', async () => {
    const r = await reshape('');
    assert.equal(r.text, '[]\n');
    assert.equal(r.rows, 0);
    assert.deepEqual(JSON.parse(r.text), []);
  });

  it('wraps one row', async () => {
    const r = await reshape('{"id":"a","n":1}\n');
    assert.equal(r.text, '[\n{"id":"a","n":1}\n]\n');
    assert.equal(r.rows, 1);
  });

  it('joins rows with ,\\n and reports progress', async () => {
    const r = await reshape('{"a":1}\n{"a":2}\n{"a":3}\n');
    assert.equal(r.text, '[\n{"a":1},\n{"a":2},\n{"a":3}\n]\n');
    assert.equal(r.rows, 3);
    assert.equal(r.seen.at(-1), 3);
  });

  it('gives the same bytes for every way of cutting the input into two or three chunks', async () => {
    const rows = ['{"t":"x,y"}', '{"t":"北京 🚀"}', '{"t":"[]{}"}', '{}'];
    const input = rows.map((r) => `${r}\n`).join('');
    const want = `[\n${rows.join(',\n')}\n]\n`;
    const len = Buffer.byteLength(input);
    for (let a = 0; a <= len; a++) {
      const one = await reshape(input, [a]);
      assert.equal(one.text, want, `cut at ${a}`);
      assert.equal(one.rows, rows.length);
      for (let b = a + 1; b < len; b += 3) {
        const two = await reshape(input, [a, b]);
        assert.equal(two.text, want, `cut at ${a} and ${b}`);
      }
    }
  });

  it('works a byte at a time', async () => {
    const input = '{"a":"é"}\n{"b":2}\n';
    const r = await reshape(input, 1);
    assert.equal(r.text, '[\n{"a":"é"},\n{"b":2}\n]\n');
    assert.equal(r.rows, 2);
  });

  it('counts a last row without its line break', async () => {
    const r = await reshape('{"a":1}\n{"a":2}');
    assert.equal(r.text, '[\n{"a":1},\n{"a":2}\n]\n');
    assert.equal(r.rows, 2);
  });

  it('handles many rows in large and tiny chunks alike', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i, s: 'v'.repeat(i % 17) }));
    const input = rows.map((r) => `${r}\n`).join('');
    for (const size of [1, 7, 64, 4096, Number.POSITIVE_INFINITY]) {
      const r = await reshape(input, size);
      assert.deepEqual(
        JSON.parse(r.text),
        rows.map((x) => JSON.parse(x)),
      );
      assert.equal(r.rows, 500);
    }
  });
});
