import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCsvRecordCounter } from '../../../src/formats/index.js';
import { chunked, through } from './helpers.js';

async function count(input: string, cut?: number | number[], header?: boolean) {
  const t = createCsvRecordCounter(header === undefined ? {} : { header });
  const r = await through(t, input === '' ? [] : chunked(input, cut));
  assert.equal(r.error, undefined);
  assert.equal(r.out.toString('utf8'), input, 'bytes pass through unchanged');
  return t.rows;
}

describe('createCsvRecordCounter', () => {
  // One record per element: a header, then records with quoted line breaks and quotes.
  const input = [
    'id,title,tags\n',
    'a,"line one\nline two",[]\n',
    'b,"he said ""hi"", then\r\nleft","[""x""]"\n',
    'c,plain,\n',
    'd,"""",\n',
  ].join('');

  it('counts records, not lines, and not the header', async () => {
    assert.equal(await count(input), 4);
  });

  it('counts the same for every cut of the input', async () => {
    const len = Buffer.byteLength(input);
    for (let a = 0; a <= len; a++) assert.equal(await count(input, [a]), 4, `cut at ${a}`);
    assert.equal(await count(input, 1), 4);
  });

  it('is 0 for a header alone or nothing', async () => {
    assert.equal(await count('id,title\n'), 0);
    assert.equal(await count(''), 0);
  });

  it('counts a last record without a line break', async () => {
    assert.equal(await count('id\na\nb'), 2);
  });

  it('counts every record when told there is no header', async () => {
    assert.equal(await count('a\nb\n', undefined, false), 2);
  });

  it('reports progress', async () => {
    const seen: number[] = [];
    const t = createCsvRecordCounter({ onRows: (n) => seen.push(n) });
    await through(t, chunked('h\n1\n2\n3\n', 2));
    assert.equal(seen.at(-1), 3);
    assert.ok(seen.length > 1);
  });
});
