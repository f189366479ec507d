import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { ExportColumn } from '../../../src/formats/format.js';
import { SqlExportWriter } from '../../../src/formats/sql-export.writer.js';
import { chunked } from './helpers.js';

const COLUMNS: ExportColumn[] = [
  { name: 'id', type: 'string' },
  { name: 'n', type: 'number' },
  { name: 'i', type: 'integer' },
  { name: 'ok', type: 'boolean' },
  { name: 'tags', type: 'array' },
  { name: 'at', type: 'date' },
  { name: 'no"te', type: 'string' },
];

const HEAD = `INSERT INTO "t'1" ("id", "n", "i", "ok", "tags", "at", "no""te") VALUES (`;
// Longer than the writer's blocks, quoted and not, with quotes to double all along.
const LONG_QUOTES = `${"a'".repeat(300)}z`;
const LONG_QUOTED = `${'x, "y" \'z\'\n'.repeat(60)}end`;
// Rows of NULLs: a few input bytes, a whole statement out, so the output outgrows its first buffer.
const NULLS = 300;

// As PostgreSQL's CSV writer quotes: only what needs it, "" for the empty string, nothing for NULL.
const CSV = [
  `O'Brien,1.5,1,true,"[""x,y"", 1]",2024-01-01T00:00:00.000Z,plain`,
  '"",-Infinity,-2,false,[],,"with ""quotes"", \'ticks\' and\nline"',
  ',NaN,,,,,\u0001\\ü🎉',
  `${LONG_QUOTES},Infinity,9223372036854775807,,"{""k"": ""it's""}",,"${LONG_QUOTED.replaceAll('"', '""')}"`,
  'b,-0.5,-9223372036854775808,,[],,',
  ...Array.from({ length: NULLS }, () => ',,,,,,'),
  '',
].join('\n');

const EXPECTED = [
  'SET standard_conforming_strings = on;',
  `${HEAD}'O''Brien', 1.5, 1, TRUE, '["x,y", 1]', '2024-01-01T00:00:00.000Z', 'plain');`,
  `${HEAD}'', '-Infinity', -2, FALSE, '[]', NULL, 'with "quotes", ''ticks'' and\nline');`,
  `${HEAD}NULL, 'NaN', NULL, NULL, NULL, NULL, '\u0001\\ü🎉');`,
  `${HEAD}'${LONG_QUOTES.replaceAll("'", "''")}', 'Infinity', 9223372036854775807, NULL, '{"k": "it''s"}', NULL, '${LONG_QUOTED.replaceAll("'", "''")}');`,
  `${HEAD}'b', -0.5, -9223372036854775808, NULL, '[]', NULL, NULL);`,
  ...Array.from({ length: NULLS }, () => `${HEAD}NULL, NULL, NULL, NULL, NULL, NULL, NULL);`),
  '',
].join('\n');

async function convert(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(new SqlExportWriter({ tableName: "t'1", columns: COLUMNS }))) out.push(c as Buffer);
  return Buffer.concat(out).toString('utf8');
}

describe('SqlExportWriter', () => {
  it("writes one INSERT a row from PostgreSQL's CSV: ' doubled, numbers as PostgreSQL wrote them, NaN and ±Infinity quoted, NULL vs ''", async () => {
    assert.equal(await convert(chunked(CSV)), EXPECTED);
  });

  it('gives the same bytes whatever the chunks (values, quotes and long values cut anywhere)', async () => {
    assert.equal(await convert(chunked(CSV, 1)), EXPECTED);
    assert.equal(await convert(chunked(CSV, 7)), EXPECTED);
    const bytes = Buffer.from(CSV).length;
    for (let cut = 1; cut < bytes; cut += cut < 1500 ? 1 : 37) assert.equal(await convert(chunked(CSV, [cut])), EXPECTED, `cut at ${cut}`);
  });

  it('writes only the setting for no rows', async () => {
    assert.equal(await convert([]), 'SET standard_conforming_strings = on;\n');
  });
});
