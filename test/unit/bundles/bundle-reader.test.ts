import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { InvalidFileError, TooManyRowsError } from '../../../src/errors.js';
import { bytes, readAll, SCHEMA } from './helpers.js';

const ROWS = [
  { id: 'r1', title: 'a "quoted" ] } [ {', qty: 1, tags: ['x', { y: '}' }] },
  { id: 'r2', title: '北京 🚀\\', qty: null, tags: [] },
  { title: 'no id', created_at: 1600000000 },
];
const BUNDLE = {
  format: 'tableport.bundle',
  version: 1,
  exported_at: 1763700000,
  tables: {
    orders: { schema: SCHEMA, rows: ROWS },
    empty: { schema: { fields: [{ name: 'x', type: 'number', description: 'a "note"' }] }, rows: [] },
    no_rows_key: { schema: SCHEMA },
  },
};

function text(v: unknown, indent?: number): string {
  return JSON.stringify(v, null, indent);
}

async function refused(input: string | Buffer | Readable, pattern: RegExp, opts = {}): Promise<InvalidFileError> {
  const r = await readAll(input instanceof Readable ? input : bytes(input, 7), opts);
  assert.ok(r.error instanceof InvalidFileError, `expected invalid_file, got ${r.error?.stack ?? 'no error'}`);
  assert.equal(r.error.code, 'invalid_file');
  assert.match(r.error.message, pattern);
  return r.error;
}

describe('bundle reader', () => {
  it('reads tables, schemas and rows in file order, whatever the chunking and layout', async () => {
    for (const indent of [undefined, 2, '\t'] as const) {
      for (const chunk of [Number.POSITIVE_INFINITY, 1, 2, 5, 64]) {
        const src = `\uFEFF${indent === '\t' ? text(BUNDLE, 1).replaceAll('\n', '\r\n') : text(BUNDLE, indent as number | undefined)}`;
        const r = await readAll(bytes(src, chunk));
        assert.equal(r.error, undefined, `${String(indent)} ${chunk}: ${r.error?.message}`);
        assert.deepEqual(r.order, ['orders', 'empty', 'no_rows_key']);
        assert.deepEqual(
          r.tables.get('orders')?.rows.map((x) => x.row),
          ROWS,
        );
        assert.deepEqual(
          r.tables.get('orders')?.rows.map((x) => x.position),
          [1, 2, 3],
        );
        assert.deepEqual(r.tables.get('empty')?.schema, BUNDLE.tables.empty.schema);
        assert.equal(r.tables.get('orders')?.ended, 3);
        assert.equal(r.tables.get('empty')?.ended, 0);
        assert.equal(r.tables.get('no_rows_key')?.ended, 0);
        const end = r.events.at(-1);
        assert.deepEqual(end, { kind: 'end', header: { format: 'tableport.bundle', version: 1, exportedAt: 1763700000 }, tables: 3 });
      }
    }
  });

  it('gives each row the line it starts on', async () => {
    const r = await readAll(bytes(text(BUNDLE, 2), 3));
    const lines = text(BUNDLE, 2).split('\n');
    for (const row of r.tables.get('orders')?.rows ?? []) {
      assert.equal(lines[row.line - 1]?.trim(), '{', `row ${row.position} at line ${row.line}`);
      assert.match(lines[row.line] ?? '', /"(id|title)"/);
    }
    assert.equal(r.tables.get('orders')?.line, 6);
  });

  it('reads gzip, found by its magic bytes', async () => {
    const r = await readAll(bytes(gzipSync(text(BUNDLE)), 10));
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.tables.get('orders')?.rows.map((x) => x.row),
      ROWS,
    );
    await refused(bytes(gzipSync(text(BUNDLE)).subarray(0, 40)), /gzip.*damaged/);
  });

  it('refuses what is not a bundle', async () => {
    await refused('', /empty/);
    await refused('hello', /not a tableport bundle.*starts with "h"/);
    await refused(text([{ a: 1 }]), /not a tableport bundle.*starts with "\["/);
    await refused(Buffer.from([0x7b, 0xff, 0xfe]), /not UTF-8/);
    await refused(text({ ...BUNDLE, format: 'kuiper' }), /"format" is "kuiper", not "tableport.bundle"/);
    await refused(text({ ...BUNDLE, version: 2 }), /"version" is 2; this server reads bundles of version 1/);
    await refused(text({ ...BUNDLE, version: '1' }), /"version" is "1"/);
    await refused(text({ ...BUNDLE, exported_at: -1 }), /"exported_at" must be Unix seconds/);
    await refused(text({ format: 'tableport.bundle', version: 1 }), /no "tables"/);
    await refused(text({ ...BUNDLE, extra: 1 }), /no key "extra"/);
    await refused(text(BUNDLE).slice(0, -30), /cut short/);
    await refused(`${text(BUNDLE)} {}`, /goes on after/);
    await refused(text(BUNDLE).replace('"version":1', '"version":1,"version":1'), /"version" appears twice/);
  });

  it('needs format and version before tables, and a schema before rows', async () => {
    await refused('{"tables": {}, "format": "tableport.bundle", "version": 1}', /"format" and "version" must come before "tables"/);
    await refused(
      '{"format": "tableport.bundle", "version": 1, "tables": {"t": {"rows": [], "schema": {"fields": [{"name": "a", "type": "string"}]}}}}',
      /the rows of table "t" come before its schema/,
    );
    await refused('{"format": "tableport.bundle", "version": 1, "tables": {"t": {"rows": []}}}', /come before its schema/);
    await refused('{"format": "tableport.bundle", "version": 1, "tables": {"t": {}}}', /table "t" has no "schema"/);
  });

  it('checks table and field names with the rules of table creation', async () => {
    const one = (name: string, schema: unknown) =>
      text({ format: 'tableport.bundle', version: 1, tables: { [name]: { schema, rows: [] } } });
    await refused(one('1orders', SCHEMA), /the table name "1orders" cannot be used: it must be a letter, then up to 63 letters/);
    await refused(one('a-b', SCHEMA), /table name "a-b"/);
    await refused(one('t', { fields: [{ name: 'id', type: 'string' }] }), /table "t": schema.fields\[0\].name is a built-in field name/);
    await refused(one('t', { fields: [{ name: 'bad name', type: 'string' }] }), /schema.fields\[0\].name a letter or "_"/);
    await refused(one('t', { fields: [{ name: 'a', type: 'blob' }] }), /schema.fields\[0\].type/);
    await refused(
      one('t', {
        fields: [
          { name: 'a', type: 'string' },
          { name: 'A', type: 'string' },
        ],
      }),
      /"A" is used twice/,
    );
    await refused(one('t', { fields: [] }), /at least one field/);
    await refused(one('t', []), /schema of table "t" must be an object/);
    const dup = '{"format":"tableport.bundle","version":1,"tables":{"t":{"schema":{"fields":[{"name":"a","type":"string"}]}},"t":{}}}';
    await refused(dup, /the table "t" appears twice/);
    await refused(dup.replace('}},"t":{}}}', '},"other":1}}}'), /table "t" has a key "other"/);
    await refused(dup.replace('}},"t":{}}}', '},"schema":{}}}}'), /table "t" has "schema" twice/);
  });

  it('refuses rows that are not objects or not JSON, naming table, row and line', async () => {
    const head = `{"format":"tableport.bundle","version":1,"tables":{"t":{"schema":${text(SCHEMA)},"rows":[\n`;
    await refused(`${head}{"title":"a"},\n[1,2]\n]}}}`, /line 3: .*row 2 of table "t" is not an object/);
    await refused(`${head}{"title":"a"},\n{"title":"b",}\n]}}}`, /line 3: row 2 of table "t" is not valid JSON/);
    await refused(`${head}{"title":"a"} {"title":"b"}\n]}}}`, /expected "," or "]" after a row of table "t"/);
    await refused(`${head}{"title":"a"},]}}}`, /comma before the closing "]"/);
    const bad = await refused(bytes(`${head}{"title":"a"},\n{"title":\n"b" x}\n]}}}`, 1), /line 3: row 2 of table "t" is not valid JSON/);
    assert.deepEqual(bad.details, { line: 3, table: 't', row: 2 });
  });

  it('refuses 10,000 tables at the table cap, without reading them all', async () => {
    const entry = (k: number) => `"t${k}":{"schema":{"fields":[{"name":"a","type":"string"}]},"rows":[]}`;
    let made = 0;
    const src = Readable.from(
      (function* () {
        yield Buffer.from('{"format":"tableport.bundle","version":1,"tables":{');
        for (let k = 0; k < 10_000; k++, made++) yield Buffer.from((k ? ',' : '') + entry(k));
        yield Buffer.from('}}');
      })(),
      { objectMode: false },
    );
    await refused(src, /at most 1000 tables/);
    assert.ok(made < 1100, `read ${made} tables`);
    await refused(
      text({ format: 'tableport.bundle', version: 1, tables: { a: { schema: SCHEMA }, b: { schema: SCHEMA } } }),
      /at most 1 tables/,
      {
        maxTables: 1,
      },
    );
  });

  it('refuses a 1 GB string at the value cap, having read only about the cap', async () => {
    const huge = (prefix: string) => {
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const stream = Readable.from(
        (function* () {
          yield Buffer.from(prefix);
          for (; sent < 1024 ** 3; sent += chunk.length) yield chunk;
          yield Buffer.from('"}]}}}');
        })(),
        { objectMode: false },
      );
      return { stream, sent: () => sent };
    };
    const head = `{"format":"tableport.bundle","version":1,"tables":{"t":{"schema":${text(SCHEMA)},"rows":[{"title":"`;
    const row = huge(head);
    await refused(row.stream, /row 1 of table "t" is larger than 1048576 characters, or never ends/, { maxRowChars: 1024 * 1024 });
    assert.ok(row.sent() < 4 * 1024 * 1024, `read ${row.sent()} bytes`);
    const key = huge('{"format":"tableport.bundle","version":1,"tables":{"');
    await refused(key.stream, /a key is longer than 256 characters/);
    assert.ok(key.sent() < 1024 * 1024);
    const schema = huge('{"format":"tableport.bundle","version":1,"tables":{"t":{"schema":{"fields":[{"name":"');
    await refused(schema.stream, /the schema of table "t" is larger than/);
    assert.ok(schema.sent() < 4 * 1024 * 1024);
    const top = huge('{"format":"');
    await refused(top.stream, /a value is longer than 256 characters/);
  });

  it('refuses deep nesting', async () => {
    const head = `{"format":"tableport.bundle","version":1,"tables":{"t":{"schema":${text(SCHEMA)},"rows":[{"tags":`;
    await refused(`${head + '['.repeat(100_000) + ']'.repeat(100_000)}}]}}}`, /nested more than 64 deep/);
    const ok = await readAll(bytes(`${head + '['.repeat(10) + ']'.repeat(10)}}]}}}`));
    assert.equal(ok.error, undefined);
    await refused(`${head + '['.repeat(10) + ']'.repeat(10)}}]}}}`, /nested more than 5 deep/, { maxDepth: 5 });
    await refused(`{"format":${'['.repeat(1000)}`, /nested more than 64 deep|longer than/);
  });

  it('caps the rows of one table', async () => {
    const r = await readAll(bytes(text(BUNDLE)), { maxRowsPerTable: 2 });
    assert.ok(r.error instanceof TooManyRowsError);
    assert.match(r.error.message, /table "orders"/);
  });

  it('hands rows over in batches as the chunks come, not a whole table', async () => {
    const rows = Array.from({ length: 5000 }, (_, k) => ({ title: `row ${k}`, qty: k }));
    const r = await readAll(bytes(text({ ...BUNDLE, tables: { big: { schema: SCHEMA, rows } } }), 16 * 1024));
    assert.equal(r.error, undefined);
    const batches = r.events.filter((e) => e.kind === 'rows');
    assert.ok(batches.length > 5, `${batches.length} batches`);
    assert.deepEqual(
      r.tables.get('big')?.rows.map((x) => x.row),
      rows,
    );
    assert.deepEqual(
      r.tables.get('big')?.rows.map((x) => x.position),
      rows.map((_, k) => k + 1),
    );
  });
});
