import { createServer } from 'node:net';

/** Ports this process has handed out: the kernel may offer a closed one again, and two servers of one test must not get the same. */
const given = new Set<number>();

/**
 * A loopback port nothing listens on now, from the kernel (port 0), never one this process has
 * handed out before. A random port from a fixed range can be one of the ephemeral ports the
 * machine's own outgoing connections use (Linux hands out 32768-60999), and a child process told
 * to listen there fails with EADDRINUSE. A fixed port is worse: the same test file run from another
 * worktree on this machine wants it too.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => res(port));
      });
    });
    if (given.has(port)) continue;
    given.add(port);
    return port;
  }
}
