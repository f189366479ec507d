/**
 * The hostile-input fixes that are checked best without a server: a real ENOSPC mapped to 507,
 * the production secret check, the compose file, the depth scan, the migration race.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../src/config.js';
import { runMigrations } from '../../src/db/migrate.js';
import { InsufficientStorageError, InvalidUploadError } from '../../src/errors.js';
import { jsonDeeperThan } from '../../src/formats/json-depth.js';
import { uploadError } from '../../src/http/middleware/upload.middleware.js';
import { redactUrl } from '../../src/http/middleware/request-log.middleware.js';
import { createLogger } from '../../src/logger.js';
import { PG_ADMIN_URL, databaseUrlFor } from '../helpers/env.js';

describe('hostile inputs, unit level', () => {
  it('a real ENOSPC (a write to /dev/full) becomes 507 insufficient_storage', async () => {
    const err = await writeFile('/dev/full', 'x').then(
      () => assert.fail('/dev/full accepted a write'),
      (e: unknown) => e,
    );
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    const mapped = uploadError(err, 100);
    assert.ok(mapped instanceof InsufficientStorageError);
    assert.equal(mapped.status, 507);
    assert.equal(mapped.code, 'insufficient_storage');
  });

  it("busboy's complaints about a broken body become 400 invalid_upload", () => {
    for (const m of ['Unexpected end of form', 'Malformed part header', 'Multipart: Boundary not found']) {
      const mapped = uploadError(new Error(m), 100);
      assert.ok(mapped instanceof InvalidUploadError, m);
    }
  });

  it('NODE_ENV=production refuses the compose sample or a weak SIGNING_SECRET, and accepts a strong one', () => {
    const base = { DATA_DIR: '/tmp/tableport-unused', NODE_ENV: 'production' };
    for (const weak of ['change-me-to-a-long-random-string', 'short-but-16-chars', 'a'.repeat(40)]) {
      assert.throws(
        () => loadConfig({ ...base, SIGNING_SECRET: weak }),
        (e: unknown) => e instanceof ConfigError && /SIGNING_SECRET/.test(e.message),
      );
    }
    assert.equal(loadConfig({ ...base, SIGNING_SECRET: randomBytes(32).toString('base64') }).production, true);
    // Outside production the sample still works, so `docker compose up` on a laptop is one command.
    assert.equal(loadConfig({ DATA_DIR: base.DATA_DIR, SIGNING_SECRET: 'change-me-to-a-long-random-string' }).production, false);
  });

  it('compose requires SIGNING_SECRET from the environment instead of shipping one', () => {
    const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
    assert.match(compose, /SIGNING_SECRET: \$\{SIGNING_SECRET:\?/);
    assert.doesNotMatch(compose, /SIGNING_SECRET:-/);
  });

  it('the depth scan skips strings and stops at the limit', () => {
    assert.equal(jsonDeeperThan('[[["[[[[[[["]]]', 3), false);
    assert.equal(jsonDeeperThan('[[[[', 3), true);
    assert.equal(jsonDeeperThan(Buffer.from('{"a":"\\"[[[[[[","b":[{}]}'), 3), false);
    assert.equal(jsonDeeperThan('['.repeat(100_000), 64), true);
  });

  it('the signature and tokens are cut from logged URLs', () => {
    assert.equal(
      redactUrl('/oserve/v1/files/j/f.csv?expires=1&signature=abc123'),
      '/oserve/v1/files/j/f.csv?expires=1&signature=[REDACTED]',
    );
    assert.equal(redactUrl('/x?token=t&a=1'), '/x?token=[REDACTED]&a=1');
  });

  it('several processes starting at once on an empty cluster all create-or-find the database and migrate', async () => {
    const logger = createLogger('silent');
    for (let round = 0; round < 3; round++) {
      const name = `tableport_race_${randomBytes(4).toString('hex')}`;
      try {
        const results = await Promise.allSettled(Array.from({ length: 4 }, () => runMigrations(databaseUrlFor(name), logger)));
        const failed = results.filter((r) => r.status === 'rejected');
        assert.equal(failed.length, 0, failed.map((r) => String((r as PromiseRejectedResult).reason)).join('; '));
      } finally {
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    }
  });
});
