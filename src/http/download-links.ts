/**
 * Signed download links, the HTTP edge's authorisation of a download (GET /files/:job/:name): a link names one job's file and an expiry, and an HMAC-SHA256 of those
 * under the server's secret proves that the server made it. Anyone holding the link may download
 * until it expires; no token is needed, and changing any part of it breaks the signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Where the download route is mounted; the route and the links must agree. */
export const DOWNLOAD_BASE_PATH = '/oserve/v1/files';

export interface DownloadLink {
  jobId: string;
  fileName: string;
  /** Unix seconds; the link works while the clock is before this. */
  expiresAt: number;
}

/** The parts of a download request as the route receives them (query values are unchecked). */
export interface DownloadRequest {
  jobId: string;
  fileName: string;
  expires: unknown;
  signature: unknown;
}

export type DownloadVerdict = { ok: true; expiresAt: number } | { ok: false; code: 'invalid_signature' | 'link_expired' };

const SIGNATURE_RE = /^[A-Za-z0-9_-]{43}$/; // 32 bytes of SHA-256 in unpadded base64url
const EXPIRES_RE = /^(0|[1-9][0-9]{0,11})$/; // canonical: one spelling per expiry

/** The path and query of a signed link, e.g. `/oserve/v1/files/J/a%20b.csv?expires=…&signature=…`. */
export function signDownloadPath(link: DownloadLink, secret: string): string {
  if (!Number.isSafeInteger(link.expiresAt) || link.expiresAt < 0) throw new RangeError('expiresAt must be Unix seconds.');
  const query = new URLSearchParams({ expires: String(link.expiresAt), signature: sign(link, secret) });
  return `${DOWNLOAD_BASE_PATH}/${encodeURIComponent(link.jobId)}/${encodeURIComponent(link.fileName)}?${query}`;
}

/** The full link under PUBLIC_URL (which may carry a path prefix of a reverse proxy). */
export function downloadUrl(publicUrl: string, link: DownloadLink, secret: string): string {
  return publicUrl.replace(/\/+$/, '') + signDownloadPath(link, secret);
}

/**
 * A new link to a job's file valid for `ttlSeconds` from `now`: what an export handler puts in
 * the job record and the email.
 */
export function createDownloadLink(
  opts: { publicUrl: string; signingSecret: string; downloadLinkTtlSeconds: number },
  file: { jobId: string; fileName: string },
  now: Date = new Date(),
): { url: string; expiresAt: Date } {
  const expiresAt = Math.floor(now.getTime() / 1000) + opts.downloadLinkTtlSeconds;
  return {
    url: downloadUrl(opts.publicUrl, { ...file, expiresAt }, opts.signingSecret),
    expiresAt: new Date(expiresAt * 1000),
  };
}

/** The links of one server, with its PUBLIC_URL, secret and link lifetime: what the services make and check. */
export function downloadLinks(opts: { publicUrl: string; signingSecret: string; downloadLinkTtlSeconds: number }): {
  create(file: { jobId: string; fileName: string }, now: Date): { url: string; expiresAt: Date };
  verify(req: DownloadRequest, now: Date): DownloadVerdict;
} {
  return {
    create: (file, now) => createDownloadLink(opts, file, now),
    verify: (req, now) => verifyDownload(req, opts.signingSecret, now),
  };
}

/**
 * Checks a download request. The signature is checked before the expiry, so a forged link is
 * `invalid_signature` whatever its expiry says, and only a genuine old link is `link_expired`.
 * Malformed parameters (missing, repeated, not digits) are `invalid_signature`.
 */
export function verifyDownload(req: DownloadRequest, secret: string, now: Date = new Date()): DownloadVerdict {
  const { jobId, fileName, expires, signature } = req;
  if (typeof jobId !== 'string' || typeof fileName !== 'string') return { ok: false, code: 'invalid_signature' };
  if (typeof expires !== 'string' && typeof expires !== 'number') return { ok: false, code: 'invalid_signature' };
  if (typeof signature !== 'string' || !SIGNATURE_RE.test(signature)) return { ok: false, code: 'invalid_signature' };
  const expiresText = String(expires);
  if (!EXPIRES_RE.test(expiresText)) return { ok: false, code: 'invalid_signature' };
  const expiresAt = Number(expiresText);

  // Compared as text, not as decoded bytes: the last base64url character carries 2 spare bits,
  // and a decoder ignores them, so a changed character would otherwise still pass. Both are 43
  // ASCII bytes here (the regex fixes the length), which timingSafeEqual requires.
  const expected = Buffer.from(sign({ jobId, fileName, expiresAt }, secret), 'ascii');
  const given = Buffer.from(signature, 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, code: 'invalid_signature' };
  if (Math.floor(now.getTime() / 1000) >= expiresAt) return { ok: false, code: 'link_expired' };
  return { ok: true, expiresAt };
}

function sign(link: DownloadLink, secret: string): string {
  // JSON keeps the fields apart unambiguously (a "/" or newline in a name cannot shift a
  // boundary), and the label keeps this MAC from being valid for any other use of the secret.
  const message = JSON.stringify(['tableport.download.v1', link.jobId, link.fileName, link.expiresAt]);
  return createHmac('sha256', secret).update(message).digest('base64url');
}
