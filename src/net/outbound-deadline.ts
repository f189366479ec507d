/**
 * The deadlines of every outbound call (object stores, URLs, webhooks, the service's own bucket),
 * in one place, so every place fails the same way and names the same thing: the host that went
 * quiet.
 *
 * - Silence (OUTBOUND_TIMEOUT_MS): every socket made by a `timedAgent` is watched. When the peer
 *   sends nothing while we wait for it, or takes none of the bytes we have queued for it, for
 *   `idleMs`, the socket is destroyed with an OutboundTimeoutError naming host:port, and whatever
 *   client library sits on top fails its request with it. This timer sees bytes move either way,
 *   so a slow but live link never trips it; the libraries' own request timers measure a whole
 *   request, body upload included (a throughput floor), and the AWS SDK's only warns.
 * - Length (OUTBOUND_MAX_DURATION_MS) and stop: every transfer (one object read or written, a
 *   listing, a delivery) runs under a `Deadline`. It fires at `maxDurationMs` however slowly bytes
 *   trickle, and at once when the job's signal fires (a cancel, a shutdown). Its `signal` goes to
 *   the client library, which tears its request down; `race` and `stream` make the caller see it
 *   fire even where a library does not listen.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { Readable } from 'node:stream';

/** A peer that went quiet, or a transfer past its time. The message names host:port, never a path or a key. */
export class OutboundTimeoutError extends Error {
  override name = 'OutboundTimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly host: string,
    detail: string,
  ) {
    super(`${host} ${detail}`);
  }

  /**
   * The timeout behind `err`, wherever a client library put it: the error itself, its `cause`
   * chain, or only its message, alone (the Azure SDK keeps nothing else of a socket's error) or
   * quoted in a message of its own (node-fetch's "request to URL failed, reason: ..."). Only the
   * timeout's own words are kept: the rest may hold a URL with a signature.
   */
  static find(err: unknown): OutboundTimeoutError | undefined {
    const seen = new Set<unknown>();
    for (let e: unknown = err; e instanceof Error && !seen.has(e); e = (e as { cause?: unknown }).cause) {
      seen.add(e);
      if (e instanceof OutboundTimeoutError) return e;
      const m = TIMEOUT_MESSAGE.exec(e.message);
      if (m) return new OutboundTimeoutError(m[1] ?? '', m[2] ?? '');
    }
    return undefined;
  }
}

const TIMEOUT_MESSAGE = /(?:^|\s)(\S+:\d+) ((?:did not answer within|went silent for|took no data for|took longer than) \d+(?:\.\d+)? s)\b/;

/** A transfer stopped by its caller (a cancel or a shutdown), not by the peer. */
export class TransferAbortedError extends Error {
  override name = 'AbortError';
  constructor() {
    super('The transfer was stopped.');
  }
}

/** Milliseconds as people read them in a message: "30 s", "0.5 s". */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 1000 ? 1 : 0))} s`;
}

/** `host:port` for messages, IPv6 in brackets. */
export function hostPort(host: string, port: number | string): string {
  const h = host.startsWith('[') ? host.slice(1, -1) : host;
  return `${isIP(h) === 6 ? `[${h}]` : h}:${port}`;
}

/** What http.Agent#createConnection is given. */
export type ConnectOptions = Parameters<http.Agent['createConnection']>[0] & {
  host?: string | null;
  hostname?: string | null;
  port?: number | string | null;
};

/** The request a socket is serving (Node's own field, null while the socket waits in the pool) and its response. */
interface ServingSocket {
  _httpMessage?: { writableEnded?: boolean; res?: { complete: boolean; destroy(err: Error): void } | null } | null;
}

/**
 * Destroys `socket` with an OutboundTimeoutError once the peer has been quiet for `idleMs` while
 * we wait for it. Waiting on our own side does not count: a reader holding the body back (the
 * socket is paused by backpressure), or a streamed request body whose source has nothing yet.
 */
export function watchSocket(socket: Socket, idleMs: number, host: string): void {
  socket.setTimeout(idleMs);
  socket.on('timeout', () => {
    const request = (socket as Socket & ServingSocket)._httpMessage;
    const producing = request && !request.writableEnded && socket.writableLength === 0;
    if (socket.isPaused() || producing) {
      socket.setTimeout(idleMs);
      return;
    }
    const detail = socket.writableLength > 0 ? 'took no data for' : socket.bytesRead === 0 ? 'did not answer within' : 'went silent for';
    const err = new OutboundTimeoutError(host, `${detail} ${seconds(idleMs)}`);
    // A body being read fails with the timeout itself; torn down with its socket, it would say only "aborted".
    if (request?.res && !request.res.complete) request.res.destroy(err);
    socket.destroy(err);
  });
}

/**
 * An http(s) agent whose every socket is watched for silence (see watchSocket). `prepare` may
 * change how a socket connects (the outbound guard pins the checked address) or return a socket
 * of its own (a refusal).
 */
export function timedAgent(
  protocol: 'http:' | 'https:',
  idleMs: number | undefined,
  opts: http.AgentOptions = {},
  prepare?: (options: ConnectOptions, port: number) => ConnectOptions | Socket,
): http.Agent {
  const Base = protocol === 'https:' ? https.Agent : http.Agent;
  const defaultPort = protocol === 'https:' ? 443 : 80;
  const TimedAgent = class extends Base {
    override createConnection(options: ConnectOptions, cb?: (err: Error | null, socket: Socket) => void): Socket {
      const port = Number(options.port) || defaultPort;
      const prepared = prepare ? prepare(options, port) : options;
      if (!isConnectOptions(prepared)) return prepared;
      const socket = super.createConnection(prepared, cb as never) as Socket;
      if (idleMs) watchSocket(socket, idleMs, hostPort(String(options.host ?? options.hostname ?? 'localhost'), port));
      return socket;
    }
  };
  // Node resets a pooled socket's timer to the agent's `timeout`: the same value keeps the watch on.
  return new TimedAgent(idleMs ? { ...opts, timeout: idleMs } : opts);
}

function isConnectOptions(x: ConnectOptions | Socket): x is ConnectOptions {
  return !(typeof (x as Socket).destroy === 'function' && typeof (x as Socket).write === 'function');
}

/**
 * One transfer's deadline: it fires `maxDurationMs` after it is made (never, when undefined), or
 * when `parent` (the job's signal) fires, whichever comes first. `end()` it when the transfer is over.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onParent: () => void;

  constructor(
    readonly host: string,
    maxDurationMs: number | undefined,
    private readonly parent?: AbortSignal,
  ) {
    if (maxDurationMs !== undefined) {
      this.timer = setTimeout(
        () => this.controller.abort(new OutboundTimeoutError(host, `took longer than ${seconds(maxDurationMs)}`)),
        maxDurationMs,
      );
      this.timer.unref();
    }
    this.onParent = () => this.controller.abort(new TransferAbortedError());
    if (parent?.aborted) this.onParent();
    else parent?.addEventListener('abort', this.onParent, { once: true });
  }

  /** Fires with the deadline: give it to the client library's request. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the deadline fired (an OutboundTimeoutError or a TransferAbortedError), or undefined while it has not. */
  get reason(): Error | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as Error) : undefined;
  }

  /** The error to report for `err`: the deadline's own reason once it has fired (a library reports it as a bare abort). */
  explain(err: unknown): unknown {
    return this.reason ?? err;
  }

  /** Settles as `work` does, or rejects with the reason as soon as the deadline fires. */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(this.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const fired = () => reject(this.reason);
      signal.addEventListener('abort', fired, { once: true });
      work.then(
        (v) => {
          signal.removeEventListener('abort', fired);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', fired);
          reject(this.explain(err));
        },
      );
    });
  }

  /**
   * `source` as a stream that fails when the deadline fires and, with `idleMs`, when the source
   * sends nothing for that long while the reader waits (for client libraries whose sockets are not
   * ours to watch). Every failure goes through `mapError`. Destroying the result destroys the
   * source; the deadline ends with the stream.
   */
  stream(source: Readable, opts: { idleMs?: number; mapError?: (err: unknown) => Error } = {}): Readable {
    const { idleMs } = opts;
    const fail = (err: unknown) => {
      const why = this.explain(err);
      out.destroy(opts.mapError ? opts.mapError(why) : why instanceof Error ? why : new Error(String(why)));
    };
    let idle: NodeJS.Timeout | undefined;
    const disarm = () => {
      if (idle) clearTimeout(idle);
      idle = undefined;
    };
    const out = new Readable({
      read: () => {
        if (idleMs && !idle)
          idle = setTimeout(() => fail(new OutboundTimeoutError(this.host, `went silent for ${seconds(idleMs)}`)), idleMs);
        source.resume();
      },
      destroy: (err, cb) => {
        disarm();
        this.controller.signal.removeEventListener('abort', fired);
        source.destroy();
        this.end();
        cb(err);
      },
    });
    const fired = () => fail(this.reason);
    source.on('data', (chunk: Buffer) => {
      disarm();
      if (!out.push(chunk)) source.pause();
    });
    source.once('end', () => {
      disarm();
      out.push(null);
    });
    source.on('error', fail);
    source.once('close', () => {
      // A source that closed without ending or failing (a socket torn down) must not leave the reader waiting.
      if (!source.readableEnded && !out.destroyed) fail(new Error('The connection closed before the end of the data.'));
    });
    source.pause();
    if (this.controller.signal.aborted) process.nextTick(fired);
    else this.controller.signal.addEventListener('abort', fired, { once: true });
    return out;
  }

  /** The transfer is over: stops the clock and lets go of the parent signal. */
  end(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParent);
  }
}
