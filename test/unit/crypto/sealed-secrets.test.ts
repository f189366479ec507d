/**
 * The one sealer of credentials at rest opens what the three sealers before it stored (task and
 * bundle locations, webhook secrets), so rows written before it keep working.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SealedSecrets } from '../../../src/crypto/sealed-secrets.js';
import { SecretBox, SecretBoxError } from '../../../src/crypto/secret-box.js';
import { InvalidParameterError } from '../../../src/errors.js';

const KEY = 'a-credentials-key-of-some-length';
const location = { url: 's3://bucket/path/', connection: { access_key_id: 'AK', secret_key: 'SEKRIT' } };

describe('SealedSecrets', () => {
  const secrets = new SealedSecrets(KEY);

  test("a location sealed the old way (TaskLocations' and bundle imports' own SecretBox) opens, and back", () => {
    const old = new SecretBox(KEY).seal(location, 'job-1');
    assert.deepEqual(secrets.openLocation(old, 'job-1'), location);
    assert.deepEqual(new SecretBox(KEY).open(secrets.sealLocation(location, 'job-1'), 'job-1'), location);
  });

  test('a webhook secret sealed the old way (its own purpose) opens, and back', () => {
    const old = new SecretBox(KEY, 'tableport/webhook-secrets/v1').seal('whsec', 'hook-1');
    assert.equal(secrets.openWebhookSecret(old, 'hook-1'), 'whsec');
    assert.equal(new SecretBox(KEY, 'tableport/webhook-secrets/v1').open(secrets.sealWebhookSecret('whsec', 'hook-1'), 'hook-1'), 'whsec');
  });

  test('an envelope opens only for its row and its purpose; a changed key is a 400 naming the connection', () => {
    const sealed = secrets.sealLocation(location, 'job-1');
    assert.throws(() => secrets.openLocation(sealed, 'job-2'), InvalidParameterError);
    assert.throws(() => secrets.openWebhookSecret(sealed, 'job-1'), SecretBoxError);
    const err = (() => {
      try {
        new SealedSecrets('another-key-of-enough-length').openLocation(sealed, 'job-1');
      } catch (e) {
        return e as InvalidParameterError;
      }
    })();
    assert.ok(err instanceof InvalidParameterError);
    assert.match(err.message, /CREDENTIALS_KEY changed/);
  });

  test('a key too short refuses what needs it, not its construction', () => {
    const weak = new SealedSecrets('short');
    assert.throws(() => weak.sealWebhookSecret('x', 'hook-1'), SecretBoxError);
  });
});
