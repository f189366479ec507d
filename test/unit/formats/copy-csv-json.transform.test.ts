import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { CopyCsvToJsonLines } from '../../../src/formats/copy-csv-json.transform.js';
import type { ExportColumn } from '../../../src/formats/format.js';
import { chunked } from './helpers.js';

const COLUMNS: ExportColumn[] = [
  { name: 'id', type: 'string' },
  { name: 'n', type: 'number' },
  { name: 'i', type: 'integer' },
  { name: 'ok', type: 'boolean' },
  { name: 'tags', type: 'array' },
  { name: 'at', type: 'date' },
  { name: 'k"ey', type: 'string' },
];

// As PostgreSQL's CSV writer quotes: only what needs it, "" for the empty string, nothing for NULL.
const CSV = [
  'a,1.5,1,true,"[""x,y"", 1]",2024-01-01T00:00:00.000Z,plain',
  '"",-Infinity,-2,false,[],,"with ""quotes"", and\nline"',
  ',NaN,,,,,\u0001\u000b\\ü🎉',
  'b,-0.5,0,,"[""\\\\u0001""]",,',
  '',
].join('\n');

const EXPECTED = [
  '{"id":"a","n":1.5,"i":1,"ok":true,"tags":["x,y", 1],"at":"2024-01-01T00:00:00.000Z","k\\"ey":"plain"}',
  '{"id":"","n":"-Infinity","i":-2,"ok":false,"tags":[],"at":null,"k\\"ey":"with \\"quotes\\", and\\nline"}',
  '{"id":null,"n":"NaN","i":null,"ok":null,"tags":null,"at":null,"k\\"ey":"\\u0001\\u000b\\\\ü🎉"}',
  '{"id":"b","n":-0.5,"i":0,"ok":null,"tags":["\\\\u0001"],"at":null,"k\\"ey":null}',
  '',
].join('\n');

async function convert(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(new CopyCsvToJsonLines({ columns: COLUMNS }))) out.push(c as Buffer);
  return Buffer.concat(out).toString('utf8');
}

describe('CopyCsvToJsonLines', () => {
  it("writes row_to_json's lines from PostgreSQL's CSV: strings escaped, numbers bare, NaN and ±Infinity as strings, NULL vs ''", async () => {
    assert.equal(await convert(chunked(CSV)), EXPECTED);
  });

  it('gives the same bytes whatever the chunks (values, quotes and escapes cut anywhere)', async () => {
    assert.equal(await convert(chunked(CSV, 1)), EXPECTED);
    const bytes = Buffer.from(CSV).length;
    for (let cut = 1; cut < bytes; cut++) assert.equal(await convert(chunked(CSV, [cut])), EXPECTED, `cut at ${cut}`);
  });

  it('writes values longer than its blocks, escaped to six times their bytes, whatever the chunks', async () => {
    const controls = '\u0001'.repeat(700);
    const tags = `[${Array.from({ length: 200 }, (_, k) => `"a,${k}"`).join(', ')}]`;
    const csv = `${'"'.repeat(1)}${'"'.repeat(2).repeat(300)}",1,2,true,"${tags.replaceAll('"', '""')}",,${controls}\n`;
    const expected = `${JSON.stringify({ id: '"'.repeat(300), n: 1, i: 2, ok: true, tags: 'TAGS', at: null, 'k"ey': controls }).replace('"TAGS"', tags)}\n`;
    assert.equal(await convert(chunked(csv)), expected);
    assert.equal(await convert(chunked(csv, 5)), expected);
    for (let cut = 1; cut < csv.length; cut += 13) assert.equal(await convert(chunked(csv, [cut])), expected, `cut at ${cut}`);
  });

  it('ends a last row without its line break, and writes nothing for no rows', async () => {
    assert.equal(await convert(chunked('x,1,2,true,[],,')), '{"id":"x","n":1,"i":2,"ok":true,"tags":[],"at":null,"k\\"ey":null}\n');
    assert.equal(await convert([]), '');
  });
});
