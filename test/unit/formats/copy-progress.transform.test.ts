import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyProgress } from '../../../src/formats/index.js';
import { chunked, through } from './helpers.js';

describe('CopyProgress (CSV export progress without parsing)', () => {
  it('passes the bytes through unchanged and counts the line breaks exactly within the sample', async () => {
    const input = 'id,note\na,"two\nlines"\nb,中文\nc,""\n';
    const seen: number[] = [];
    const t = new CopyProgress({ onRows: (n) => seen.push(n) });
    const r = await through(t, chunked(input, [3, 9, 17]));
    assert.equal(r.error, undefined);
    assert.equal(r.out.toString('utf8'), input);
    // 5 line breaks (the header and the one inside quotes included): a progress figure, not the count.
    assert.equal(t.estimate, 5);
    assert.equal(seen.at(-1), 5);
    assert.deepEqual(
      [...seen].sort((x, y) => x - y),
      seen,
      'never goes backwards',
    );
  });

  it('past the sample, estimates the rows from the bytes', async () => {
    const row = 'abcdefghi\n'; // 10 bytes a row
    const input = row.repeat(1000);
    const t = new CopyProgress({ sampleBytes: 2000 });
    const r = await through(t, chunked(input, [1500, 2500, 7000]));
    assert.equal(r.error, undefined);
    assert.equal(r.out.length, 10_000);
    assert.equal(t.estimate, 1000);
  });
});
