/**
 * Property: a schema inferred from a file takes that file. For hundreds of generated files (CSV,
 * JSON, NDJSON, xlsx; mixed columns, nulls, empty strings, dates, nested JSON), the inferred type
 * of each column is the one a person expects from its values, and the import's own pipeline,
 * with that schema, refuses no row.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { inferSchema, openImportInput, sampleFile, sniffForInference } from '../../../src/formats/index.js';
import { expectedType, generateTable, prng, renderTable, type GenFormat } from '../../helpers/generated-tables.js';
import { defaults } from './helpers.js';

// xlsx files are zipped and slower to read: fewer of them.
const FILES = { csv: 150, json: 150, ndjson: 150, xlsx: 50 } as const;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tableport-infer-prop-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('schema inference then import, over generated files', () => {
  for (const format of ['csv', 'json', 'ndjson', 'xlsx'] as const satisfies readonly GenFormat[]) {
    it(`${format}: ${FILES[format]} files; each column gets the expected type and every row imports`, async () => {
      for (let seed = 1; seed <= FILES[format]; seed++) {
        const rnd = prng(seed * 7919 + format.length);
        const table = generateTable(rnd, format);
        const path = join(dir, `${format}-${seed}`);
        await writeFile(path, await renderTable(table, format));
        const what = `${format} seed ${seed}`;

        const head = await sniffForInference(path, {});
        assert.equal(head.format, format, what);
        const sample = await sampleFile(path, head.format, false, { csvDelimiter: head.csvDelimiter ?? ',' });
        const fields = inferSchema(sample);
        const types = new Map(fields.map((f) => [f.name, f.type]));
        table.columns.forEach((c, i) => {
          // A JSON key that is null or missing in every row is not in the file's columns at all.
          if (!types.has(c.name) && format !== 'csv' && format !== 'xlsx') return;
          assert.equal(types.get(c.name), expectedType(table, i), `${what}, column ${c.name}`);
        });

        const input = await openImportInput(async () => createReadStream(path) as Readable, {
          fileType: head.format,
          gzip: false,
          maxInflatedBytes: Number.MAX_SAFE_INTEGER,
          encoder: { fields, defaults: defaults(), maxRows: 1000, csvDelimiter: head.csvDelimiter ?? ',' },
        });
        try {
          await pipeline([...input.stages, new Writable({ write: (_c, _e, cb) => cb() })] as unknown as [Readable, Writable]);
        } finally {
          await input.cleanup();
        }
        assert.deepEqual(input.encoder.errors, [], `${what}: ${JSON.stringify(fields)}`);
        assert.equal(input.encoder.rows, table.rows.length, what);
      }
    });
  }
});
