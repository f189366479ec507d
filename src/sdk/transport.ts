/**
 * The HTTP layer of the SDK: builds URLs, sends the token, turns error replies into typed errors,
 * and retries network faults a bounded number of times, for idempotent calls only (a retried POST
 * could queue a second export).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ErrorResponse } from '../types/api.js';
import { ConnectionError, errorFromResponse } from './errors.js';
import { toWebStream, type UploadBody } from './upload.js';

/** The `fetch` the SDK calls; Node's global one unless another is given. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of a {@link TablePort} client. */
export interface ClientOptions {
  /** Where tableport runs, e.g. `http://localhost:3000` (a trailing `/oserve/v1` is accepted too). */
  baseUrl: string;
  /** An API token, as `tableport users add` prints it. */
  token: string;
  /** A `fetch` to use instead of Node's global one (for proxies, tests, instrumentation). */
  fetch?: FetchLike;
  /** How many times an idempotent call (GET) is retried after a network fault or a 502/503/504. Default 3. */
  retries?: number;
  /** Time limit of one JSON call in milliseconds (uploads and downloads have none). Default 30000. */
  timeoutMs?: number;
}

const API_PREFIX = '/oserve/v1';
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** One call to the API. */
export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  /** A JSON body. */
  json?: unknown;
  /** A raw body (multipart uploads); sent without a time limit and never retried. */
  body?: RequestInit['body'];
  headers?: Record<string, string>;
  /** Send the bearer token (default true; signed download links must not get it). */
  auth?: boolean;
  /** Do not apply the time limit (for downloads, whose body may take long to read). */
  noTimeout?: boolean;
}

/** @internal The HTTP client shared by the SDK's objects. */
export class Transport {
  /** The base without `/oserve/v1`, without a trailing slash. */
  readonly root: string;
  private readonly token: string;
  private readonly fetchFn: FetchLike;
  private readonly customFetch: boolean;
  private readonly retries: number;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl)) {
      throw new TypeError('TablePort: `baseUrl` must be an http(s) URL, e.g. "http://localhost:3000".');
    }
    if (typeof options.token !== 'string' || options.token.length === 0) {
      throw new TypeError('TablePort: `token` is required (create one with `tableport users add --email ...`).');
    }
    let root = options.baseUrl.replace(/\/+$/, '');
    if (root.endsWith(API_PREFIX)) root = root.slice(0, -API_PREFIX.length);
    this.root = root;
    this.token = options.token;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.customFetch = options.fetch !== undefined;
    this.retries = Math.max(0, options.retries ?? 3);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The absolute URL of an API path (`/table/`) or of a page link the server gave (`/oserve/v1/...`). */
  url(pathOrLink: string, query?: CallOptions['query']): string {
    let url: URL;
    if (/^https?:\/\//i.test(pathOrLink)) url = new URL(pathOrLink);
    else if (pathOrLink.startsWith(`${API_PREFIX}/`)) url = new URL(this.root + pathOrLink);
    else url = new URL(this.root + API_PREFIX + (pathOrLink.startsWith('/') ? '' : '/') + pathOrLink);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** Sends a call and returns the parsed JSON reply (`undefined` for an empty one). */
  async json<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const res = await this.send(method, this.url(path, options.query), options);
    const text = await res.text();
    if (!res.ok) throw toApiError(res, text);
    return (text.length ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Sends a call and returns the response once its status is a success; error replies are thrown
   * as typed errors. The caller reads (or cancels) the body.
   */
  async raw(method: string, url: string, options: CallOptions = {}): Promise<Response> {
    const res = await this.send(method, url, options);
    if (!res.ok) throw toApiError(res, await res.text());
    return res;
  }

  /**
   * POSTs a multipart upload and returns the parsed JSON reply. Never retried: the body is a
   * one-shot stream and the call queues a job. Node's own `fetch` does not hold back a request
   * body for the socket, so by default the upload goes through `node:http` with backpressure; a
   * caller-supplied `fetch` gets a web stream (`duplex: 'half'`) instead.
   */
  async upload<T>(path: string, upload: UploadBody): Promise<T> {
    const url = this.url(path);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${this.token}`,
      'content-type': upload.contentType,
    };
    if (upload.length !== undefined) headers['content-length'] = String(upload.length);
    let res: Response;
    if (this.customFetch) {
      res = await this.send('POST', url, { body: toWebStream(upload.parts), headers });
    } else {
      res = await streamedPost(url, headers, upload.parts).catch((err: unknown) => {
        throw new ConnectionError(url, err);
      });
    }
    const text = await res.text();
    if (!res.ok) throw toApiError(res, text);
    return JSON.parse(text) as T;
  }

  private async send(method: string, url: string, options: CallOptions): Promise<Response> {
    const idempotent = method === 'GET' || method === 'HEAD';
    const streamed = options.body !== undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.auth !== false) headers.authorization = `Bearer ${this.token}`;
    let body: RequestInit['body'] | undefined = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const attempts = idempotent ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        const init: RequestInit & { duplex?: 'half' } = { method, headers, body: body ?? null };
        // Streamed uploads and downloads may take long; only plain JSON calls get a time limit.
        if (!streamed && !options.noTimeout) init.signal = AbortSignal.timeout(this.timeoutMs);
        if (body instanceof ReadableStream) init.duplex = 'half';
        res = await this.fetchFn(url, init);
      } catch (err) {
        if (attempt < attempts) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new ConnectionError(url, err);
      }
      if (idempotent && attempt < attempts && RETRYABLE_STATUS.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        await sleep(retryAfterMs(res.headers.get('retry-after')) ?? backoffMs(attempt));
        continue;
      }
      return res;
    }
  }
}

/**
 * POSTs a body with `node:http`, written only as fast as the socket drains. Resolves with the reply
 * as a `Response`, even when the server answers (say `413`) before the body is all sent; then the
 * rest of the body is not sent.
 */
function streamedPost(url: string, headers: Record<string, string>, parts: AsyncIterable<Uint8Array>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', headers });
    const source = Readable.from(parts, { objectMode: false });
    let answered = false;
    let failure: unknown;
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      readAll(res).then(
        (body) => {
          if (!req.writableFinished) {
            source.destroy();
            req.destroy();
          }
          resolve(
            new Response(body.length ? body : null, {
              status: res.statusCode ?? 500,
              statusText: res.statusMessage ?? '',
              headers: toHeaders(res.headers),
            }),
          );
        },
        (err: unknown) => reject(err),
      );
    });
    req.on('error', (err) => {
      failure ??= err;
    });
    pipeline(source, req).catch((err: unknown) => {
      failure ??= err;
      // The server may have answered and closed while the body was still going: give the reply a
      // moment to be parsed before reporting the broken connection.
      setTimeout(() => {
        if (!answered) reject(failure);
      }, 250).unref();
    });
    req.on('close', () => {
      if (!answered && failure) setTimeout(() => !answered && reject(failure), 250).unref();
    });
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function toHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (Array.isArray(v)) for (const one of v) out.append(k, one);
    else if (v !== undefined) out.set(k, v);
  }
  return out;
}

function toApiError(res: Response, text: string) {
  let body: ErrorResponse | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<ErrorResponse>;
    if (parsed && typeof parsed.error_code === 'string') {
      body = { ...parsed, error_code: parsed.error_code, error_msg: String(parsed.error_msg ?? '') };
    }
  } catch {
    // Not JSON: a proxy's page or a crash; described below from the status.
  }
  body ??= { error_code: codeForStatus(res.status), error_msg: `HTTP ${res.status} ${res.statusText}`.trim() };
  return errorFromResponse(res.status, body, res.headers.get('retry-after'));
}

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 413) return 'file_too_large';
  if (status === 502 || status === 503 || status === 504) return 'service_unavailable';
  if (status >= 500) return 'internal_error';
  return 'http_error';
}

/** 200 ms, 400 ms, 800 ms... with jitter, at most 5 s. */
function backoffMs(attempt: number): number {
  const base = Math.min(5000, 200 * 2 ** (attempt - 1));
  return base / 2 + Math.random() * (base / 2);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 30) * 1000 : undefined;
}

/** @internal */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
