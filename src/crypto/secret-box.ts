/**
 * Credentials at rest (in a job row, in a queue payload) are sealed with AES-256-GCM. The key is
 * derived with HKDF from CREDENTIALS_KEY (or the signing secret), so the raw secret is never used
 * as a cipher key and a second purpose can derive its own key from the same secret. The envelope
 * names its version, so a later key or cipher can be added while old envelopes still open.
 *
 *   tp1.<base64url(12-byte nonce | ciphertext | 16-byte tag)>
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'tp1';
const NONCE = 12;
const TAG = 16;

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export class SecretBox {
  private readonly key: Buffer;

  /** `secret`: the configured key material (at least 16 characters). */
  constructor(secret: string, purpose = 'tableport/credentials/v1') {
    if (secret.length < 16) throw new SecretBoxError('The credentials key must be at least 16 characters.');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), purpose, 32));
  }

  /**
   * Seals `value` (any JSON). `context` (e.g. the job id) is authenticated but not stored: an
   * envelope copied to another job does not open there.
   */
  seal(value: unknown, context = ''): string {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(`${VERSION}|${context}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Opens an envelope sealed with the same key and context; throws SecretBoxError otherwise. */
  open<T = unknown>(envelope: string, context = ''): T {
    const dot = envelope.indexOf('.');
    if (dot < 0 || envelope.slice(0, dot) !== VERSION) throw new SecretBoxError('Not a sealed value of a known version.');
    const raw = Buffer.from(envelope.slice(dot + 1), 'base64url');
    if (raw.length < NONCE + TAG) throw new SecretBoxError('The sealed value is truncated.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE));
    decipher.setAAD(Buffer.from(`${VERSION}|${context}`));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    let text: string;
    try {
      text = Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]).toString('utf8');
    } catch {
      // Wrong key, wrong context or tampered bytes: GCM cannot tell which, and neither do we.
      throw new SecretBoxError('The sealed value does not open with this key: it was altered, or sealed with another key.');
    }
    return JSON.parse(text) as T;
  }
}
