import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidFileError, InvalidRowError } from '../../../../src/errors.js';
import { JsonArraySplitter, type JsonArrayLimits } from '../../../../src/formats/json/json-array-splitter.js';
import { StrictUtf8Decoder } from '../../../../src/formats/utf8.js';

interface Split {
  /** Each element's text and the line it starts on. */
  elements: [string, number][];
  error?: Error;
}

function split(chunks: readonly string[], limits: Partial<JsonArrayLimits> = {}): Split {
  const out: Split = { elements: [] };
  const s = new JsonArraySplitter((text, start, end, line) => {
    out.elements.push([text.slice(start, end), line]);
  }, limits);
  try {
    for (const c of chunks) s.write(c);
    s.end();
  } catch (err) {
    out.error = err as Error;
  }
  return out;
}

function refused(text: string, pattern: RegExp, line?: number, limits: Partial<JsonArrayLimits> = {}): Error {
  const r = split([text], limits);
  assert.ok(r.error instanceof InvalidFileError || r.error instanceof InvalidRowError, `${JSON.stringify(text)}: ${String(r.error)}`);
  assert.match(r.error.message, pattern);
  if (line !== undefined) assert.equal((r.error as InvalidFileError).details?.line, line);
  return r.error;
}

const ROWS = [{ title: 'a "quoted" ] } [ {', tags: ['x', { y: '}' }] }, { title: '北京 🚀\\', ok: false }, {}];

describe('JsonArraySplitter', () => {
  it('hands on each row object with the line it starts on, in any layout', () => {
    const pretty = JSON.stringify(ROWS, null, 2);
    const r = split([pretty]);
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.elements.map(([t]) => JSON.parse(t)),
      ROWS,
    );
    assert.deepEqual(
      r.elements.map(([, line]) => line),
      [2, 11, 15],
    );
    assert.deepEqual(
      split(['\uFEFF \r\n[', JSON.stringify(ROWS).slice(1), '\r\n']).elements.map(([t]) => JSON.parse(t)),
      ROWS,
    );
    assert.deepEqual(split([' [ ] ']), { elements: [] });
  });

  it('splits the same from UTF-8 bytes cut at every position', () => {
    const bytes = Buffer.from(`\uFEFF${JSON.stringify(ROWS, null, 1)}`);
    const run = (cuts: Buffer[]) => {
      const d = new StrictUtf8Decoder('test', { ignoreBOM: true });
      return split([...cuts.map((c) => d.decode(c)), d.decode()]);
    };
    const whole = run([bytes]);
    assert.equal(whole.elements.length, 3);
    for (let i = 0; i <= bytes.length; i++) assert.deepEqual(run([bytes.subarray(0, i), bytes.subarray(i)]), whole, `cut at ${i}`);
  });

  it('refuses what is not one array of row objects, naming the line', () => {
    refused('{"title":"x"}', /^line 1: the file must hold one JSON array of row objects, but it starts with "\{"\.$/, 1);
    refused('[{"title":"x"},\n 3]', /^line 2: element 2 of the array is not an object \(it starts with "3"\); every element/, 2);
    refused('[[1]]', /^line 1: element 1 of the array is not an object/);
    refused('[\u0000]', /it starts with the character U\+0000/);
    refused('[{"title":"x"},]', /^line 1: a comma before the array's closing "\]" is not valid JSON\.$/);
    refused('[{"title":"x"}\n {"title":"y"}]', /^line 2: expected "," or "\]" after element 1 of the array, got "\{"\.$/, 2);
    refused('', /^The file is empty: it holds no JSON array\.$/);
    refused('  \n ', /^The file is empty/);
  });

  it('refuses garbage after the array, however far on', () => {
    refused('[{"a":1}] []', /^line 1: the file goes on after the array's closing "\]"\.$/);
    refused('[]\n\n\nx', /^line 4: the file goes on after/, 4);
    assert.equal(split(['[]', ' \n\t\r\n ']).error, undefined);
  });

  it('refuses a file that is cut short, naming where', () => {
    refused('[\n{"title":"x"', /^line 2: the file ends inside the object that starts on this line\.$/, 2);
    refused('[\n{"title":"x\\', /^line 2: the file ends inside the object/, 2);
    refused('[{"title":"x"}\n', /^line 2: the file ends before the array's closing "\]"\.$/, 2);
    refused('[', /^line 1: the file ends before/);
  });

  it('refuses a row nested deeper than MAX_JSON_DEPTH below the row object', () => {
    const nested = (levels: number) => `[\n{"a":1},\n{"tags":\n${'['.repeat(levels)}${']'.repeat(levels)}}]`;
    assert.equal(split([nested(64)]).error, undefined);
    refused(nested(65), /^line 4: the object that starts on line 3 is nested more than 64 levels deep \(MAX_JSON_DEPTH\)\.$/, 3);
    refused(nested(100_000), /nested more than 64 levels/);
    refused(nested(6), /nested more than 5 levels/, 3, { maxDepth: 5 });
  });

  it('refuses a row larger than its cap as a row error, having held no more than the cap', () => {
    const limits = { maxElementChars: 64 };
    const err = refused(
      `[\n{"a":"${'x'.repeat(10)}"},\n{"a":"${'x'.repeat(100)}"}]`,
      /^line 3: the object starting on this line is larger than the limit of 64 bytes for one row \(4 × MAX_CELL_BYTES\), or never ends\.$/,
      3,
      limits,
    );
    assert.equal((err as InvalidRowError).code, 'invalid_row');
    let fed = 0;
    const s = new JsonArraySplitter(() => undefined, { maxElementChars: 1024 * 1024 });
    const chunk = 'y'.repeat(64 * 1024);
    assert.throws(() => {
      s.write('[{"a":"');
      for (; fed < 1024 ** 3; fed += chunk.length) s.write(chunk);
    }, InvalidRowError);
    assert.ok(fed <= 1024 * 1024, `fed ${fed}`);
  });

  it('hands each element on as soon as its end is read, one chunk holding several', () => {
    const got: [string, boolean][] = [];
    const s = new JsonArraySplitter((text, start, end, _line, inChunk) => got.push([text.slice(start, end), inChunk]));
    s.write('[{"a":1},{"a":2},{"a"');
    assert.deepEqual(got, [
      ['{"a":1}', true],
      ['{"a":2}', true],
    ]);
    s.write(':3}]');
    assert.deepEqual(got.at(-1), ['{"a":3}', false]);
    s.end();
  });
});
