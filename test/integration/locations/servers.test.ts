/**
 * The stores the location tests start must be their own: a port another process already listens
 * on (the same test file run from another worktree on this machine) fails the start, instead of
 * handing the test another run's store, whose objects it would then read as its own.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../helpers/ports.js';
import { startAzurite, startS3rver } from './servers.js';

describe('test stores start on their own port or not at all', () => {
  let taken: Server;
  let port: number;

  before(async () => {
    port = await freePort();
    // Someone else's server: it accepts connections, as another run's s3rver would.
    taken = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  for (const [name, start] of [
    ['s3rver', () => startS3rver(port, ['fmt'])],
    ['azurite', () => startAzurite(port)],
  ] as const) {
    test(`${name} on a port already taken is refused, naming why`, async () => {
      await assert.rejects(start(), (err: Error) => {
        assert.match(err.message, new RegExp(`instead of listening on ${port}`));
        assert.match(err.message, /EADDRINUSE/);
        return true;
      });
    });
  }

  test('on a free port, the store is the one started', async () => {
    const own = await freePort();
    const s3 = await startS3rver(own, ['fmt']);
    try {
      const res = await fetch(`${s3.url}/fmt`);
      assert.equal(res.status, 200);
    } finally {
      await s3.close();
    }
  });
});
