/**
 * The import pipeline's own bounds: a gzip-compressed file may inflate to at most
 * `maxInflatedBytes` (UPLOAD_MAX_BYTES), checked while it inflates, whether it is read as it
 * streams (CSV) or copied to a temp file first (Parquet, xlsx).
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { InvalidFileError } from '../../../src/errors.js';
import { openImportInput, type ImportInputOptions } from '../../../src/formats/index.js';
import { gzipOf, repeated } from '../../helpers/hostile-files.js';
import { defaults, FIELDS } from './helpers.js';

const MB = 1024 * 1024;

function options(
  fileType: ImportInputOptions['fileType'],
  gzip: boolean,
  maxInflatedBytes: number,
  signal?: AbortSignal,
): ImportInputOptions {
  return {
    fileType,
    gzip,
    maxInflatedBytes,
    ...(signal ? { signal } : {}),
    encoder: { fields: FIELDS, defaults: defaults(), maxRows: 1_000_000 },
  };
}

async function run(bytes: Buffer, opts: ImportInputOptions): Promise<void> {
  const input = await openImportInput(async () => Readable.from([bytes]), opts);
  try {
    await pipeline([...input.stages, new Writable({ write: (_c, _e, cb) => cb() })] as unknown as [Readable, Writable]);
  } finally {
    await input.cleanup();
  }
}

async function tempImportDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((d) => d.startsWith('tableport-import-'));
}

describe('import pipeline bounds', () => {
  it('refuses a gzip CSV once it inflates past the limit, while it streams', async () => {
    // 32 KB that inflate to 32 MB of blank lines: read as they stream, they hold no memory, but take time.
    const bomb = await gzipOf(repeated(32 * MB, 0x0a, 'title\n'));
    assert.ok(bomb.length < 64 * 1024);
    await assert.rejects(run(bomb, options('csv', true, 8 * MB)), (err: unknown) => {
      assert.ok(err instanceof InvalidFileError, String(err));
      assert.match(err.message, /gzip-compressed and inflates to more than 8388608 bytes, the limit for one file \(UPLOAD_MAX_BYTES\)/);
      return true;
    });
    // under the limit, the same file is read
    await run(bomb, options('csv', true, 64 * MB));
  });

  it('refuses a gzip Parquet or xlsx once it inflates past the limit, before the temp copy outgrows it', async () => {
    const before = await tempImportDirs();
    const bomb = await gzipOf(repeated(64 * MB, 0));
    for (const fileType of ['parquet', 'xlsx'] as const) {
      await assert.rejects(
        openImportInput(async () => Readable.from([bomb]), options(fileType, true, 4 * MB)),
        (err: unknown) => {
          assert.ok(err instanceof InvalidFileError, String(err));
          assert.match(err.message, /inflates to more than 4194304 bytes/);
          return true;
        },
      );
    }
    assert.deepEqual(await tempImportDirs(), before, 'the temp copies are gone');
  });
});
