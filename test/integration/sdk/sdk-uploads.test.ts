/** Uploads against a real server: a ~200 MB streamed import, and the server's size limit. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { FileTooLargeError, TablePort } from '../../../src/sdk/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CHILD = fileURLToPath(new URL('../../fixtures/sdk/upload-child.ts', import.meta.url));

describe('SDK uploads against a real server', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-sdk-up-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('a ~200 MB CSV', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(() => server.close());

    test('is streamed by the SDK (the client process stays small) and every row is imported', { timeout: 600_000 }, async (t) => {
      const { token } = await server.createUser();
      const tp = new TablePort({ baseUrl: server.baseUrl, token });
      const table = await tp.createTable({
        name: 'big',
        schema: {
          fields: [
            { name: 'n', type: 'integer' },
            { name: 'body', type: 'string' },
          ],
        },
      });
      const path = join(dir, 'big.csv');
      const ROWS = 20_000;
      const filler = 'x'.repeat(10_000);
      await pipeline(
        Readable.from(
          (function* () {
            yield 'n,body\n';
            for (let i = 0; i < ROWS; i++) yield `${i},${filler}\n`;
          })(),
        ),
        createWriteStream(path),
      );
      const size = (await stat(path)).size;
      assert.ok(size > 190 * 1024 * 1024, `${size}`);

      const { stdout } = await promisify(execFile)(process.execPath, [
        '--import',
        'tsx',
        CHILD,
        server.baseUrl,
        token,
        String(table.id),
        path,
        'stream',
      ]);
      const report = JSON.parse(stdout) as { jobId: string; baseRss: number; peakRss: number };
      const grewMb = (report.peakRss - report.baseRss) / 1024 / 1024;
      t.diagnostic(`the uploading process grew by ${grewMb.toFixed(0)} MB for ${(size / 1048576).toFixed(0)} MB`);
      assert.ok(grewMb < 80, `the uploading process grew by ${grewMb.toFixed(0)} MB: the file was buffered`);

      const done = await tp.job(report.jobId).wait({ timeoutMs: 540_000 });
      assert.equal(done.rows, ROWS);
      const after = await tp.getTable(table.id);
      assert.equal(after.row_count, ROWS);
      const first = await tp.table(table.id).listRows({ limit: 1 });
      assert.equal(first.objects[0]?.body, filler);
    });
  });

  describe('over UPLOAD_MAX_BYTES', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ env: { UPLOAD_MAX_BYTES: '100000' } });
    });
    after(() => server.close());

    test('is FileTooLargeError (413), from a path and from a stream', async () => {
      const { token } = await server.createUser();
      const tp = new TablePort({ baseUrl: server.baseUrl, token });
      const table = await tp.createTable({ name: 'small', schema: { fields: [{ name: 'body', type: 'string' }] } });
      const path = join(dir, 'over.csv');
      await pipeline(
        Readable.from(
          (function* () {
            yield 'body\n';
            for (let i = 0; i < 2000; i++) yield `${'y'.repeat(1000)}\n`;
          })(),
        ),
        createWriteStream(path),
      );
      const err = await tp
        .table(table.id)
        .import(path)
        .catch((e: unknown) => e);
      assert.ok(err instanceof FileTooLargeError, String(err));
      assert.equal(err.status, 413);
      assert.equal(err.errorCode, 'file_too_large');
      const { createReadStream } = await import('node:fs');
      const err2 = await tp
        .table(table.id)
        .import(createReadStream(path))
        .catch((e: unknown) => e);
      assert.ok(err2 instanceof FileTooLargeError, String(err2));
      assert.equal((await tp.getTable(table.id)).row_count, 0);
    });
  });
});
