import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { LineCounter, JsonLinesToRows, ObjectImportEncoder, FORMATS, exportColumns, inferSchema } from '../../../src/formats/index.js';
import { foreignValue } from '../../../src/formats/object-import.encoder.js';
import { createSqlExportWriter, sqlLiteral } from '../../../src/formats/sql-export.writer.js';
import { planExport, REWRITE_CHUNK_BYTES } from '../../../src/formats/export-plan.js';
import { duckdbAvailable } from '../../../src/formats/parquet/parquet-duckdb.writer.js';
import { FIELDS, copyLine, defaults, runImport, through } from './helpers.js';

describe('NDJSON import encoder', () => {
  const text = '\uFEFF{"title": "a", "qty": 1}\r\n\r\n{"title": "中文 🎉"}\n{"qty": 2}';
  const expected =
    copyLine('new1', ['a', '1', '\\N', '\\N', '\\N', '\\N', '\\N']) +
    copyLine('new2', ['中文 🎉', '\\N', '\\N', '\\N', '\\N', '\\N', '\\N']) +
    copyLine('new3', ['\\N', '2', '\\N', '\\N', '\\N', '\\N', '\\N']);

  it('reads one object per line, any chunking, CRLF, blank lines, a BOM and no final newline', async () => {
    for (const cut of [Number.POSITIVE_INFINITY, 1, 3, 7]) {
      const r = await runImport('ndjson', text, { cut });
      assert.equal(r.error, undefined, String(r.error));
      assert.equal(r.out, expected, `cut ${cut}`);
      assert.equal(r.rows, 3);
    }
  });

  it('names the line of a line that is not JSON and goes on to report the others', async () => {
    const r = await runImport('ndjson', '{"qty": 1}\n{"qty": \n{"qty": "x"}\n');
    assert.equal(r.errorCount, 2);
    assert.match(r.errors[0]?.error_msg ?? '', /^line 2: not valid JSON/);
    assert.equal(
      r.errors[1]?.error_msg,
      'line 3, qty: must be an integer between -9007199254740991 and 9007199254740991, got the string "x"',
    );
    assert.equal(r.out, '', 'nothing is output after a bad row');
  });

  it('an empty file is no rows', async () => {
    const r = await runImport('ndjson', '');
    assert.deepEqual([r.out, r.rows, r.errorCount], ['', 0, 0]);
  });

  it('reads a 15 MB line in 8 KB chunks (the open line is not searched again with each chunk: bench measures it)', async () => {
    const line = `{"title": "${'x'.repeat(15 * 1024 * 1024)}"}\n{"qty": 1}\n`;
    const r = await runImport('ndjson', line, { cut: 8 * 1024 });
    assert.match(r.errors[0]?.error_msg ?? '', /^line 1, title: is larger than the limit of \d+ bytes for one value/);
    assert.equal(r.errorCount, 1);
    assert.equal(r.rows, 1);
  });
});

describe('objects import encoder (Parquet and xlsx readers feed it)', () => {
  it('brings typed values to their columns: Date, bigint, JSON text, numbers in text columns', async () => {
    const enc = new ObjectImportEncoder({ fields: FIELDS, defaults: defaults(), maxRows: 10 });
    const rows = [
      {
        line: 2,
        row: { title: 12, qty: 5n, at: new Date('2024-05-01T00:00:00Z'), tags: '[1,"a"]', meta: '{"k":1}', ok: true, price: 1.5 },
      },
      { line: 3, row: { qty: 2n ** 60n } },
    ];
    const out: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    });
    await pipeline(Readable.from(rows), enc, sink);
    assert.equal(enc.errorCount, 1);
    assert.equal(
      enc.errors[0]?.error_msg,
      'line 3, qty: must be an integer between -9007199254740991 and 9007199254740991, got the string "1152921504606846976"',
    );
    // The number in the text column is its text, by the rule every file import follows (convertFileValue).
    const one = new ObjectImportEncoder({ fields: FIELDS, defaults: defaults(), maxRows: 10 });
    const lines: Buffer[] = [];
    await pipeline(
      Readable.from(rows.slice(0, 1)),
      one,
      new Writable({
        write(c: Buffer, _e, cb) {
          lines.push(c);
          cb();
        },
      }),
    );
    assert.equal(one.errorCount, 0);
    assert.deepEqual(Buffer.concat(lines).toString().trimEnd().split('\t').slice(4), [
      '12',
      '5',
      '1.5',
      't',
      '2024-05-01T00:00:00.000Z',
      '[1,"a"]',
      '{"k":1}',
    ]);
    assert.equal(foreignValue(new Date('2024-05-01T00:00:00Z'), 'date'), '2024-05-01T00:00:00.000Z');
    assert.deepEqual(foreignValue('[1]', 'array'), [1]);
  });

  it('refuses NaN and ±Infinity (Parquet floats, xlsx cells) as row errors naming line and field, whatever the column', async () => {
    const enc = new ObjectImportEncoder({ fields: FIELDS, defaults: defaults(), maxRows: 10 });
    const rows = [
      { line: 1, row: { price: 1.5, title: 2.5 } },
      { line: 2, row: { price: Number.NaN } },
      { line: 3, row: { title: Number.POSITIVE_INFINITY } },
      { line: 4, row: { qty: Number.NEGATIVE_INFINITY } },
      { line: 5, row: { tags: Number.NaN } },
    ];
    await pipeline(Readable.from(rows), enc, new Writable({ write: (_c, _e, cb) => cb() }));
    assert.deepEqual(
      enc.errors.map((e) => [e.line, e.field, e.error_code, e.error_msg]),
      [
        [
          2,
          'price',
          'invalid_row',
          'line 2, price: is NaN, which a table cannot store (a number must be finite: not NaN, Infinity or -Infinity)',
        ],
        [
          3,
          'title',
          'invalid_row',
          'line 3, title: is Infinity, which a table cannot store (a number must be finite: not NaN, Infinity or -Infinity)',
        ],
        [
          4,
          'qty',
          'invalid_row',
          'line 4, qty: is -Infinity, which a table cannot store (a number must be finite: not NaN, Infinity or -Infinity)',
        ],
        [
          5,
          'tags',
          'invalid_row',
          'line 5, tags: is NaN, which a table cannot store (a number must be finite: not NaN, Infinity or -Infinity)',
        ],
      ],
    );
    assert.equal(enc.rows, 1, 'the finite row is valid');
  });
});

describe('export stages', () => {
  it('LineCounter passes row_to_json lines through and counts them, ending a last line', async () => {
    const c = new LineCounter();
    const r = await through(c, [Buffer.from('{"a":1}\n{"a"'), Buffer.from(':2}')]);
    assert.equal(r.out.toString(), '{"a":1}\n{"a":2}\n');
    assert.equal(c.rows, 2);
  });

  it('JsonLinesToRows parses lines split anywhere, multi-byte characters included', async () => {
    const t = new JsonLinesToRows();
    const bytes = Buffer.from('{"t":"中文"}\n{"t":"🎉"}\n');
    const rows: unknown[] = [];
    const sink = new Writable({
      objectMode: true,
      write(r, _e, cb) {
        rows.push(r);
        cb();
      },
    });
    await pipeline(Readable.from([bytes.subarray(0, 8), bytes.subarray(8, 19), bytes.subarray(19)]), t, sink);
    assert.deepEqual(rows, [{ t: '中文' }, { t: '🎉' }]);
    assert.equal(t.rows, 2);
  });

  it('JsonLinesToRows takes a 20 MB row in 8 KB chunks in linear time', async () => {
    const t = new JsonLinesToRows();
    const bytes = Buffer.from(`{"t":"${'y'.repeat(20 * 1024 * 1024)}"}\n{"t":"z"}\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 8 * 1024) chunks.push(bytes.subarray(at, at + 8 * 1024));
    const lengths: number[] = [];
    const sink = new Writable({
      objectMode: true,
      write(r: { t: string }, _e, cb) {
        lengths.push(r.t.length);
        cb();
      },
    });
    await pipeline(Readable.from(chunks), t, sink);
    assert.deepEqual(lengths, [20 * 1024 * 1024, 1]);
  });

  it('SQL literals: quotes doubled, backslashes kept, NULL, booleans, numbers, JSON', async () => {
    assert.equal(sqlLiteral("it's \\N"), "'it''s \\N'");
    assert.equal(sqlLiteral(null), 'NULL');
    assert.equal(sqlLiteral(true), 'TRUE');
    assert.equal(sqlLiteral(-1.5), '-1.5');
    assert.equal(sqlLiteral({ a: "'" }), `'{"a":"''"}'`);
    // The writer reads PostgreSQL's CSV of the SELECT.
    const w = createSqlExportWriter({
      tableName: 'we"ird',
      columns: exportColumns([
        { name: 'x', type: 'string' },
        { name: 'n', type: 'number' },
        { name: 'b', type: 'boolean' },
        { name: 'j', type: 'object' },
      ]),
    });
    const out: string[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c.toString());
        cb();
      },
    });
    const csv = 'a,1,1,7,"it\'s ""q"", \\N\nnext",NaN,true,"{""a"": ""\'""}"\nb,2,2,,"",-Infinity,false,\n';
    await pipeline(Readable.from([Buffer.from(csv)]), w, sink);
    const head = 'INSERT INTO "we""ird" ("id", "created_at", "updated_at", "created_by", "x", "n", "b", "j") VALUES (';
    assert.equal(
      out.join(''),
      'SET standard_conforming_strings = on;\n' +
        `${head}'a', 1, 1, '7', 'it''s "q", \\N\nnext', 'NaN', TRUE, '{"a": "''"}');\n` +
        `${head}'b', 2, 2, NULL, '', '-Infinity', FALSE, NULL);\n`,
    );
    assert.equal(w.rows, 2);
  });
});

describe('export plans', () => {
  it("formats that rewrite PostgreSQL's CSV read the COPY in 256 KiB buffers; passed-through bytes in the default large ones", async () => {
    const plan = (fileType: (typeof FORMATS)[number]['fileType']) =>
      planExport({
        fileType,
        tableName: 't',
        fields: [],
        csv: { delimiter: ',', header: true, bom: false },
        gzip: false,
        onRows: () => undefined,
      });
    // xlsx: PostgreSQL's CSV, written as the sheet's XML in the worker.
    assert.deepEqual(plan('xlsx').source, {
      kind: 'csv',
      delimiter: ',',
      header: false,
      escapeFormulas: false,
      chunkBytes: REWRITE_CHUNK_BYTES,
    });
    // Parquet: PostgreSQL's CSV into DuckDB once its library has loaded, else row objects into the JavaScript writer.
    await duckdbAvailable();
    assert.deepEqual(plan('parquet').source, {
      kind: 'csv',
      delimiter: ',',
      header: false,
      escapeFormulas: false,
      chunkBytes: REWRITE_CHUNK_BYTES,
    });
    assert.deepEqual(plan('csv').source, { kind: 'csv', delimiter: ',', header: true, escapeFormulas: false });
    // JSON and NDJSON: PostgreSQL's CSV, rewritten as row_to_json lines in the worker.
    assert.deepEqual(plan('ndjson').source, {
      kind: 'csv',
      delimiter: ',',
      header: false,
      escapeFormulas: false,
      chunkBytes: REWRITE_CHUNK_BYTES,
    });
    assert.deepEqual(plan('json').source, {
      kind: 'csv',
      delimiter: ',',
      header: false,
      escapeFormulas: false,
      chunkBytes: REWRITE_CHUNK_BYTES,
    });
    // SQL: PostgreSQL's CSV, rewritten as INSERT statements.
    assert.deepEqual(plan('sql').source, {
      kind: 'csv',
      delimiter: ',',
      header: false,
      escapeFormulas: false,
      chunkBytes: REWRITE_CHUNK_BYTES,
    });
  });
});

describe('the registry', () => {
  it('has one entry per file type, CSV last (it takes any text)', () => {
    const types = FORMATS.map((f) => f.fileType);
    assert.equal(new Set(types).size, types.length);
    assert.equal(types.at(-1), 'csv');
  });
});

describe('schema inference', () => {
  it('takes the narrowest type every value fits; a mixed column is text', () => {
    const fields = inferSchema({
      columns: ['id', 'a', 'b', 'c', 'd'],
      fromText: true,
      lines: [2, 3],
      rows: [
        { id: 'x', a: '1', b: '1', c: '2024-01-01', d: 'true' },
        { id: 'y', a: '2', b: '1.5', c: 'soon', d: null },
      ],
    });
    assert.deepEqual(fields, [
      { name: 'a', type: 'integer' },
      { name: 'b', type: 'number' },
      { name: 'c', type: 'string' },
      { name: 'd', type: 'boolean' },
    ]);
  });
});
