import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidFileError, TooManyRowsError } from '../../../src/errors.js';
import { encodeJsonRow } from '../../../src/formats/index.js';
import { FIELDS, copyLine, defaults, runImport } from './helpers.js';

const N = '\\N';

describe('JSON import encoder', () => {
  const rows = [
    { title: 'a "quoted" ] } [ {', qty: 1, tags: ['x', { y: '}' }] },
    { id: 'keep-me', created_at: 1600000000, updated_at: 1600000500, created_by: 7, title: '北京 🚀\\', ok: false },
    { title: null, meta: { k: 'v\n' } },
  ];
  const want =
    copyLine('new1', ['a "quoted" ] } [ {', '1', N, N, N, '["x",{"y":"}"}]', N]) +
    ['keep-me', '1600000000', '1600000500', '7', '北京 🚀\\\\', N, N, 'f', N, N, N].join('\t') +
    '\n' +
    copyLine('new2', [N, N, N, N, N, N, '{"k":"v\\\\n"}']);

  it('reads a compact array', async () => {
    const r = await runImport('json', JSON.stringify(rows));
    assert.equal(r.error, undefined);
    assert.equal(r.out, want);
    assert.equal(r.rows, 3);
  });

  it('reads a pretty-printed array with CRLF and tabs the same way', async () => {
    const r = await runImport('json', `\uFEFF \r\n${JSON.stringify(rows, null, '\t').replaceAll('\n', '\r\n')}\r\n`);
    assert.equal(r.error, undefined);
    assert.equal(r.out, want);
  });

  it('gives the same output fed one byte at a time (multi-byte characters split)', async () => {
    const r = await runImport('json', JSON.stringify(rows, null, 2), { cut: 1 });
    assert.equal(r.error, undefined);
    assert.equal(r.out, want);
  });

  it("takes a file's values by the file rule; the records API keeps to the schema's types", async () => {
    const r = await runImport(
      'json',
      JSON.stringify([
        { id: 42, title: 5 },
        { title: true },
        { title: { a: [1, 'b\n'] } },
        { title: '', qty: '', at: '' },
        { title: 1e21 },
      ]),
    );
    assert.deepEqual(r.errors, []);
    assert.equal(
      r.out,
      copyLine('42', ['5', N, N, N, N, N, N]) +
        copyLine('new1', ['true', N, N, N, N, N, N]) +
        copyLine('new2', ['{"a":[1,"b\\\\n"]}', N, N, N, N, N, N]) +
        copyLine('new3', ['', N, N, N, N, N, N]) +
        copyLine('new4', ['1e+21', N, N, N, N, N, N]),
    );
    const api = encodeJsonRow({ id: 42, title: 5, qty: '' }, { fields: FIELDS, defaults: defaults() });
    assert.equal(api.ok, false);
    assert.deepEqual(!api.ok && api.errors.map((e) => e.message), [
      'field "id" must be a string, got 42',
      'field "title" must be a string, got 5',
      'field "qty" must be an integer between -9007199254740991 and 9007199254740991, got the string ""',
    ]);
  });

  it('reads [] as no rows', async () => {
    const r = await runImport('json', ' [ ] ');
    assert.equal(r.error, undefined);
    assert.equal(r.rows, 0);
    assert.equal(r.out, '');
  });

  it('a missing key or null is NULL; an unknown key is a row error naming it', async () => {
    const r = await runImport('json', '[\n{"title": null},\n{"title": "x", "colour": "red"}\n]');
    assert.equal(r.errorCount, 1);
    assert.deepEqual(r.errors[0], {
      error_code: 'invalid_row',
      error_msg: 'line 3, colour: not a field of the table',
      line: 3,
      field: 'colour',
    });
  });

  it('reports the line where each invalid object starts in a pretty-printed file', async () => {
    const text = JSON.stringify([{ qty: 1 }, { qty: 'two' }, { title: 'x' }, { price: '3' }], null, 2);
    const r = await runImport('json', text);
    assert.equal(r.errorCount, 2);
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.field]),
      [
        [5, 'qty'],
        [11, 'price'],
      ],
    );
    assert.equal(
      r.errors[0]?.error_msg,
      'line 5, qty: must be an integer between -9007199254740991 and 9007199254740991, got the string "two"',
    );
    assert.equal(r.out, '');
    assert.equal(r.rows, 2);
  });

  it('refuses U+0000 even as a \\u0000 escape, in strings and inside JSON values', async () => {
    const r = await runImport('json', '[{"title":"a\\u0000b"},{"meta":{"k":"\\u0000"}},{"tags":["\\\\u0000 is text"]}]');
    assert.equal(r.errorCount, 2);
    assert.match(r.errors[0]?.error_msg ?? '', /^line 1, title: contains the character U\+0000/);
    assert.equal(r.errors[1]?.field, 'meta');
  });

  for (const [name, text, pattern] of [
    ['a top level that is not an array', '{"title":"x"}', /^line 1: the file must hold one JSON array/],
    ['an element that is not an object', '[{"title":"x"},\n 3]', /^line 2: element 2 of the array is not an object/],
    ['an element that is an array', '[[1]]', /^line 1: element 1 of the array is not an object/],
    [
      'unparseable JSON in an element',
      '[\n{"title": "x"},\n{"title": x}\n]',
      /^line 3: the object that starts on this line is not valid JSON/,
    ],
    ['a trailing comma', '[{"title":"x"},]', /^line 1: a comma before the array's closing/],
    ['a missing comma', '[{"title":"x"} {"title":"y"}]', /^line 1: expected "," or "]" after element 1/],
    ['content after the array', '[{"title":"x"}] []', /^line 1: the file goes on after the array's closing/],
    ['a file that ends inside an object', '[\n{"title":"x"', /^line 2: the file ends inside the object/],
    ['a file that ends before ]', '[{"title":"x"}', /^line 1: the file ends before the array's closing/],
    ['an empty file', '', /The file is empty/],
  ] as const) {
    it(`fails the stream with InvalidFileError on ${name}`, async () => {
      const r = await runImport('json', text);
      assert.ok(r.error instanceof InvalidFileError, String(r.error));
      assert.match(r.error.message, pattern);
    });
  }

  it('refuses bytes that are not UTF-8', async () => {
    const r = await runImport('json', Buffer.concat([Buffer.from('[{"title":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]));
    assert.ok(r.error instanceof InvalidFileError);
    assert.match(r.error.message, /not UTF-8/);
  });

  it('fails at once past maxRows', async () => {
    const r = await runImport('json', JSON.stringify([{}, {}, {}]), { maxRows: 2 });
    assert.ok(r.error instanceof TooManyRowsError);
    assert.equal(r.out, '');
  });

  it('keeps the first maxErrors errors and counts all', async () => {
    const r = await runImport('json', JSON.stringify(Array.from({ length: 12 }, () => ({ ok: 'yes' }))), { maxErrors: 3 });
    assert.equal(r.errorCount, 12);
    assert.equal(r.errors.length, 3);
  });
});
