import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseSourceImport } from '../../../src/contracts/imports.js';
import { FileTooLargeError, InvalidParameterError, LocationNotFoundError } from '../../../src/errors.js';
import { SealedSecrets } from '../../../src/crypto/sealed-secrets.js';
import { TaskLocations } from '../../../src/locations/task-locations.js';
import { OutboundGuard } from '../../../src/net/outbound-guard.js';
import { locationsConfig } from '../../integration/locations/helpers.js';

describe('TaskLocations: what a task keeps of a location, and the worker side', () => {
  let root: string;
  let locations: TaskLocations;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-task-loc-'));
    await mkdir(join(root, 'out'));
    await mkdir(join(root, 'in', 'sub'), { recursive: true });
    // No DNS in tests: this resolver answers with a public address.
    const guard = new OutboundGuard({ resolver: async () => [{ address: '93.184.215.14', family: 4 }] });
    locations = new TaskLocations(
      { config: locationsConfig({ exportDir: join(root, 'out'), importDir: join(root, 'in') }), guard },
      new SealedSecrets('a-credentials-key-of-some-length'),
    );
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('the sealed envelope holds the connection, opens only for its own job, and href holds no secret', async () => {
    const loc = await locations.prepare(
      's3://bucket/path/',
      { secret_key: 'SEKRIT', access_key_id: 'AK', region: 'eu-west-1' },
      'write',
      'job-1',
      'orders.csv',
    );
    assert.equal(loc.href, 's3://bucket/path/orders.csv');
    assert.match(loc.sealed, /^tp1\./);
    assert.ok(!loc.sealed.includes('SEKRIT') && !Buffer.from(loc.sealed.slice(4), 'base64url').toString('latin1').includes('SEKRIT'));
    // Copied into another job's row, the envelope does not open: the write fails before any request.
    await assert.rejects(
      locations.write(loc.sealed, 'job-2', 'orders.csv', 'csv', Readable.from(['x'])),
      (e: unknown) => e instanceof InvalidParameterError && /could not be decrypted/.test(e.message),
    );
    const presigned = await locations.prepare('https://example.com/a.csv?X-Amz-Signature=abc', undefined, 'read', 'job-3');
    assert.equal(presigned.href, 'https://example.com/a.csv');
  });

  test('write() puts the file at its generated name; fetch() reads a folder in name order and caps bytes', async () => {
    const out = await locations.prepare(`file://${root}/out/`, undefined, 'write', 'j', 'x.csv');
    assert.deepEqual(await locations.write(out.sealed, 'j', 'x.csv', 'csv', Readable.from(['a,b\n'])), {
      url: `file://${root}/out/x.csv`,
      size: 4,
    });
    assert.equal(await readFile(join(root, 'out', 'x.csv'), 'utf8'), 'a,b\n');

    await writeFile(join(root, 'in', 'b.csv'), 'bb');
    await writeFile(join(root, 'in', 'a.csv'), 'a');
    await writeFile(join(root, 'in', 'sub', 'c.csv'), 'ccc');
    const src = await locations.prepare(`file://${root}/in/`, undefined, 'read', 'k');
    const dir = join(root, 'fetched');
    const files = await locations.fetch(src.sealed, 'k', dir, 100);
    assert.deepEqual(
      files.map((f) => [f.name, f.size]),
      [
        ['a.csv', 1],
        ['b.csv', 2],
        ['sub/c.csv', 3],
      ],
    );
    assert.equal(await readFile(files[2]?.path ?? '', 'utf8'), 'ccc');
    await assert.rejects(locations.fetch(src.sealed, 'k', join(root, 'capped'), 5), FileTooLargeError);
    await assert.rejects(readFile(join(root, 'capped', 'x')), { code: 'ENOENT' }, 'a failed fetch leaves nothing');
  });

  test('the request path refuses what the worker would: a missing file, a path outside the folder', async () => {
    await assert.rejects(locations.prepare(`file://${root}/in/none.csv`, undefined, 'read', 'm'), LocationNotFoundError);
    await assert.rejects(locations.prepare(`file://${root}/out/../in/a.csv`, undefined, 'write', 'm', 'y.csv'), InvalidParameterError);
    // A source that is not even a string is refused where the request is parsed, naming it.
    assert.throws(
      () => parseSourceImport({ source: 42 }),
      (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'source',
    );
  });
});
