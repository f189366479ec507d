/**
 * The location layer's throughput and memory: streams a file the size of a 1M-row CSV export
 * (≈100 MB) to S3 (s3rver, in its own process on a free loopback port) as a multipart upload and
 * reads it back, printing time, MB/s and this process's peak RSS. The point is that memory stays
 * flat (about part size × (queue size + 1)) whatever the object's size.
 *
 *   node --import tsx bench/locations.ts [--rows 1000000] [--part-mb 5]
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createLocationContext, resolveLocation, writeTarget } from '../src/locations/index.js';
import type { S3LocationDriver } from '../src/locations/s3.driver.js';
import { freePort } from '../test/helpers/ports.js';
import { startS3rver } from '../test/integration/locations/servers.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, 'part-mb': { type: 'string', default: '5' } } });
const ROWS = Number(values.rows);
const PART = Number(values['part-mb']) * 1024 * 1024;
const PORT = await freePort();

/** CSV rows like an export's: id, created_at, updated_at, created_by, title, price, tags (≈100 bytes). */
function rows(n: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i >= n) return void this.push(null);
      const lines: string[] = [];
      for (const end = Math.min(n, i + 2000); i < end; i++) {
        lines.push(
          `${(1e15 + i).toString(36)},${1700000000 + i},${1700000000 + i},u1,Order number ${i} for a customer,${(i % 9973) / 7},"[""a"",""b""]"\n`,
        );
      }
      this.push(lines.join(''));
    },
  });
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

const server = await startS3rver(PORT, ['bench']);
try {
  const ctx = {
    ...createLocationContext({
      exportDir: undefined,
      importDir: undefined,
      outboundAllowHosts: [`127.0.0.1:${PORT}`],
      outboundTimeoutMs: 60_000,
      outboundMaxDurationMs: 3_600_000,
      outboundMaxBytes: 10 * 1024 ** 3,
      credentialsKey: 'bench-credentials-key-0123456789',
      aws: {},
      gcs: {},
      azure: {},
    }),
    s3: { partSize: PART },
  };
  const connection = { endpoint_url: server.url, access_key_id: 'S3RVER', secret_key: 'S3RVER', region: 'us-east-1' };
  const rssBefore = process.memoryUsage().rss;

  const up = resolveLocation('s3://bench/exports/', connection, ctx, 'write');
  const target = writeTarget(up.location, 'orders.csv');
  const sent = createHash('sha256');
  const t0 = performance.now();
  const w = up.driver.openWrite(target, { contentType: 'text/csv' });
  const source = rows(ROWS);
  source.on('data', (c: Buffer) => sent.update(c));
  await pipeline(source, w.stream);
  const { size } = await w.done;
  const t1 = performance.now();

  const down = resolveLocation(target.href, connection, ctx, 'read');
  const r = await down.driver.openRead(down.location);
  const got = createHash('sha256');
  let read = 0;
  for await (const c of r.stream) {
    got.update(c as Buffer);
    read += (c as Buffer).length;
  }
  const t2 = performance.now();
  const equal = sent.digest('hex') === got.digest('hex') && read === size;

  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(`rows: ${ROWS}  object: ${mb(size)} MB  part size: ${mb(PART)} MB  parts: ${(up.driver as S3LocationDriver).partsUploaded}`);
  console.log(`upload:   ${((t1 - t0) / 1000).toFixed(2)} s  ${(size / 1024 / 1024 / ((t1 - t0) / 1000)).toFixed(1)} MB/s`);
  console.log(`download: ${((t2 - t1) / 1000).toFixed(2)} s  ${(read / 1024 / 1024 / ((t2 - t1) / 1000)).toFixed(1)} MB/s`);
  console.log(`peak RSS: ${mb(peakRss)} MB (at start ${mb(rssBefore)} MB)  byte-equal: ${equal}`);
  up.driver.close();
  down.driver.close();
  if (!equal) process.exitCode = 1;
} finally {
  await server.close();
}
