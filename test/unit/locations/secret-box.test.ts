import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SecretBox, SecretBoxError } from '../../../src/crypto/secret-box.js';
import { CONNECTION_LOG_REDACT_PATHS, REDACTED, redactConnection } from '../../../src/crypto/redact-connection.js';

const connection = {
  region: 'eu-west-1',
  access_key_id: 'AKIAEXAMPLEKEYID1234',
  secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  token: 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN',
  endpoint_url: 'http://user:hunter2hunter2@127.0.0.1:4570',
};
const secrets = ['AKIAEXAMPLEKEYID1234', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN', 'hunter2hunter2'];

describe('SecretBox', () => {
  const box = new SecretBox('a-signing-secret-of-enough-length');

  test('a sealed value opens to the same value', () => {
    const sealed = box.seal(connection, 'job-1');
    assert.match(sealed, /^tp1\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(box.open(sealed, 'job-1'), connection);
  });

  test('the envelope holds no plaintext, in any common encoding', () => {
    const sealed = box.seal(connection, 'job-1');
    const decoded = Buffer.from(sealed.slice(4), 'base64url');
    for (const s of [...secrets, 'secret_key', 'eu-west-1']) {
      assert.ok(!sealed.includes(s), s);
      assert.ok(!decoded.includes(Buffer.from(s)), s);
      assert.ok(!sealed.includes(Buffer.from(s).toString('base64url').slice(0, 12)), s);
    }
  });

  test('two seals of one value differ (a fresh nonce each time)', () => {
    assert.notEqual(box.seal(connection), box.seal(connection));
  });

  test('a changed byte, a cut envelope, another key, another context or version all fail', () => {
    const sealed = box.seal(connection, 'job-1');
    const raw = Buffer.from(sealed.slice(4), 'base64url');
    for (const i of [0, 12, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] = (bad[i] ?? 0) ^ 1;
      assert.throws(() => box.open(`tp1.${bad.toString('base64url')}`, 'job-1'), SecretBoxError, `byte ${i}`);
    }
    assert.throws(() => box.open(sealed.slice(0, 20), 'job-1'), SecretBoxError);
    assert.throws(() => box.open(sealed, 'job-2'), SecretBoxError);
    assert.throws(() => new SecretBox('another-secret-of-enough-length').open(sealed, 'job-1'), SecretBoxError);
    assert.throws(() => box.open(`tp9.${sealed.slice(4)}`, 'job-1'), SecretBoxError);
    assert.throws(() => box.open('not an envelope'), SecretBoxError);
  });

  test('a key derived for another purpose does not open it', () => {
    const other = new SecretBox('a-signing-secret-of-enough-length', 'tableport/webhooks/v1');
    assert.throws(() => other.open(box.seal('x')), SecretBoxError);
  });

  test('a short key is refused', () => {
    assert.throws(() => new SecretBox('short'), SecretBoxError);
  });
});

describe('redactConnection', () => {
  test('keeps only harmless options, strips user info from endpoints, hides everything else', () => {
    const shown = redactConnection({ ...connection, surprise_option: 'x' });
    assert.deepEqual(shown, {
      region: 'eu-west-1',
      access_key_id: REDACTED,
      secret_key: REDACTED,
      token: REDACTED,
      endpoint_url: 'http://127.0.0.1:4570/',
      surprise_option: REDACTED,
    });
    const text = JSON.stringify(shown);
    for (const s of secrets) assert.ok(!text.includes(s), s);
  });

  test('not an object: nothing to show', () => {
    assert.equal(redactConnection('secret'), undefined);
    assert.equal(redactConnection(null), undefined);
  });

  test('pino with the redact paths prints no secret of a logged connection', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, done) {
        lines.push(c.toString());
        done();
      },
    });
    const log = pino({ redact: CONNECTION_LOG_REDACT_PATHS }, sink);
    log.info({ connection }, 'a');
    log.info({ job: { connection } }, 'b');
    log.info({ body: { source: 's3://b/k', connection } }, 'c');
    log.info({ creds: { secret_key: connection.secret_key, token: connection.token } }, 'd');
    const text = lines.join('');
    assert.equal(lines.length, 4);
    for (const s of secrets) assert.ok(!text.includes(s), `${s} in ${text}`);
  });

  test("the service's logger censors a logged connection", () => {
    const logger = fileURLToPath(new URL('../../../src/logger.ts', import.meta.url));
    const script = `import { createLogger } from ${JSON.stringify(logger)};
      const log = createLogger('info');
      log.info({ connection: ${JSON.stringify(connection)} }, 'a');
      log.info({ job: { id: 1, connection: { secret_key: 'x-${connection.secret_key}' } } }, 'b');`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.trim().split('\n').length, 2, out);
    for (const s of secrets) assert.ok(!out.includes(s), `${s} in ${out}`);
    assert.match(out, /\[redacted\]/);
  });
});
