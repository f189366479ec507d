/**
 * The Parquet reader against files made to exhaust it or damaged on the way: pages that inflate
 * far past what they declare, in every codec; a run-length run of 2^30 values in a 30-byte page; a
 * zstd page fzstd loops on; and every single-byte flip of real files, each of which must be refused
 * as invalid_file or read back equal. Memory is the process's high-water mark (maxRSS): a page bomb
 * that inflated would raise it by the page's size.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { brotliCompressSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { InvalidFileError } from '../../../../src/errors.js';
import {
  checkParquetFile,
  createParquetExportWriter,
  PARQUET_MAX_PAGE_BYTES,
  readParquetRows,
} from '../../../../src/formats/parquet/index.js';
import {
  doublesPage,
  handParquet,
  lz4Zeros,
  PARQUET_ENCODING,
  parquetGzipBomb,
  parquetSmall,
  zstdZeros,
} from '../../../helpers/hostile-files.js';
import { AWKWARD_ROWS, COLUMNS, collect, tempDir } from './awkward-rows.js';
import { duckdb, lit } from './duckdb.js';

const dir = tempDir('tableport-parquet-bounds-');
const db = duckdb();
const MB = 1024 * 1024;

function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function refused(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(collect(readParquetRows(file)), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

async function write(name: string, bytes: Buffer): Promise<string> {
  const file = join(dir(), name);
  await writeFile(file, bytes);
  return file;
}

/** Where page bytes (not headers, not the footer) lie in a file: flips there change values in codecs without a checksum. */
function pageData(bytes: Buffer): Array<[number, number]> {
  const md = parquetMetadata(new Uint8Array(bytes).buffer);
  const out: Array<[number, number]> = [];
  for (const g of md.row_groups) {
    for (const c of g.columns) {
      const m = c.meta_data;
      if (!m) continue;
      const start = Number(m.dictionary_page_offset || m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      for (let at = start; at < end; ) {
        const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + at, end - at), offset: 0 };
        const h = parquetHeader(reader);
        out.push([at + reader.offset, at + reader.offset + h.compressed_page_size]);
        at += reader.offset + h.compressed_page_size;
      }
    }
  }
  return out;
}

/**
 * Flips each byte at `positions` in turn (all bits) and reads the file: it must be refused as
 * invalid_file or read back equal to the original. Returns how each variant ended.
 */
async function flipEach(name: string, bytes: Buffer, positions: number[]): Promise<{ refused: number; equal: number }> {
  const good = await collect(readParquetRows(await write(`${name}.parquet`, bytes)));
  const file = join(dir(), `${name}-flipped.parquet`);
  const tally = { refused: 0, equal: 0 };
  for (const at of positions) {
    const b = Buffer.from(bytes);
    b[at] = (b[at] as number) ^ 0xff;
    await writeFile(file, b);
    try {
      const rows = await collect(readParquetRows(file));
      assert.ok(isDeepStrictEqual(rows, good), `${name}: byte ${at} flipped read as ${rows.length} rows that differ from the original`);
      tally.equal++;
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.ok(err instanceof InvalidFileError, `${name}: byte ${at} flipped: ${String(err)}`);
      tally.refused++;
    }
  }
  return tally;
}

const DUCK_SOURCE = `SELECT i::BIGINT AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE 'name ' || (i % 10) END AS name,
  (i * 1.5)::DOUBLE AS score, i % 2 = 0 AS flag, CASE WHEN i % 5 = 0 THEN NULL ELSE [i, i + 1] END AS tags FROM range(120) t(i)`;

async function duckBytes(name: string, options: string): Promise<Buffer> {
  const file = join(dir(), name);
  await (await db()).run(`COPY (${DUCK_SOURCE}) TO ${lit(file)} (${options})`);
  return readFile(file);
}

describe('Parquet reader bounds', () => {
  it('reads the hand-written files these tests damage, when they are honest', async () => {
    assert.deepEqual(
      (await collect(readParquetRows(await write('small.parquet', parquetSmall(10))))).map((r) => r.row.x),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it('refuses a 917 KB file whose GZIP page declares 900 MB before inflating it', async () => {
    const file = await write('bomb.parquet', await parquetGzipBomb(900 * MB));
    const before = maxRssMb();
    await refused(
      file,
      /A GZIP page of column "[^"]+" in row group 1 of the Parquet file inflates to 943718400 bytes, more than the limit of 134217728 bytes/,
    );
    assert.ok(maxRssMb() - before < 100, `the high-water mark rose by ${Math.round(maxRssMb() - before)} MB`);
  });

  it('refuses the same page when its header declares 1 MB: the inflater stops at what was declared', async () => {
    const file = await write('lying-bomb.parquet', await parquetGzipBomb(900 * MB, MB));
    const before = maxRssMb();
    await refused(file, /damaged: a GZIP page does not inflate to the 1048576 bytes its header declares/);
    assert.ok(maxRssMb() - before < 100, `the high-water mark rose by ${Math.round(maxRssMb() - before)} MB`);
  });

  it('holds every codec to the size its page declares', async () => {
    const declared = 1024;
    const lying: Array<[string, Parameters<typeof handParquet>[0], Buffer]> = [
      ['brotli', 'BROTLI', brotliCompressSync(Buffer.alloc(64 * MB))],
      ['zstd (no content size)', 'ZSTD', zstdZeros(64 * MB)],
      ['lz4', 'LZ4_RAW', lz4Zeros(64 * MB)],
      // snappy announces its size first: 64 MB, where the page says 1 KB
      ['snappy', 'SNAPPY', Buffer.from([0x80, 0x80, 0x80, 0x20, 0x00, 0x00])],
    ];
    const before = maxRssMb();
    for (const [what, codec, data] of lying) {
      const file = await write(`lying-${what}.parquet`, handParquet(codec, [{ data, declared, values: declared / 8 }]));
      await refused(file, new RegExp(`damaged: a ${codec} page does not inflate to the 1024 bytes its header declares`));
    }
    assert.ok(maxRssMb() - before < 100, `the high-water mark rose by ${Math.round(maxRssMb() - before)} MB`);
    // and pages that hold what they say read, in each codec
    const page = doublesPage(128);
    const honest: Array<[Parameters<typeof handParquet>[0], Buffer]> = [
      ['BROTLI', brotliCompressSync(page)],
      ['UNCOMPRESSED', page],
    ];
    for (const [codec, data] of honest) {
      const rows = await collect(
        readParquetRows(await write(`honest-${codec}.parquet`, handParquet(codec, [{ data, declared: page.length, values: 128 }]))),
      );
      assert.deepEqual(
        rows.map((r) => r.row.x),
        Array.from({ length: 128 }, (_v, i) => i),
        codec,
      );
    }
    assert.equal(PARQUET_MAX_PAGE_BYTES, 128 * MB);
  });

  it('refuses a page whose run-length run announces 2^30 values, before the decoder allocates them', async () => {
    // An OPTIONAL column: the page starts with its definition levels, 4 bytes of length, then one run.
    const levels = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08, 0x01]); // header 2^31: a run of 2^30 ones
    const length = Buffer.alloc(4);
    length.writeUInt32LE(levels.length);
    const data = Buffer.concat([length, levels, doublesPage(1)]);
    const file = await write(
      'run-bomb.parquet',
      handParquet('UNCOMPRESSED', [{ data, declared: data.length, values: 1 }], 1, { optional: true }),
    );
    const before = maxRssMb();
    await refused(file, /damaged: a page of column "x" in row group 1 has a run of 1073741824 values where 1 are left/);
    assert.ok(maxRssMb() - before < 100, `the high-water mark rose by ${Math.round(maxRssMb() - before)} MB`);
  });

  it('refuses a codec, an encoding or a level encoding it does not decode, naming the column and what is not supported', async () => {
    const page = doublesPage(4);
    const one = [{ data: page, declared: page.length, values: 4 }];
    // The same page honestly labelled reads: what is refused is the label alone.
    assert.deepEqual(
      (await collect(readParquetRows(await write('plain.parquet', handParquet('UNCOMPRESSED', one))))).map((r) => r.row.x),
      [0, 1, 2, 3],
    );
    const cases: Array<[string, Buffer, RegExp]> = [
      ['lzo', handParquet('LZO', one), /Column "x" of the Parquet file is compressed with LZO, which is not supported/],
      [
        'delta-doubles',
        handParquet('UNCOMPRESSED', one, 4, { encoding: PARQUET_ENCODING.DELTA_BINARY_PACKED }),
        /Column "x" of the Parquet file is written in the DELTA_BINARY_PACKED encoding, which is not supported for DOUBLE values/,
      ],
      [
        'rle-doubles',
        handParquet('UNCOMPRESSED', one, 4, { encoding: PARQUET_ENCODING.RLE }),
        /Column "x" of the Parquet file is written in the RLE encoding, which is not supported for DOUBLE values/,
      ],
      [
        'bit-packed-levels',
        handParquet('UNCOMPRESSED', one, 4, { optional: true, levels: PARQUET_ENCODING.BIT_PACKED }),
        /Column "x" of the Parquet file stores its definition levels in the BIT_PACKED encoding, which is not supported/,
      ],
    ];
    for (const [name, bytes, pattern] of cases) {
      const file = await write(`${name}.parquet`, bytes);
      await refused(file, pattern);
      // The upload's check refuses it too, before a job is queued.
      await assert.rejects(checkParquetFile(file), pattern, name);
    }
  });

  it('refuses, at the worker timeout, a zstd page fzstd loops on forever', async () => {
    // A DuckDB zstd page with one byte flipped: fzstd never returns from its Huffman header.
    const frame = await readFile(fileURLToPath(new URL('../../../fixtures/formats/fzstd-endless-loop.zst', import.meta.url)));
    const file = await write('zstd-loop.parquet', handParquet('ZSTD', [{ data: frame, declared: 2407, values: 300 }]));
    await refused(file, /damaged: a ZSTD page does not inflate .* \(it did not inflate within 10 s\)/);
    // The next zstd page is read by a fresh worker.
    const bytes = await duckBytes('zstd.parquet', "FORMAT PARQUET, COMPRESSION 'zstd'");
    assert.equal((await collect(readParquetRows(await write('zstd-after.parquet', bytes)))).length, 120);
  });

  it('refuses or reads back equal every single-byte flip of DuckDB and tableport GZIP files', async () => {
    // GZIP pages carry a CRC-32: a flip in page data is caught by it, a flip elsewhere by the structure.
    const duck = await duckBytes('duck-gzip.parquet', "FORMAT PARQUET, COMPRESSION 'gzip'");
    const ours = Buffer.concat(
      await collect(Readable.from(AWKWARD_ROWS).pipe(createParquetExportWriter({ tableName: 't', fields: [], columns: COLUMNS }))),
    );
    for (const [name, bytes] of [
      ['duckdb-gzip', duck],
      ['tableport', ours],
    ] as const) {
      const tally = await flipEach(
        name,
        bytes,
        Array.from({ length: bytes.length }, (_v, i) => i),
      );
      assert.equal(tally.refused + tally.equal, bytes.length);
      assert.ok(tally.refused > bytes.length / 2, `${name}: ${JSON.stringify(tally)}`);
    }
  });

  it('refuses or reads back equal every flip outside page data of DuckDB snappy, zstd and plain files', async () => {
    // Without a checksum, a flipped byte of page data is a different value no reader can tell.
    for (const codec of ['snappy', 'zstd', 'uncompressed']) {
      const bytes = await duckBytes(`duck-${codec}.parquet`, `FORMAT PARQUET, COMPRESSION '${codec}'`);
      const data = pageData(bytes);
      const positions = Array.from({ length: bytes.length }, (_v, i) => i).filter((i) => !data.some(([a, b]) => i >= a && i < b));
      const tally = await flipEach(`duckdb-${codec}`, bytes, positions);
      assert.ok(tally.refused > positions.length / 2, `${codec}: ${JSON.stringify(tally)}`);
    }
  });

  it('checkParquetFile (the upload check) refuses a damaged footer or page header without decoding a page, and passes good files', async () => {
    await assert.rejects(
      checkParquetFile(await write('check-bomb.parquet', await parquetGzipBomb(900 * MB))),
      /inflates to 943718400 bytes/,
    );
    const bytes = await duckBytes('check.parquet', "FORMAT PARQUET, COMPRESSION 'snappy'");
    await checkParquetFile(await write('check-good.parquet', bytes));
    const [first] = pageData(bytes);
    assert.ok(first);
    // the first page header's last byte, and the footer's length
    for (const at of [first[0] - 1, bytes.length - 8]) {
      const b = Buffer.from(bytes);
      b[at] = (b[at] as number) ^ 0xff;
      await assert.rejects(checkParquetFile(await write(`check-${at}.parquet`, b)), InvalidFileError, `byte ${at}`);
    }
  });

  it('gives the NaN of apache/parquet-testing files (DOUBLE and FLOAT16) as NaN, for the import to refuse', async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/formats/${name}`, import.meta.url));
    const doubles = await collect(readParquetRows(fixture('parquet-testing-nan_in_stats.parquet')));
    assert.deepEqual(
      doubles.map((r) => r.row.x),
      [1, Number.NaN],
    );
    const halves = await collect(readParquetRows(fixture('parquet-testing-float16_nonzeros_and_nans.parquet')));
    assert.ok(halves.some((r) => Number.isNaN(r.row.x)));
    // A NaN inside a list is given as NaN too: as JSON text it would have become null.
    const file = join(dir(), 'nested-nan.parquet');
    await (await db()).run(`COPY (SELECT ['NaN'::DOUBLE, 1.5] AS l, 'inf'::DOUBLE AS d) TO ${lit(file)} (FORMAT PARQUET)`);
    const [row] = await collect(readParquetRows(file));
    assert.deepEqual(row?.row, { l: Number.NaN, d: Number.POSITIVE_INFINITY });
  });
});
