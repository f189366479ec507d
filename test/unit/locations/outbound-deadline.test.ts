/**
 * The one deadline mechanism of outbound calls (src/net/outbound-deadline.ts), on real sockets:
 * a silent peer fails the request naming host:port, a slow reader or a slow request body does not
 * count as the peer's silence, a transfer ends at its length or its caller's signal, and a library
 * that keeps only a timeout's message still reports the host.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Deadline, OutboundTimeoutError, timedAgent, TransferAbortedError } from '../../../src/net/outbound-deadline.js';
import { sleep } from '../../helpers/wait.js';

/** How long a peer may be silent in the cases that must time out. */
const SILENCE = 1000;
/**
 * In the cases that must not: longer, as this process serves both ends, and a loop stalled by a
 * busy machine runs its timers before it reads the bytes that arrived meanwhile.
 */
const PATIENCE = 2 * SILENCE;
const BIG = Buffer.alloc(8 * 1024 * 1024, 'x');

function get(agent: http.Agent, port: number, path: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, resolve);
    req.on('error', reject);
  });
}

function drain(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    stream.on('data', (c: Buffer) => (n += c.length));
    stream.once('end', () => resolve(n));
    stream.once('error', reject);
    stream.resume();
  });
}

describe('timedAgent: a peer that goes quiet', () => {
  let server: http.Server;
  let silent: net.Server;
  let port: number;
  let silentPort: number;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-length': '100' });
        return void res.write('12345');
      }
      if (req.url === '/slow-and-steady') {
        // Never silent for PATIENCE, and done after 2 × PATIENCE.
        res.writeHead(200);
        let n = 0;
        const t = setInterval(() => {
          res.write('x');
          if (++n === 8) {
            clearInterval(t);
            res.end();
          }
        }, PATIENCE / 4);
        return;
      }
      if (req.method === 'POST') {
        req.resume();
        return void req.once('end', () => res.end('taken'));
      }
      res.end(BIG);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    silent = net.createServer((s) => s.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => silent.close(r));
  });

  test('no answer: the request fails with a timeout naming host:port', async () => {
    const agent = timedAgent('http:', SILENCE);
    await assert.rejects(
      get(agent, silentPort, '/'),
      (e: unknown) => e instanceof OutboundTimeoutError && e.message === `127.0.0.1:${silentPort} did not answer within 1 s`,
    );
    agent.destroy();
  });

  test('headers, then nothing: the body fails with the timeout itself', async () => {
    const agent = timedAgent('http:', SILENCE);
    const res = await get(agent, port, '/stall');
    await assert.rejects(
      drain(res),
      (e: unknown) => e instanceof OutboundTimeoutError && e.message === `127.0.0.1:${port} went silent for 1 s`,
    );
    agent.destroy();
  });

  test('a peer that keeps sending is not silent, however long the whole takes', async () => {
    const agent = timedAgent('http:', PATIENCE);
    assert.equal(await drain(await get(agent, port, '/slow-and-steady')), 8);
    agent.destroy();
  });

  test('a reader that holds the body back (backpressure) is not the peer being silent', { timeout: 20_000 }, async () => {
    const agent = timedAgent('http:', PATIENCE);
    const res = await get(agent, port, '/');
    let failed: Error | undefined;
    res.once('error', (e) => (failed = e));
    res.pause();
    // Once the reader's buffer is full, the socket is held back: from here on, only we are slow.
    while (res.readableLength < res.readableHighWaterMark) await sleep(10);
    await sleep(PATIENCE * 1.5);
    assert.equal(failed, undefined);
    assert.equal(await drain(res), 8 * 1024 * 1024);
    agent.destroy();
  });

  test('a request body whose source has nothing yet is not the peer being silent', { timeout: 20_000 }, async () => {
    const agent = timedAgent('http:', PATIENCE);
    const body = new PassThrough();
    let failed: Error | undefined;
    const answered = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', agent }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.once('end', () => resolve(text));
      });
      req.on('error', (e) => {
        failed = e;
        reject(e);
      });
      body.pipe(req);
    });
    answered.catch(() => undefined);
    body.write('first');
    await sleep(PATIENCE * 1.5);
    assert.equal(failed, undefined);
    body.end('last');
    assert.equal(await answered, 'taken');
    agent.destroy();
  });
});

/** Work that never settles by itself, as a request to a dead store; its timer holds the test's event loop open (a deadline's does not). */
function hanging(): { work: Promise<never>; fail(err: Error): void } {
  let fail: (err: Error) => void = () => undefined;
  const work = new Promise<never>((_resolve, reject) => {
    const hold = setTimeout(() => undefined, 10_000);
    fail = (err) => {
      clearTimeout(hold);
      reject(err);
    };
  });
  return { work, fail };
}

describe('Deadline: the length of a transfer, and its caller’s stop', () => {
  test('race: rejects with the length timeout, naming the host', async () => {
    const d = new Deadline('store.example:443', 50);
    const h = hanging();
    await assert.rejects(
      d.race(h.work),
      (e: unknown) => e instanceof OutboundTimeoutError && e.message === 'store.example:443 took longer than 0.1 s',
    );
    assert.ok(d.signal.aborted);
    h.fail(new Error('torn down'));
  });

  test('race: the caller’s signal stops it at once, and a late failure of the work reports the stop', async () => {
    const caller = new AbortController();
    const d = new Deadline('store.example:443', 60_000, caller.signal);
    const h = hanging();
    const raced = d.race(h.work);
    caller.abort();
    await assert.rejects(raced, TransferAbortedError);
    h.fail(new Error('socket hang up'));
    assert.ok(d.explain(new Error('socket hang up')) instanceof TransferAbortedError);
    d.end();
  });

  test('stream: a source that trickles for ever ends at the deadline, through mapError', async () => {
    const d = new Deadline('store.example:443', 200);
    let i = 0;
    const source = new Readable({
      read() {
        setTimeout(() => this.push(String(i++)), 20);
      },
    });
    const out = d.stream(source, { mapError: (e) => new Error(`mapped: ${(e as Error).message}`) });
    await assert.rejects(drain(out), /^Error: mapped: store\.example:443 took longer than 0\.2 s$/);
    assert.ok(source.destroyed, 'the source is let go');
  });

  test('stream: with idleMs, a source that sends nothing while the reader waits fails', async () => {
    const d = new Deadline('store.example:443', 60_000);
    const source = new PassThrough();
    source.write('a');
    const out = d.stream(source, { idleMs: 100 });
    const hold = setTimeout(() => undefined, 10_000);
    await assert.rejects(drain(out), /store\.example:443 went silent for 0\.1 s/);
    clearTimeout(hold);
    assert.ok(source.destroyed, 'the source is let go');
  });

  test('stream: a reader that pauses does not make the source silent', async () => {
    const d = new Deadline('store.example:443', 60_000);
    const source = new PassThrough();
    const out = d.stream(source, { idleMs: 100 });
    source.write('a');
    out.pause();
    await sleep(300);
    source.end('b');
    assert.equal(await drain(out), 2);
  });
});

describe('OutboundTimeoutError.find: a timeout a library wrapped', () => {
  test('in the cause chain, in the message alone, or quoted with a URL that is not kept', () => {
    const original = new OutboundTimeoutError('10.1.2.3:9000', 'did not answer within 30 s');
    assert.equal(OutboundTimeoutError.find(Object.assign(new Error('Request aborted'), { cause: original })), original);
    assert.equal(OutboundTimeoutError.find(new Error(original.message))?.message, '10.1.2.3:9000 did not answer within 30 s');
    const quoted = new Error(
      'request to http://10.1.2.3:9000/upload?upload_id=SECRET failed, reason: 10.1.2.3:9000 did not answer within 30 s',
    );
    assert.equal(OutboundTimeoutError.find(quoted)?.message, '10.1.2.3:9000 did not answer within 30 s');
    assert.equal(OutboundTimeoutError.find(new Error('connect ETIMEDOUT 10.1.2.3:9000')), undefined);
  });
});
