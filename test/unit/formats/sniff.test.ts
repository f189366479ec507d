import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFileError } from '../../../src/errors.js';
import { gzipSync } from 'node:zlib';
import { sniffUpload, type SniffOptions } from '../../../src/formats/index.js';
import { FIELDS } from './helpers.js';

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tableport-sniff-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sniff(content: string | Buffer, opts: Omit<SniffOptions, 'fields'> = {}) {
  const path = join(dir, `upload-${++n}`);
  await writeFile(path, content);
  return sniffUpload(path, { fields: FIELDS, ...opts });
}

async function refused(content: string | Buffer, pattern: RegExp, opts: Omit<SniffOptions, 'fields'> = {}) {
  await assert.rejects(sniff(content, opts), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('sniffUpload', () => {
  it('recognises CSV from its content and returns its columns', async () => {
    assert.deepEqual(await sniff('id,title,qty\na,b,1\n'), { format: 'csv', columns: ['id', 'title', 'qty'], csvDelimiter: ',' });
    assert.deepEqual(await sniff('\uFEFFtitle\r\nx\r\n'), { format: 'csv', columns: ['title'], csvDelimiter: ',' });
  });

  it('recognises a JSON array and returns the first object keys', async () => {
    assert.deepEqual(await sniff(' [\n {"title": "x", "qty": 1}, {"ok": true}]'), { format: 'json', columns: ['title', 'qty'] });
  });

  it('accepts JSON whose first object does not end within the head', async () => {
    const big = JSON.stringify([{ title: 'x'.repeat(70_000) }, { title: 'y' }]);
    assert.deepEqual(await sniff(big), { format: 'json' });
  });

  it('takes a header-only CSV and [] as files of no rows (an empty table exported and imported back)', async () => {
    assert.deepEqual(await sniff('title,qty\n'), { format: 'csv', columns: ['title', 'qty'], csvDelimiter: ',' });
    assert.equal((await sniff('[]')).format, 'json');
    assert.equal((await sniff(' [ \n ] ')).format, 'json');
    assert.equal((await sniff(gzipSync('[]'))).format, 'json');
  });

  it('refuses an empty file (0 bytes, also once decompressed) and one of nothing but white space', async () => {
    await refused('', /^The file is empty \(0 bytes\): there is nothing to import\. A CSV file needs at least its header line/);
    await refused(gzipSync(''), /^The file is gzip-compressed and decompresses to 0 bytes: there is nothing to import/);
    await refused('  \n\t ', /^The file holds nothing but white space: there is nothing to import/);
    await refused('\uFEFF', /^The file holds nothing but white space/);
    await refused('\uFEFF\r\n', /^The file holds nothing but white space/);
  });

  it('refuses binary content', async () => {
    await refused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), /binary/);
    await refused(Buffer.from([0x74, 0x69, 0xff, 0xfe, 0x0a]), /not UTF-8/);
  });

  it('does not mistake a character cut at the end of the head for invalid UTF-8', async () => {
    // 64 KiB of data whose last multi-byte character straddles the 64 KiB boundary.
    const head = `title\n${'x'.repeat(64 * 1024 - 7)}€€\n`;
    assert.equal(Buffer.byteLength(head.slice(0, 6 + 64 * 1024 - 7 + 1)) > 64 * 1024, true);
    assert.deepEqual(await sniff(head), { format: 'csv', columns: ['title'], csvDelimiter: ',' });
  });

  it('reads the format from the content, never from a name', async () => {
    assert.equal((await sniff('{"title": "x"}\n{"qty": 2}\n')).format, 'ndjson');
    assert.deepEqual(await sniff('{"title": "x"}\n'), { format: 'ndjson', columns: ['title'] });
    assert.deepEqual(await sniff(gzipSync('title;qty\nx;1\n')), {
      format: 'csv',
      gzip: true,
      columns: ['title', 'qty'],
      csvDelimiter: ';',
    });
    assert.deepEqual(await sniff(gzipSync('{"qty": 1}\n')), { format: 'ndjson', gzip: true, columns: ['qty'] });
  });

  it('finds the delimiter among , ; TAB | by the header that names fields, unless one is given', async () => {
    assert.equal((await sniff('title;qty;price\nx,y;1;2,5\n')).csvDelimiter, ';');
    assert.equal((await sniff('title\tqty\nx\t1\n')).csvDelimiter, '\t');
    assert.equal((await sniff('title|qty\nx|1\n')).csvDelimiter, '|');
    assert.equal((await sniff('title,qty\nx;y,1\n')).csvDelimiter, ',');
    await refused('title;qty\nx;1\n', /first line names fields of the table; its first line is "title;qty"/, { csvDelimiter: ',' });
  });

  it('without a header, checks the named columns and picks the delimiter that splits the first line into them', async () => {
    assert.deepEqual(await sniff('x;1\n', { csvHeader: false, columns: ['title', 'qty'] }), {
      format: 'csv',
      columns: ['title', 'qty'],
      csvDelimiter: ';',
    });
    await refused('x;1\n', /"columns" names a column that is not a field of the table: "colour"\. The table.s fields are/, {
      csvHeader: false,
      columns: ['title', 'colour'],
    });
  });

  it('refuses zip files that are not workbooks, saying what they are', async () => {
    const zipEntry = (name: string) => {
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(Buffer.byteLength(name), 26);
      return Buffer.concat([h, Buffer.from(name)]);
    };
    await refused(zipEntry('word/document.xml'), /Word or PowerPoint document/);
    await refused(zipEntry('a.txt'), /zip archive but not an xlsx workbook/);
  });

  it('refuses a damaged gzip file', async () => {
    const gz = gzipSync(`title\n${'x\n'.repeat(1000)}`);
    const broken = Buffer.from(gz);
    broken.fill(0x55, 12, 40);
    await refused(broken, /gzip-compressed but cannot be decompressed/);
  });

  it('refuses JSON that is not an array', async () => {
    await refused('{\n  "title": "x"\n}', /NDJSON needs one object per line/);
    await refused('[1, 2]', /element 1 of the array is not an object/);
    await refused('[{"title": }]', /not valid JSON/);
  });

  it('refuses CSV columns and JSON keys that are not fields, listing them', async () => {
    await refused('title,colour,size\nx,y,z\n', /The CSV header names columns that are not fields of the table: "colour", "size"/);
    await refused('[{"title": "x", "colour": "red"}]', /key that is not a field of the table: "colour"/);
  });

  it('refuses duplicate CSV columns and a header that does not parse', async () => {
    await refused('title,title\nx,y\n', /"title" more than once/);
    await refused('title,"qty\nx,1\n', /neither JSON nor valid CSV/);
    await refused('ti"tle\nx\n', /neither JSON nor valid CSV/);
  });

  it('refuses text that is neither CSV nor JSON', async () => {
    await refused(
      '<html><body>hello</body></html>\n',
      /neither JSON nor a CSV whose first line names fields of the table; its first line is "<html><body>hello<\/body><\/html>"/,
    );
    await refused('just some words, in a text file\nmore\n', /neither JSON nor a CSV/);
  });
});
