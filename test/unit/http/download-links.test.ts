import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createDownloadLink,
  downloadUrl,
  signDownloadPath,
  verifyDownload,
  type DownloadRequest,
} from '../../../src/http/download-links.js';
import { defined } from '../../helpers/defined.js';

const SECRET = 'a-test-secret-of-enough-length';
const NOW = new Date('2026-03-01T12:00:00Z');
const nowS = NOW.getTime() / 1000;

/** Reads a signed path back the way the route would: decoded path parts and raw query values. */
function parse(path: string): DownloadRequest {
  const url = new URL(path, 'http://x');
  const m = /^\/oserve\/v1\/files\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  assert.ok(m, `unexpected path ${url.pathname}`);
  return {
    jobId: decodeURIComponent(defined(m[1], 'm[1]')),
    fileName: decodeURIComponent(defined(m[2], 'm[2]')),
    expires: url.searchParams.get('expires'),
    signature: url.searchParams.get('signature'),
  };
}

describe('signed download links', () => {
  const link = { jobId: 'job_42', fileName: 'orders 2026/03 "é".csv', expiresAt: nowS + 3600 };
  const path = signDownloadPath(link, SECRET);
  const good = parse(path);

  test('the path has the documented shape and encodes the file name', () => {
    assert.match(path, /^\/oserve\/v1\/files\/job_42\/orders%202026%2F03%20%22%C3%A9%22\.csv\?expires=\d+&signature=[A-Za-z0-9_-]{43}$/);
    assert.equal(good.fileName, link.fileName);
    assert.equal(good.expires, String(link.expiresAt));
  });

  test('a good link verifies until it expires', () => {
    assert.deepEqual(verifyDownload(good, SECRET, NOW), { ok: true, expiresAt: link.expiresAt });
    assert.deepEqual(verifyDownload({ ...good, expires: link.expiresAt }, SECRET, NOW), { ok: true, expiresAt: link.expiresAt });
    assert.equal(verifyDownload(good, SECRET, new Date((link.expiresAt - 1) * 1000)).ok, true);
  });

  test('a link past its expiry is link_expired', () => {
    assert.deepEqual(verifyDownload(good, SECRET, new Date(link.expiresAt * 1000)), { ok: false, code: 'link_expired' });
    const old = parse(signDownloadPath({ ...link, expiresAt: nowS - 1 }, SECRET));
    assert.deepEqual(verifyDownload(old, SECRET, NOW), { ok: false, code: 'link_expired' });
  });

  test('tampering with any part is invalid_signature', () => {
    const tampered: Array<[string, DownloadRequest]> = [
      ['job id', { ...good, jobId: 'job_43' }],
      ['file name', { ...good, fileName: 'orders.json' }],
      ['expiry extended', { ...good, expires: String(link.expiresAt + 86400) }],
      ['expiry shortened', { ...good, expires: String(link.expiresAt - 1) }],
      ['expiry respelled', { ...good, expires: `0${link.expiresAt}` }],
      ['signature, first character', { ...good, signature: otherChar(String(good.signature), 0) }],
      ['signature, last character', { ...good, signature: otherChar(String(good.signature), 42) }],
      // Differs only in the 2 spare bits of the last character, which decode to the same bytes.
      ['signature, spare bits', { ...good, signature: spareBitTwin(String(good.signature)) }],
    ];
    for (const [what, req] of tampered) {
      assert.deepEqual(verifyDownload(req, SECRET, NOW), { ok: false, code: 'invalid_signature' }, what);
    }
    assert.deepEqual(verifyDownload(good, 'another-secret-of-enough-length', NOW), { ok: false, code: 'invalid_signature' });
  });

  test('a forged link is invalid_signature even when its expiry has passed', () => {
    const forged = { ...good, jobId: 'other', expires: String(nowS - 10) };
    assert.deepEqual(verifyDownload(forged, SECRET, NOW), { ok: false, code: 'invalid_signature' });
  });

  test('malformed parameters are invalid_signature', () => {
    const malformed: unknown[][] = [
      [undefined, good.signature],
      ['', good.signature],
      ['soon', good.signature],
      ['-5', good.signature],
      ['1e10', good.signature],
      [[good.expires, good.expires], good.signature],
      [good.expires, undefined],
      [good.expires, ''],
      [good.expires, [good.signature]],
      [good.expires, 'not base64url!'],
      [good.expires, String(good.signature).slice(0, 42)],
      [good.expires, `${String(good.signature)}A`],
      [good.expires, `${String(good.signature)}=`],
    ];
    for (const [expires, signature] of malformed) {
      assert.deepEqual(
        verifyDownload({ ...good, expires, signature }, SECRET, NOW),
        { ok: false, code: 'invalid_signature' },
        JSON.stringify([expires, signature]),
      );
    }
  });

  test('downloadUrl joins PUBLIC_URL, with or without a trailing slash or a path prefix', () => {
    assert.equal(downloadUrl('https://t.example.com/', link, SECRET), `https://t.example.com${path}`);
    assert.equal(downloadUrl('https://t.example.com/tp', link, SECRET), `https://t.example.com/tp${path}`);
  });

  test('createDownloadLink signs a link that lasts the configured time', () => {
    const opts = { publicUrl: 'http://localhost:3000', signingSecret: SECRET, downloadLinkTtlSeconds: 7 * 86400 };
    const { url, expiresAt } = createDownloadLink(opts, { jobId: 'j1', fileName: 'a.csv' }, NOW);
    assert.equal(expiresAt.toISOString(), '2026-03-08T12:00:00.000Z');
    const req = parse(new URL(url).pathname + new URL(url).search);
    assert.equal(verifyDownload(req, SECRET, NOW).ok, true);
    assert.equal(verifyDownload(req, SECRET, expiresAt).ok, false);
  });
});

function otherChar(s: string, i: number): string {
  return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
}

function spareBitTwin(s: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const v = alphabet.indexOf(defined(s.at(-1), 's.at(-1)'));
  const twin = s.slice(0, -1) + alphabet[v ^ 1];
  assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(s, 'base64url'));
  return twin;
}
