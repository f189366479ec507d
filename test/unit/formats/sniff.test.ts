import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFileError } from '../../../src/errors.js';
import { sniffUpload } from '../../../src/formats/index.js';
import { FIELDS } from './helpers.js';

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tableport-sniff-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sniff(content: string | Buffer, originalName?: string) {
  const path = join(dir, `upload-${++n}`);
  await writeFile(path, content);
  return sniffUpload(path, originalName === undefined ? { fields: FIELDS } : { fields: FIELDS, originalName });
}

async function refused(content: string | Buffer, pattern: RegExp, originalName?: string) {
  await assert.rejects(sniff(content, originalName), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('sniffUpload', () => {
  it('recognises CSV from its content and returns its columns', async () => {
    assert.deepEqual(await sniff('id,title,qty\na,b,1\n', 'rows.csv'), { format: 'csv', columns: ['id', 'title', 'qty'] });
    assert.deepEqual(await sniff('\uFEFFtitle\r\nx\r\n'), { format: 'csv', columns: ['title'] });
  });

  it('recognises a JSON array and returns the first object keys', async () => {
    assert.deepEqual(await sniff(' [\n {"title": "x", "qty": 1}, {"ok": true}]', 'rows.JSON'), { format: 'json', columns: ['title', 'qty'] });
  });

  it('accepts JSON whose first object does not end within the head', async () => {
    const big = JSON.stringify([{ title: 'x'.repeat(70_000) }, { title: 'y' }]);
    assert.deepEqual(await sniff(big), { format: 'json' });
  });

  it('refuses empty files of every kind', async () => {
    await refused('', /empty/);
    await refused('  \n\t ', /empty/);
    await refused('\uFEFF', /empty/);
    await refused('title,qty\n', /header but no rows/);
    await refused('title,qty\n\n\n', /header but no rows/);
    await refused('[]', /no rows/);
    await refused(' [ \n ] ', /no rows/);
  });

  it('refuses binary content', async () => {
    await refused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), /binary/);
    await refused(Buffer.from([0x74, 0x69, 0xff, 0xfe, 0x0a]), /not UTF-8/);
  });

  it('does not mistake a character cut at the end of the head for invalid UTF-8', async () => {
    // 64 KiB of data whose last multi-byte character straddles the 64 KiB boundary.
    const head = 'title\n' + 'x'.repeat(64 * 1024 - 7) + '€€\n';
    assert.equal(Buffer.byteLength(head.slice(0, 6 + 64 * 1024 - 7 + 1)) > 64 * 1024, true);
    assert.deepEqual(await sniff(head), { format: 'csv', columns: ['title'] });
  });

  it('refuses other extensions but accepts none', async () => {
    await refused('title\nx\n', /Only \.csv and \.json files/, 'rows.xlsx');
    await refused('title\nx\n', /Only \.csv and \.json files/, 'rows.txt');
    assert.equal((await sniff('title\nx\n', 'rows')).format, 'csv');
  });

  it('refuses a name that contradicts the content', async () => {
    await refused('title\nx\n', /named "rows\.json" but does not hold a JSON array/, 'rows.json');
    await refused('[{"title":"x"}]', /named "rows\.csv" but holds JSON/, 'rows.csv');
  });

  it('refuses JSON that is not an array', async () => {
    await refused('{"title": "x"}', /single object/);
    await refused('[1, 2]', /element 1 of the array is not an object/);
    await refused('[{"title": }]', /not valid JSON/);
  });

  it('refuses CSV columns and JSON keys that are not fields, listing them', async () => {
    await refused('title,colour,size\nx,y,z\n', /The CSV header names columns that are not fields of the table: "colour", "size"/);
    await refused('[{"title": "x", "colour": "red"}]', /key that is not a field of the table: "colour"/);
  });

  it('refuses duplicate CSV columns and a header that does not parse', async () => {
    await refused('title,title\nx,y\n', /"title" more than once/);
    await refused('title,"qty\nx,1\n', /neither a JSON array nor valid CSV/);
    await refused('ti"tle\nx\n', /neither a JSON array nor valid CSV/);
  });

  it('refuses text that is neither CSV nor JSON', async () => {
    await refused('<html><body>hello</body></html>\n', /neither a JSON array nor a CSV whose first line names fields of the table; its first line is "<html><body>hello<\/body><\/html>"/);
    await refused('just some words, in a text file\nmore\n', /neither a JSON array nor a CSV/);
  });
});
