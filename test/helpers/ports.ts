import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on now, from the kernel (port 0). A random port from a fixed
 * range can be one of the ephemeral ports the machine's own outgoing connections use (Linux hands
 * out 32768-60999), and a child process told to listen there fails with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}
