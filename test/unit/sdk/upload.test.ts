import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { FileTooLargeError, InvalidArgumentError, TablePort } from '../../../src/sdk/index.js';
import { sendJson, startStub, type Stub } from './stub-server.js';
import { defined } from '../../helpers/defined.js';

interface Part {
  headers: string;
  bytes: number;
  sha256: string;
}

/** Reads a one-part multipart body as it arrives, keeping only a hash of the file part. */
async function readPart(req: IncomingMessage): Promise<Part> {
  const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1];
  assert.ok(boundary, `no boundary in ${req.headers['content-type']}`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let headers: string | undefined;
  let held = Buffer.alloc(0);
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    let data = chunk;
    if (headers === undefined) {
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) continue;
      headers = head.subarray(0, end).toString();
      data = head.subarray(end + 4);
    }
    // Hold back as many bytes as the closing boundary has; everything before them is file data.
    held = Buffer.concat([held, data]);
    const ready = held.length - tail.length;
    if (ready > 0) {
      hash.update(held.subarray(0, ready));
      bytes += ready;
      held = held.subarray(ready);
    }
  }
  assert.deepEqual(held, tail);
  return { headers: headers ?? '', bytes, sha256: hash.digest('hex') };
}

describe('import() when the server refuses early', () => {
  it('reports the 413 the server sent before the body was all read', async () => {
    const early = await startStub((req, res) => {
      sendJson(res, 413, { error_code: 'file_too_large', error_msg: 'The file is larger than 1 MB.' }, { connection: 'close' });
      req.socket.end();
    });
    try {
      const big = Readable.from(
        (function* () {
          for (let i = 0; i < 800; i++) yield Buffer.alloc(64 * 1024, 97);
        })(),
      );
      const err = await new TablePort({ baseUrl: early.baseUrl, token: 't' })
        .table(2)
        .import(big, { filename: 'big.csv' })
        .catch((e: unknown) => e);
      assert.ok(err instanceof FileTooLargeError, String(err));
      assert.equal(err.status, 413);
    } finally {
      await early.close();
    }
  });
});

describe('import() uploads multipart/form-data, streamed', () => {
  let stub: Stub;
  let lastPart: Part;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tp-upload-'));
    stub = await startStub(async (req, res) => {
      lastPart = await readPart(req);
      sendJson(res, 201, { status: 'ok', job_id: `job-${lastPart.bytes}` });
    });
  });
  after(async () => {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const tp = () => new TablePort({ baseUrl: stub.baseUrl, token: 't' });
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  it('sends a Buffer as the field "file" with its name and a CSV content type', async () => {
    const job = await tp().table(2).import(Buffer.from('title\nhello\n'), { filename: 'a "b".csv' });
    assert.equal(job.id, 'job-12');
    assert.match(lastPart.headers, /Content-Disposition: form-data; name="file"; filename="a %22b%22.csv"/i);
    assert.match(lastPart.headers, /Content-Type: text\/csv/i);
    assert.equal(lastPart.sha256, sha('title\nhello\n'));
    assert.equal(stub.requests.at(-1)?.url, '/oserve/v1/table/2/import/');
  });

  it('sends a Node stream (any chunking) byte for byte, named by option', async () => {
    const text = `[${Array.from({ length: 1000 }, (_, i) => JSON.stringify({ n: i })).join(',')}]`;
    await tp()
      .table(2)
      .import(Readable.from([text.slice(0, 7), text.slice(7, 5000), text.slice(5000)]), { filename: 'rows.json' });
    assert.match(lastPart.headers, /filename="rows.json"/);
    assert.match(lastPart.headers, /Content-Type: application\/json/i);
    assert.equal(lastPart.bytes, Buffer.byteLength(text));
    assert.equal(lastPart.sha256, sha(text));
  });

  it('goes through a caller-supplied fetch as a streamed body', async () => {
    let used = 0;
    const own = new TablePort({
      baseUrl: stub.baseUrl,
      token: 't',
      fetch: (input, init) => {
        used++;
        return fetch(input, init);
      },
    });
    await own.table(2).import(Buffer.from('title\nvia fetch\n'), { filename: 'x.csv' });
    assert.equal(used, 1);
    assert.equal(lastPart.sha256, sha('title\nvia fetch\n'));
  });

  it('needs a filename for a stream that has no path', async () => {
    await assert.rejects(
      tp()
        .table(2)
        .import(Readable.from(['x'])),
      InvalidArgumentError,
    );
  });

  it('a missing path is refused before anything is sent', async () => {
    const before = stub.requests.length;
    await assert.rejects(tp().table(2).import(join(dir, 'nope.csv')), /no such file/);
    assert.equal(stub.requests.length, before);
  });

  it('a ~96 MB file goes up from a path and from a read stream without being held in memory', { timeout: 120_000 }, async (t) => {
    const path = join(dir, 'big.csv');
    const line = `title,amount,note\nsome title,12345,${'x'.repeat(80)}\n`;
    const count = Math.ceil((96 * 1024 * 1024) / line.length);
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < count; i += 1000) yield line.repeat(Math.min(1000, count - i));
        })(),
      ),
      createWriteStream(path),
    );
    const size = line.length * count;
    const fileHash = await new Promise<string>((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path)
        .on('data', (c) => h.update(c))
        .on('end', () => resolve(h.digest('hex')))
        .on('error', reject);
    });
    const child = fileURLToPath(new URL('../../fixtures/sdk/upload-child.ts', import.meta.url));
    for (const mode of (process.env.UPLOAD_MODES ?? 'path,stream').split(',')) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, stub.baseUrl, 't', '2', path, mode]);
      const report = JSON.parse(stdout) as { jobId: string; baseRss: number; peakRss: number };
      assert.equal(lastPart.bytes, size, mode);
      assert.equal(lastPart.sha256, fileHash, mode);
      assert.match(lastPart.headers, /filename="big.csv"/);
      const sent = defined(stub.requests.at(-1), 'stub.requests.at(-1)').headers;
      // A path's size is known, so the body has a length; a stream's is not, so it goes chunked.
      if (mode === 'path') assert.ok(Number(sent['content-length']) > size, String(sent['content-length']));
      else assert.equal(sent['transfer-encoding'], 'chunked');
      const grewMb = (report.peakRss - report.baseRss) / 1024 / 1024;
      // Buffering would grow the process by at least the file's 96 MB.
      assert.ok(grewMb < 48, `${mode}: the client grew by ${grewMb.toFixed(0)} MB uploading 96 MB`);
      t.diagnostic(`${mode}: the client grew by ${grewMb.toFixed(0)} MB uploading ${(size / 1048576).toFixed(0)} MB`);
    }
  });
});
