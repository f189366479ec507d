import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidFileError } from '../../../../src/errors.js';
import { isParquet, readParquetRows } from '../../../../src/formats/parquet/index.js';
import { collect, tempDir } from './awkward-rows.js';
import { duckdb, lit, query } from './duckdb.js';

const dir = tempDir('tableport-parquet-read-');
const db = duckdb();

/** 5,000 rows as pandas or DuckDB users would have them: nulls, repeats (dictionary pages), optional columns. */
const SOURCE = `
  SELECT
    i::BIGINT AS id,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'name ' || (i % 10) END AS name,
    CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 1.5)::DOUBLE END AS score,
    CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,
    CASE WHEN i % 11 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_milliseconds(i * 1001) END AS at,
    (i % 100)::INTEGER AS small,
    (i * 9007199254)::BIGINT AS big,
    CASE WHEN i = 1 THEN 9007199254740993::BIGINT ELSE 0 END AS huge,
    DATE '2024-02-29' + (i % 3)::INTEGER AS day,
    (i / 4)::DECIMAL(10, 2) AS price,
    'ünïcødé 中文 🚀 "q", ' || i AS text
  FROM range(5000) t(i)`;

function expected(i: number): Record<string, unknown> {
  return {
    id: i,
    name: i % 7 === 0 ? null : `name ${i % 10}`,
    score: i % 5 === 0 ? null : i * 1.5,
    flag: i % 3 === 0 ? null : i % 2 === 0,
    at: i % 11 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + i * 1001),
    small: i % 100,
    big: i * 9007199254,
    huge: i === 1 ? 9007199254740993n : 0,
    day: new Date(Date.UTC(2024, 1, 29) + (i % 3) * 86_400_000),
    price: i / 4,
    text: `ünïcødé 中文 🚀 "q", ${i}`,
  };
}

async function duckFile(name: string, options: string, sql = SOURCE): Promise<string> {
  const file = join(dir(), name);
  await (await db()).run(`COPY (${sql}) TO ${lit(file)} (${options})`);
  return file;
}

async function refused(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(collect(readParquetRows(file)), (err: unknown) => {
    assert.ok(err instanceof InvalidFileError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

describe('readParquetRows', () => {
  for (const codec of ['zstd', 'snappy', 'gzip', 'uncompressed']) {
    it(`reads a DuckDB file with ${codec} pages, dictionary encoding, nulls and several row groups`, async () => {
      const file = await duckFile(`duck-${codec}.parquet`, `FORMAT PARQUET, COMPRESSION ${codec}, ROW_GROUP_SIZE 1024`);
      const meta = await query(
        await db(),
        `SELECT count(DISTINCT row_group_id) AS groups, list(DISTINCT encodings) AS enc FROM parquet_metadata(${lit(file)})`,
      );
      assert.ok(Number(meta[0]?.groups) >= 2, `row groups: ${String(meta[0]?.groups)}`);
      assert.match(JSON.stringify(meta[0]?.enc), /DICTIONARY/);
      const rows = await collect(readParquetRows(file));
      assert.equal(rows.length, 5000);
      rows.forEach((r, i) => {
        assert.equal(r.line, i + 1);
        assert.deepEqual(r.row, expected(i), `row ${i}`);
      });
    });
  }

  it('reads one big row group (as pyarrow writes them), with v1 and v2 pages', async () => {
    for (const version of ['v1', 'v2']) {
      const file = await duckFile(
        `one-group-${version}.parquet`,
        `FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE 100000, PARQUET_VERSION ${version}`,
      );
      const meta = await query(await db(), `SELECT count(DISTINCT row_group_id) AS groups FROM parquet_metadata(${lit(file)})`);
      assert.equal(meta[0]?.groups, 1n);
      const rows = await collect(readParquetRows(file, { sliceRows: 700 }));
      assert.equal(rows.length, 5000);
      rows.forEach((r, i) => {
        assert.equal(r.line, i + 1);
        assert.deepEqual(r.row, expected(i), `${version} row ${i}`);
      });
    }
  });

  for (const codec of ['snappy', 'zstd']) {
    it(`reads a pyarrow (pandas) file with ${codec} pages: small pages, row groups, large strings, lists and structs`, async () => {
      const file = fileURLToPath(new URL(`../../../fixtures/formats/pyarrow-${codec}.parquet`, import.meta.url));
      const rows = await collect(readParquetRows(file, { sliceRows: 300 }));
      assert.equal(rows.length, 3000);
      rows.forEach((r, i) => {
        assert.equal(r.line, i + 1);
        assert.deepEqual(
          r.row,
          {
            id: i,
            name: i % 7 === 0 ? null : `name ${i % 10}`,
            score: i % 5 === 0 ? null : i * 1.5,
            flag: i % 3 === 0 ? null : i % 2 === 0,
            at: i % 11 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + i * 1001),
            day: new Date(Date.UTC(2024, 1, 29) + (i % 3) * 86_400_000),
            small: i % 100,
            text: `ünïcødé 中文 🚀 "q", ${i}`,
            tags: i % 4 === 0 ? null : `[${i},${i + 1}]`,
            meta: `{"k":"v${i % 3}","n":${i}}`,
          },
          `row ${i}`,
        );
      });
    });
  }

  it('gives nested columns (list, struct, map) as JSON text, as tableport writes arrays and objects', async () => {
    const file = await duckFile(
      'nested.parquet',
      'FORMAT PARQUET',
      `SELECT 1 AS id, [1, 2, NULL] AS list, {'a': 'x', 'b': [true]} AS obj, MAP {'k': 9007199254740993} AS m, NULL::INTEGER[] AS empty
       UNION ALL SELECT 2, [], {'a': NULL, 'b': []}, MAP {}, [3]`,
    );
    const rows = await collect(readParquetRows(file));
    assert.deepEqual(
      rows.map((r) => r.row),
      [
        { id: 1, list: '[1,2,null]', obj: '{"a":"x","b":[true]}', m: '{"k":"9007199254740993"}', empty: null },
        { id: 2, list: '[]', obj: '{"a":null,"b":[]}', m: '{}', empty: '[3]' },
      ],
    );
  });

  it('keys a MAP by its keys as text (bytes in base64, timestamps in ISO 8601, decimals as written), {} apart from null', async () => {
    const file = await duckFile(
      'map-keys.parquet',
      'FORMAT PARQUET',
      `SELECT 1 AS i, MAP {'\\xFF\\x01'::BLOB: 'x'} AS b, MAP {TIMESTAMP '2020-01-01 10:00:00': 1} AS t, MAP {1.25::DECIMAL(9,2): [1, 2]} AS d
       UNION ALL SELECT 2, MAP {}::MAP(BLOB, VARCHAR), NULL, MAP {}::MAP(DECIMAL(9,2), INTEGER[])`,
    );
    const rows = await collect(readParquetRows(file));
    assert.deepEqual(
      rows.map((r) => r.row),
      [
        { i: 1, b: '{"/wE=":"x"}', t: '{"2020-01-01T10:00:00.000Z":1}', d: '{"1.25":[1,2]}' },
        { i: 2, b: '{}', t: null, d: '{}' },
      ],
    );
  });

  it('gives a DECIMAL as the number it is, or as its digits when no double is that number, nested too', async () => {
    const file = await duckFile(
      'decimals.parquet',
      'FORMAT PARQUET',
      `SELECT 1.005::DECIMAL(5,3) AS a, 12345678901234567890.1234::DECIMAL(38,4) AS big,
         {'x': 0.3::DECIMAL(18,2), 'z': -9999999999999999.99::DECIMAL(18,2)} AS s, [1.1::DECIMAL(4,1), NULL] AS l`,
    );
    const rows = await collect(readParquetRows(file));
    assert.deepEqual(rows[0]?.row, {
      a: 1.005,
      big: '12345678901234567890.1234',
      s: '{"x":0.3,"z":"-9999999999999999.99"}',
      l: '[1.1,null]',
    });
  });

  it('reads the shapes pandas/pyarrow write: optional columns with no nulls, UTF-8 text, TIMESTAMP(us) and plain pages', async () => {
    const file = await duckFile(
      'arrowish.parquet',
      'FORMAT PARQUET, COMPRESSION snappy, PARQUET_VERSION v2',
      `SELECT i AS n, TIMESTAMP '2024-05-01 12:00:00.123456' + to_seconds(i) AS ts, 'x' || i AS s FROM range(3) t(i)`,
    );
    const rows = await collect(readParquetRows(file));
    assert.deepEqual(rows[2], { line: 3, row: { n: 2, ts: new Date('2024-05-01T12:00:02.123Z'), s: 'x2' } });
  });

  it('stops between row groups when the signal is aborted', async () => {
    const file = await duckFile('abort.parquet', 'FORMAT PARQUET, ROW_GROUP_SIZE 1024');
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const _r of readParquetRows(file, { signal: ac.signal })) {
          if (++seen === 10) ac.abort(new Error('stop here'));
        }
      })(),
      /stop here/,
    );
    assert.ok(seen < 5000, `read ${seen} rows`);
  });

  it('refuses a truncated file', async () => {
    const file = await duckFile('truncated.parquet', 'FORMAT PARQUET');
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size / 2));
    await refused(file, /The Parquet file is truncated or damaged: it does not end with "PAR1"/);
  });

  it('refuses a file with a damaged footer or damaged pages', async () => {
    const good = await duckFile('good.parquet', 'FORMAT PARQUET, COMPRESSION zstd');
    const bytes = await readFile(good);
    const footer = Buffer.from(bytes);
    footer.fill(0xff, footer.length - 60, footer.length - 8);
    await writeFile(join(dir(), 'footer.parquet'), footer);
    await refused(join(dir(), 'footer.parquet'), /The Parquet file could not be read; it may be damaged or truncated/);
    const pages = Buffer.from(bytes);
    pages.fill(0x00, 4, Math.floor(pages.length / 2));
    await writeFile(join(dir(), 'pages.parquet'), pages);
    await refused(join(dir(), 'pages.parquet'), /The Parquet file (could not be read|is damaged)/);
  });

  it('refuses what is not Parquet, and an empty file', async () => {
    await writeFile(join(dir(), 'rows.csv'), 'id,name\n1,a\n');
    await refused(join(dir(), 'rows.csv'), /The file is not a Parquet file: it does not start with "PAR1"/);
    await writeFile(join(dir(), 'empty.parquet'), '');
    await refused(join(dir(), 'empty.parquet'), /The file is empty/);
    await writeFile(join(dir(), 'short.parquet'), 'PAR1PAR1');
    await refused(join(dir(), 'short.parquet'), /truncated/);
  });

  it('isParquet checks the magic at the head, and at the tail when given', async () => {
    const file = await duckFile('magic.parquet', 'FORMAT PARQUET');
    await copyFile(file, join(dir(), 'copy.parquet'));
    const bytes = await readFile(file);
    assert.equal(isParquet(bytes.subarray(0, 64)), true);
    assert.equal(isParquet(bytes.subarray(0, 64), bytes.subarray(-16)), true);
    assert.equal(isParquet(bytes.subarray(0, 64), bytes.subarray(0, 16)), false);
    assert.equal(isParquet(Buffer.from('PK\x03\x04')), false);
    assert.equal(isParquet(Buffer.from('PAR')), false);
    assert.equal(isParquet(Buffer.from('id,name\n')), false);
  });
});
