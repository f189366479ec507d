/**
 * Peers that hold a connection without finishing it, as a dead or hostile store, URL, mail server
 * or webhook receiver does: one that accepts TCP and never answers, one that answers the headers
 * and then stops mid-body, one that trickles a byte at a time. Each counts the connections it holds
 * open, so a test can see the service let go of them.
 */
import http from 'node:http';
import net from 'node:net';

export interface QuietServer {
  port: number;
  host: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections the service has not closed yet. */
  open(): number;
  close(): Promise<void>;
}

function tracked(server: net.Server): Omit<QuietServer, 'port' | 'host'> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on('connection', (s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  return {
    accepted: () => accepted,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: net.Server): Promise<QuietServer> {
  const rest = tracked(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, host: `127.0.0.1:${port}`, ...rest };
}

/** Accepts, reads whatever comes (so the client's writes never block), and never says a word. */
export function startSilentServer(): Promise<QuietServer> {
  return listen(net.createServer((s) => s.resume()));
}

/**
 * An HTTP server for `answer`. Requests it does not finish stay open; `close()` ends them. A
 * keep-alive client reuses connections, so the count of open ones is what the client holds.
 */
export function startHttpServer(answer: http.RequestListener): Promise<QuietServer> {
  return listen(http.createServer(answer));
}

/** Answers 200 with a Content-Length of `size`, sends `first` bytes, and then nothing, for ever. */
export function stallAfter(first: string, size = 1024 * 1024): http.RequestListener {
  return (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(size) });
    res.write(first);
  };
}

/** Answers 200 and then one byte every `everyMs`, for ever: never silent, never done. */
export function trickle(everyMs: number, header = 'id\n'): http.RequestListener {
  return (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.write(header);
    const timer = setInterval(() => res.write('1'), everyMs);
    res.once('close', () => clearInterval(timer));
  };
}
