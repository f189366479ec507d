/**
 * A streamed GET of a user's URL through the outbound guard: every hop of a redirect chain is
 * checked and pinned again, the body is capped in bytes, and the wait for headers, for each next
 * chunk and for the whole download is capped in time.
 */
import http from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { FileTooLargeError, isAppError, LocationAccessDeniedError, LocationNotFoundError, LocationUnavailableError } from '../errors.js';
import type { OutboundGuard } from './outbound-guard.js';

export interface GuardedGetOptions {
  maxBytes: number;
  /** Longest wait for the connection and headers, and between two chunks of the body. */
  timeoutMs: number;
  /** Longest the whole body may take. */
  maxDurationMs: number;
  maxRedirects?: number;
  headers?: Record<string, string>;
}

export interface GuardedResponse {
  stream: Readable;
  /** From Content-Length, when the server sent one. */
  size?: number;
  /** Where the bytes came from, after redirects. */
  url: URL;
  contentType?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A URL as it may appear in a message or a log line: no user info, no query (signed URLs keep keys there). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export async function guardedGet(start: URL, guard: OutboundGuard, opts: GuardedGetOptions): Promise<GuardedResponse> {
  const maxRedirects = opts.maxRedirects ?? 5;
  let url = start;
  for (let hop = 0; ; hop++) {
    await guard.checkUrl(url);
    const res = await request(url, guard, opts);
    const status = res.statusCode ?? 0;
    if (REDIRECTS.has(status) && res.headers.location) {
      res.resume();
      if (hop >= maxRedirects) throw new LocationUnavailableError(displayUrl(start), `more than ${maxRedirects} redirects`);
      url = new URL(res.headers.location, url);
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      if (status === 404 || status === 410) throw new LocationNotFoundError(displayUrl(url));
      if (status === 401 || status === 403) throw new LocationAccessDeniedError(displayUrl(url), `HTTP ${status}`);
      throw new LocationUnavailableError(displayUrl(url), `it answered HTTP ${status}`);
    }
    const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    if (length !== undefined && length > opts.maxBytes) {
      res.destroy();
      throw new FileTooLargeError(opts.maxBytes);
    }
    return { stream: capped(res, url, opts), size: length, url, contentType: res.headers['content-type'] };
  }
}

function request(url: URL, guard: OutboundGuard, opts: GuardedGetOptions): Promise<http.IncomingMessage> {
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  const get = protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: guard.agent(protocol), headers: { 'user-agent': 'tableport', ...opts.headers } });
    req.setTimeout(opts.timeoutMs, () => {
      req.destroy(new LocationUnavailableError(displayUrl(url), `no answer within ${Math.round(opts.timeoutMs / 1000)} s`));
    });
    req.once('response', (res) => {
      req.setTimeout(0);
      resolve(res);
    });
    req.once('error', (err) => reject(mapSocketError(err, url)));
  });
}

/** The body, failing once it passes the byte cap, stalls, or runs past the time cap. */
function capped(res: http.IncomingMessage, url: URL, opts: GuardedGetOptions): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > opts.maxBytes) return done(new FileTooLargeError(opts.maxBytes));
      done(null, chunk);
    },
  });
  const total = setTimeout(() => {
    out.destroy(new LocationUnavailableError(displayUrl(url), `the download took longer than ${Math.round(opts.maxDurationMs / 1000)} s`));
  }, opts.maxDurationMs);
  total.unref();
  res.setTimeout(opts.timeoutMs, () => {
    out.destroy(new LocationUnavailableError(displayUrl(url), `no data for ${Math.round(opts.timeoutMs / 1000)} s`));
  });
  res.once('error', (err) => out.destroy(mapSocketError(err, url)));
  res.once('aborted', () => out.destroy(new LocationUnavailableError(displayUrl(url), 'the connection broke')));
  out.once('close', () => {
    clearTimeout(total);
    res.destroy();
  });
  res.pipe(out);
  return out;
}

function mapSocketError(err: Error, url: URL): Error {
  if (isAppError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new LocationUnavailableError(displayUrl(url), code ? `connection failed (${code})` : 'connection failed');
}
