/**
 * The tests' one way to wait for something to become true: poll `check` until it returns a value
 * other than undefined/false, or fail naming what was awaited. Waiting for time to pass is not
 * done here: a test moves its server's clock (`server.clock.advance`, see clock.ts).
 */
import { sleep } from '../../src/clock.js';

export { sleep };

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`waiting for ${what}: not there after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
