import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { InvalidFileError, TooManyRowsError } from '../../../src/errors.js';
import { copyLine, runImport } from './helpers.js';
import { defined } from '../../helpers/defined.js';

const N = '\\N';

describe('CSV import encoder: output', () => {
  it('writes exact COPY text lines with defaults for missing built-ins and NULL for missing fields', async () => {
    const r = await runImport('csv', 'title,qty\nHello,3\n');
    assert.equal(r.error, undefined);
    assert.equal(r.out, copyLine('new1', ['Hello', '3', N, N, N, N, N]));
    assert.equal(r.rows, 1);
    assert.equal(r.errorCount, 0);
  });

  it('keeps given built-ins; updated_at defaults to the row created_at', async () => {
    const r = await runImport('csv', 'id,created_at,created_by,title\nabc,1600000000,42,x\n');
    assert.equal(r.out, `${['abc', '1600000000', '1600000000', '42', 'x', N, N, N, N, N, N].join('\t')}\n`);
  });

  it('takes columns in any order', async () => {
    const r = await runImport('csv', 'qty,title\n5,t\n');
    assert.equal(r.out, copyLine('new1', ['t', '5', N, N, N, N, N]));
  });

  it('handles RFC 4180 quoting: commas, doubled quotes, LF and CRLF inside cells', async () => {
    const r = await runImport('csv', 'title,tags\r\n"a, b","[""x""]"\r\n"say ""hi""\nthen\r\nbye",\r\n');
    assert.equal(r.error, undefined);
    assert.equal(
      r.out,
      copyLine('new1', ['a, b', N, N, N, N, '["x"]', N]) + copyLine('new2', ['say "hi"\\nthen\\r\\nbye', N, N, N, N, N, N]),
    );
  });

  it('escapes backslash and tab for COPY', async () => {
    const r = await runImport('csv', 'title\n"C:\\dir\tx"\n');
    assert.equal(r.out, copyLine('new1', ['C:\\\\dir\\tx', N, N, N, N, N, N]));
  });

  it('keeps Unicode (CJK, emoji, accents) intact', async () => {
    const r = await runImport('csv', 'title\n北京市 🚀 Zürich\n');
    assert.equal(r.out, copyLine('new1', ['北京市 🚀 Zürich', N, N, N, N, N, N]));
  });

  it('gives the same output when fed one byte at a time (multi-byte characters split)', async () => {
    const input = '\uFEFFtitle,tags\r\n"🚀 a,\r\nb",[1]\n北京,"[""é""]"\n';
    const whole = await runImport('csv', input);
    const bytes = await runImport('csv', input, { cut: 1 });
    assert.equal(whole.error, undefined);
    assert.equal(bytes.error, undefined);
    assert.equal(bytes.out, whole.out);
    assert.equal(whole.out, copyLine('new1', ['🚀 a,\\r\\nb', N, N, N, N, '[1]', N]) + copyLine('new2', ['北京', N, N, N, N, '["é"]', N]));
  });

  it('tolerates a BOM, a missing final line break and blank lines', async () => {
    const r = await runImport('csv', '\uFEFFtitle\n\na\n\nb');
    assert.equal(r.out, copyLine('new1', ['a', N, N, N, N, N, N]) + copyLine('new2', ['b', N, N, N, N, N, N]));
  });

  it('batches output into chunks of about 64 KiB rather than one per row', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `row number ${i} with some text`).join('\n');
    const r = await runImport('csv', `title\n${rows}\n`, { maxRows: 10000 });
    assert.equal(r.rows, 5000);
    assert.equal(r.out.split('\n').length - 1, 5000);
    // 5000 lines of ~50 bytes are ~250 KB: a handful of pushes, not thousands.
    assert.ok(Buffer.byteLength(r.out) > 200_000);
  });

  it('reports progress with the number of rows read', async () => {
    const r = await runImport('csv', 'title\na\nb\nc\n', { cut: 3 });
    assert.equal(r.progress.at(-1), 3);
    assert.ok(r.progress.length > 1);
  });
});

describe('CSV import encoder: NULL and empty', () => {
  it('an empty unquoted cell is NULL, a quoted "" is the empty string for string fields', async () => {
    const r = await runImport('csv', 'title,qty\n,1\n"",2\n');
    assert.equal(r.out, copyLine('new1', [N, '1', N, N, N, N, N]) + copyLine('new2', ['', '2', N, N, N, N, N]));
  });

  it('a quoted "" is NULL for every other type', async () => {
    const r = await runImport('csv', 'qty,price,ok,at,tags,meta\n"","","","","",""\n');
    assert.equal(r.errorCount, 0);
    assert.equal(r.out, copyLine('new1', [N, N, N, N, N, N, N]));
  });

  it('an empty or "" id gets a new one; empty times get the defaults', async () => {
    const r = await runImport('csv', 'id,created_at,updated_at,created_by,title\n"",,,,a\n,"","","",b\n');
    assert.equal(r.out, copyLine('new1', ['a', N, N, N, N, N, N]) + copyLine('new2', ['b', N, N, N, N, N, N]));
  });
});

describe('CSV import encoder: row errors', () => {
  it('names the line where a multi-line record starts', async () => {
    const input = 'title,qty\n"a\nb\nc",1\n"d\r\ne",oops\nf,2\n"g\r\r\nh",bad\n';
    const r = await runImport('csv', input);
    assert.equal(r.errorCount, 2);
    assert.deepEqual(r.errors, [
      {
        error_code: 'invalid_row',
        error_msg: 'line 5, qty: must be an integer between -9007199254740991 and 9007199254740991, got "oops"',
        line: 5,
        field: 'qty',
      },
      {
        error_code: 'invalid_row',
        error_msg: 'line 8, qty: must be an integer between -9007199254740991 and 9007199254740991, got "bad"',
        line: 8,
        field: 'qty',
      },
    ]);
    // The same line numbers however the bytes arrive (a CRLF split between chunks included).
    const bytes = await runImport('csv', input, { cut: 1 });
    assert.deepEqual(bytes.errors, r.errors);
  });

  it('stops output at the first invalid row but reads on to count every error', async () => {
    const rows = ['title,qty', 'a,1', 'b,x', 'c,2', 'd,y', 'e,3'];
    const r = await runImport('csv', `${rows.join('\n')}\n`);
    assert.equal(r.out, '', 'nothing is pushed once a row is invalid');
    assert.equal(r.errorCount, 2);
    assert.deepEqual(
      r.errors.map((e) => e.line),
      [3, 5],
    );
    assert.equal(r.rows, 3);
  });

  it('pushes nothing after the first error even when earlier rows filled a batch', async () => {
    const good = Array.from({ length: 3000 }, (_, i) => `row ${i} ${'x'.repeat(40)},${i}`);
    const r = await runImport('csv', ['title,qty', ...good, 'bad,nope', 'z,1'].join('\n'), { maxRows: 10000 });
    assert.equal(r.errorCount, 1);
    const lines = r.out.split('\n').filter(Boolean);
    assert.ok(lines.length < 3000, 'output stopped before the end');
    assert.ok(!r.out.includes('\tz\t'), 'no row after the error');
  });

  it('keeps the first maxErrors errors and counts them all', async () => {
    const rows = Array.from({ length: 30 }, () => 'x,notanumber');
    const r = await runImport('csv', `title,qty\n${rows.join('\n')}`, { maxErrors: 5 });
    assert.equal(r.errorCount, 30);
    assert.equal(r.errors.length, 5);
    assert.deepEqual(
      r.errors.map((e) => e.line),
      [2, 3, 4, 5, 6],
    );
  });

  it('defaults to keeping 100 errors', async () => {
    const rows = Array.from({ length: 150 }, () => 'x,1.5');
    const r = await runImport('csv', `title,qty\n${rows.join('\n')}`);
    assert.equal(r.errorCount, 150);
    assert.equal(r.errors.length, 100);
  });

  it('a row with the wrong number of cells is a row error', async () => {
    const r = await runImport('csv', 'title,qty\na\nb,1,2\nc,3\n');
    assert.equal(r.errorCount, 2);
    assert.equal(r.errors[0]?.error_msg, 'line 2: the row has 1 cell but the header has 2 columns');
    assert.equal(r.errors[1]?.error_msg, 'line 3: the row has 3 cells but the header has 2 columns');
  });

  it('truncates long values in messages', async () => {
    const r = await runImport('csv', `qty\n${'9'.repeat(100)}x\n`);
    assert.match(r.errors[0]?.error_msg ?? '', /got "9{40}…"$/);
  });
});

describe('CSV import encoder: fatal problems', () => {
  it('refuses unknown header columns, listing them', async () => {
    const r = await runImport('csv', 'title,colour,size\na,b,c\n');
    assert.ok(r.error instanceof InvalidFileError);
    // The same sentence as the look before the job (sniff.ts), with the fields the table has.
    assert.match(
      r.error.message,
      /^The CSV header names columns that are not fields of the table: "colour", "size"\. The table's fields are title, .* \(and the built-in id, created_at, updated_at, created_by\); rename them in the file to match\.$/,
    );
    assert.equal(r.out, '');
  });

  it('refuses duplicate header columns', async () => {
    const r = await runImport('csv', 'title,qty,title\na,1,b\n');
    assert.ok(r.error instanceof InvalidFileError);
    assert.match(r.error.message, /"title" more than once/);
  });

  it('refuses malformed quoting, naming the line', async () => {
    const stray = await runImport('csv', 'title\nok\nab"c\n');
    assert.ok(stray.error instanceof InvalidFileError);
    assert.match(stray.error.message, /^line 3: a quote/);

    const after = await runImport('csv', 'title,qty\n"ab"c,1\n');
    assert.ok(after.error instanceof InvalidFileError);
    assert.match(after.error.message, /^line 2: a quoted cell must be followed by a comma/);

    const open = await runImport('csv', 'title\nok\n"never\nclosed\n');
    assert.ok(open.error instanceof InvalidFileError);
    assert.match(open.error.message, /^line 3: a quoted cell that starts on this line is never closed/);
  });

  it('refuses a record of more than 16,384 cells before holding them, naming its line', async () => {
    // 4 million commas: the tokenizer held a cell for each until the line ended (26 million filled a 256 MB heap).
    const r = await runImport('csv', `title\nok\n${','.repeat(4_000_000)}\n`, { cut: 64 * 1024 });
    assert.ok(r.error instanceof InvalidFileError, String(r.error));
    assert.equal(r.error.message, 'line 3: the record has more than 16384 cells; no table has that many columns.');
    // 16,384 cells is a row of the wrong width, reported like any other
    const wide = await runImport('csv', `title\n${','.repeat(16_383)}\n`);
    assert.equal(wide.error, undefined);
    assert.match(wide.errors[0]?.error_msg ?? '', /^line 2: the row has 16384 cells but the header has 1 columns/);
  });

  it('refuses bytes that are not UTF-8', async () => {
    const r = await runImport('csv', Buffer.from([0x74, 0x69, 0x74, 0x6c, 0x65, 0x0a, 0xff, 0xfe, 0x0a]));
    assert.ok(r.error instanceof InvalidFileError);
    assert.match(r.error.message, /not UTF-8/);
  });

  it('fails at once with TooManyRowsError past maxRows, invalid rows included', async () => {
    const r = await runImport('csv', 'qty\n1\nx\n3\n4\n', { maxRows: 3 });
    assert.ok(r.error instanceof TooManyRowsError);
    assert.equal(r.error.message, "The file's rows number more than the limit of 3.");
    const ok = await runImport('csv', 'qty\n1\n2\n3\n', { maxRows: 3 });
    assert.equal(ok.error, undefined);
    assert.equal(ok.rows, 3);
  });
});

describe('CSV import encoder: agrees with csv-parse', () => {
  // A seeded generator of nasty cells; csv-parse (the reference) must read the same cells.
  function rng(seed: number) {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
  }
  const pieces = ['a', ',', '"', '\n', '\r\n', ' ', 'é', '北', '🚀', 'xyz', '\\', '\t'];

  for (const eol of ['\n', '\r\n']) {
    it(`reads the same cells as csv-parse on 300 random quoted cells (${JSON.stringify(eol)} line ends), in any chunking`, async () => {
      const rand = rng(eol.length * 11);
      const titles: string[] = [];
      for (let i = 0; i < 300; i++) {
        let s = '';
        const len = Math.floor(rand() * 8) + 1;
        for (let k = 0; k < len; k++) s += pieces[Math.floor(rand() * pieces.length)];
        titles.push(s);
      }
      const csv = `title${eol}${titles.map((c) => `"${c.replaceAll('"', '""')}"`).join(eol)}${eol}`;
      const reference = (parse(csv, { columns: true }) as { title: string }[]).map((r) => r.title);
      assert.deepEqual(reference, titles);
      for (const cut of [1, 5, 64, Number.POSITIVE_INFINITY]) {
        const r = await runImport('csv', csv, { cut });
        assert.equal(r.error, undefined);
        const got = r.out
          .split('\n')
          .filter(Boolean)
          .map((l) => defined(l.split('\t')[4], 'the title cell'));
        const unescapeCopy = (s: string) => s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
        assert.deepEqual(got.map(unescapeCopy), reference, `chunks of ${cut}`);
      }
    });
  }
});
