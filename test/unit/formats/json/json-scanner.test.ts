import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonScanner } from '../../../../src/formats/json/json-scanner.js';
import { StrictUtf8Decoder } from '../../../../src/formats/utf8.js';

interface Seen {
  /** Punctuation outside values, with its line. */
  tokens: string[];
  /** Captured values: their text and the line each starts on. */
  values: [string, number][];
}

/** A grammar for tests: every value that starts outside a value is captured; "," ":" and the rest are punctuation. */
class Recorder extends JsonScanner {
  readonly seen: Seen = { tokens: [], values: [] };
  readonly joined: boolean[] = [];

  constructor(
    private readonly maxChars = Number.MAX_SAFE_INTEGER,
    private readonly maxDepth = Number.MAX_SAFE_INTEGER,
  ) {
    super();
  }

  get open(): { inValue: boolean; valueLine: number; line: number } {
    return { inValue: this.inValue, valueLine: this.valueLine, line: this.line };
  }

  protected onToken(c: number, line: number): void {
    const ch = String.fromCharCode(c);
    if (ch === ',' || ch === ':' || ch === '}' || ch === ']' || c === 0xfeff) this.seen.tokens.push(`${ch}@${line}`);
    else this.capture(this.maxChars, this.maxDepth);
  }

  protected onValue(text: string, start: number, end: number, line: number, inChunk: boolean): void {
    this.seen.values.push([text.slice(start, end), line]);
    this.joined.push(!inChunk);
  }

  protected tooDeep(line: number, valueLine: number): Error {
    return new Error(`too deep at line ${line}, value from line ${valueLine}`);
  }

  protected tooLarge(valueLine: number): Error {
    return new Error(`too large, value from line ${valueLine}`);
  }
}

function scan(chunks: readonly string[], maxChars?: number, maxDepth?: number): Seen {
  const r = new Recorder(maxChars, maxDepth);
  for (const c of chunks) r.write(c);
  return r.seen;
}

/** `text` cut at the given positions. */
function cutAt(text: string, ...at: number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const p of [...at, text.length]) {
    out.push(text.slice(from, p));
    from = p;
  }
  return out;
}

// Every kind of value, with what breaks naive scanners: brackets and quotes in strings, escapes
// (an escaped backslash before a quote, \u escapes), characters outside the BMP, CRLF, and scalars
// ended by each delimiter (the tests add a line break after the last, "42").
const SAMPLE = [
  '{"a": "x } ] { [", "b": ["\\"", "\\\\", "\\\\\\"]"], "c": {"d": [1, [2, {"e": null}]]}}',
  '\r\n["北京 🚀 é", "\\u00e9\\ud83d\\ude80", "tab\\tquote\\"brace}"]',
  '\n"a string \\\\" , "\\"" ,-12.5e3,true ,false\n,null}',
  '  [] {} ""  42',
].join(' ');

const SAMPLE_VALUES = [
  '{"a": "x } ] { [", "b": ["\\"", "\\\\", "\\\\\\"]"], "c": {"d": [1, [2, {"e": null}]]}}',
  '["北京 🚀 é", "\\u00e9\\ud83d\\ude80", "tab\\tquote\\"brace}"]',
  '"a string \\\\"',
  '"\\""',
  '-12.5e3',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '""',
  '42',
];

describe('JsonScanner', () => {
  it('captures each value whole and hands on the punctuation between, with lines', () => {
    const seen = scan([`${SAMPLE}\n`]);
    assert.deepEqual(
      seen.values.map(([t]) => t),
      SAMPLE_VALUES,
    );
    assert.deepEqual(
      seen.values.map(([, l]) => l),
      [1, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4],
    );
    assert.deepEqual(seen.tokens, [',@3', ',@3', ',@3', ',@3', ',@4', '}@4']);
    for (const t of SAMPLE_VALUES) assert.doesNotThrow(() => JSON.parse(t), t);
  });

  it('gives the same values and lines wherever the text is cut in two or three', () => {
    const whole = scan([SAMPLE, '\n']);
    const n = SAMPLE.length;
    for (let i = 0; i <= n; i++) {
      assert.deepEqual(scan([...cutAt(SAMPLE, i), '\n']), whole, `cut at ${i}`);
      for (let j = i; j <= n; j += 3) assert.deepEqual(scan([...cutAt(SAMPLE, i, j), '\n']), whole, `cut at ${i}, ${j}`);
    }
    assert.deepEqual(scan([...SAMPLE, '\n']), whole, 'one character at a time');
  });

  it('gives the same values from UTF-8 bytes cut at every position, multi-byte characters split', () => {
    const bytes = Buffer.from(`\uFEFF${SAMPLE}\n`);
    const decodeAll = (chunks: Buffer[]): string[] => {
      const d = new StrictUtf8Decoder('test', { ignoreBOM: true });
      return [...chunks.map((c) => d.decode(c)), d.decode()];
    };
    const whole = scan(decodeAll([bytes]));
    assert.deepEqual(
      whole.values.map(([t]) => t),
      SAMPLE_VALUES,
    );
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(scan(decodeAll([bytes.subarray(0, i), bytes.subarray(i)])), whole, `bytes cut at ${i}`);
    }
    const oneByOne = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(scan(decodeAll(oneByOne)), whole, 'one byte at a time');
  });

  it('finds the end of strings with long runs of backslashes, cut anywhere', () => {
    for (let run = 0; run <= 6; run++) {
      // An even run is escaped backslashes, then the string ends; an odd one escapes the quote.
      const inner = `${'\\'.repeat(run)}"${run % 2 ? ' and on"' : ''}`;
      const text = `["${inner}, "next"]`;
      const want = JSON.parse(text) as unknown;
      for (let i = 0; i <= text.length; i++) {
        const seen = scan(cutAt(text, i));
        assert.equal(seen.values.length, 1, `run ${run}, cut at ${i}`);
        assert.deepEqual(JSON.parse(seen.values[0]?.[0] ?? ''), want, `run ${run}, cut at ${i}`);
      }
    }
  });

  it('hands a value found in one chunk as that chunk, and one that spans chunks joined', () => {
    const r = new Recorder();
    r.write('[1] [2');
    r.write(', 3]');
    assert.deepEqual(r.joined, [false, true]);
    assert.deepEqual(
      r.seen.values.map(([t]) => t),
      ['[1]', '[2, 3]'],
    );
  });

  it('skips a byte order mark only at the very start', () => {
    assert.deepEqual(scan(['', '\uFEFF[1]']).values, [['[1]', 1]]);
    assert.deepEqual(scan(['[1] \uFEFF']).tokens, ['\uFEFF@1']);
    assert.deepEqual(scan(['\uFEFF', '\uFEFF[1]']).tokens, ['\uFEFF@1']);
  });

  it('says when the input ends inside a value, and where that value starts', () => {
    for (const text of ['\n\n{"a": [1, ', '\n\n"abc', '\n\n"abc\\', '\n\n{"a": "\\', '\n\n123']) {
      const r = new Recorder();
      r.write(text);
      assert.deepEqual(r.open, { inValue: true, valueLine: 3, line: 3 }, JSON.stringify(text));
      assert.deepEqual(r.seen.values, []);
    }
    const done = new Recorder();
    done.write('{"a": 1}\n');
    assert.deepEqual(done.open, { inValue: false, valueLine: 1, line: 2 });
  });

  it('refuses nesting deeper than the cap at the first bracket too many, and never recurses', () => {
    const deep = `\n${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    assert.throws(() => scan([deep], undefined, 64), /^Error: too deep at line 2, value from line 2$/);
    assert.throws(() => scan(cutAt(deep, 50), undefined, 64), /too deep/);
    assert.equal(scan([`${'['.repeat(64)}${']'.repeat(64)}`], undefined, 64).values.length, 1);
    assert.throws(() => scan([`[{"a":\n${'['.repeat(63)}`], undefined, 64), /^Error: too deep at line 2, value from line 1$/);
    // Brackets inside strings do not count.
    assert.equal(scan([`["${'['.repeat(1000)}"]`], undefined, 2).values.length, 1);
  });

  it('refuses a value longer than the cap having kept no more than the cap and one chunk', () => {
    const cap = 1024 * 1024;
    const chunk = 'x'.repeat(64 * 1024);
    for (const start of ['{"a": "', '"', '1']) {
      const r = new Recorder(cap);
      let fed = 0;
      assert.throws(() => {
        r.write(`\n${start}`);
        for (; fed < 1024 ** 3; fed += chunk.length) r.write(chunk);
      }, /^Error: too large, value from line 2$/);
      assert.ok(fed <= cap && fed > cap - 2 * chunk.length, `${start}: fed ${fed}`);
    }
    assert.throws(() => scan(['[1, 2, 3]'], 8), /too large/);
    assert.deepEqual(scan(['[1, 2, 3]'], 9).values, [['[1, 2, 3]', 1]]);
  });

  it('holds a huge string within the cap as one value', () => {
    const big = 'é'.repeat(3 * 1024 * 1024);
    const text = `["${big}", "\\"${big}\\\\"]`;
    const seen = scan(cutAt(text, 1000, 2_000_001, 5_000_000));
    assert.equal(seen.values.length, 1);
    assert.deepEqual(JSON.parse(seen.values[0]?.[0] ?? ''), [big, `"${big}\\`]);
  });
});
