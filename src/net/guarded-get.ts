/**
 * A streamed GET of a user's URL through the outbound guard: every hop of a redirect chain is
 * checked and pinned again, and the body is capped in bytes. Time is bounded as for every outbound
 * call (./outbound-deadline.ts): the guard's agent closes a connection whose peer stays silent for
 * OUTBOUND_TIMEOUT_MS (no answer, or no next chunk), and the whole download, redirects included,
 * ends at `maxDurationMs` or when `signal` fires.
 */
import http from 'node:http';
import https from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { FileTooLargeError, isAppError, LocationAccessDeniedError, LocationNotFoundError, LocationUnavailableError } from '../errors.js';
import { Deadline, hostPort, OutboundTimeoutError, TransferAbortedError } from './outbound-deadline.js';
import { portOf, type OutboundGuard } from './outbound-guard.js';

export interface GuardedGetOptions {
  maxBytes: number;
  /** Longest the whole download may take. */
  maxDurationMs: number;
  maxRedirects?: number;
  headers?: Record<string, string>;
  /** Stops the download at once (a cancel, a shutdown). */
  signal?: AbortSignal | undefined;
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
  const deadline = new Deadline(hostPort(start.hostname, portOf(start)), opts.maxDurationMs, opts.signal);
  let url = start;
  try {
    for (let hop = 0; ; hop++) {
      await deadline.race(guard.checkUrl(url));
      const res = await deadline.race(request(url, guard, opts, deadline.signal));
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
      const where = url;
      const body = deadline.stream(res, { mapError: (err) => mapSocketError(err, where) });
      return { stream: capped(body, opts.maxBytes), size: length, url, contentType: res.headers['content-type'] };
    }
  } catch (err) {
    deadline.end();
    throw mapSocketError(deadline.explain(err), url);
  }
}

function request(url: URL, guard: OutboundGuard, opts: GuardedGetOptions, signal: AbortSignal): Promise<http.IncomingMessage> {
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  const get = protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    // The signal tears the request (and its socket) down when the deadline fires.
    const req = get(url, { agent: guard.agent(protocol), signal, headers: { 'user-agent': 'tableport', ...opts.headers } });
    req.once('response', resolve);
    // Not once: a socket torn down after the answer may report again.
    req.on('error', reject);
  });
}

/** The body, failing once it passes the byte cap. */
function capped(body: Readable, maxBytes: number): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) return done(new FileTooLargeError(maxBytes));
      done(null, chunk);
    },
  });
  pipeline(body, out, () => undefined);
  return out;
}

function mapSocketError(err: unknown, url: URL): Error {
  if (isAppError(err) || err instanceof TransferAbortedError) return err;
  const timeout = OutboundTimeoutError.find(err);
  if (timeout) return new LocationUnavailableError(displayUrl(url), timeout.message);
  if (!(err instanceof Error)) return new LocationUnavailableError(displayUrl(url), 'connection failed');
  const code = (err as NodeJS.ErrnoException).code;
  return new LocationUnavailableError(displayUrl(url), code ? `connection failed (${code})` : 'connection failed');
}
