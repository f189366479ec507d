import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { TestServer } from './server.js';
import { waitFor } from './wait.js';

const WORKER = new URL('./worker-process.ts', import.meta.url).pathname;

/**
 * A worker process joined to the test server (ready when this resolves), for tests that kill or stop
 * it or measure its memory; `nodeOptions` are more flags for node (`--max-old-space-size=256`).
 */
export async function startChildWorker(server: TestServer, nodeOptions: string[] = []): Promise<ChildProcess> {
  const child = fork(WORKER, { env: server.childEnv(), execArgv: [...nodeOptions, '--import', 'tsx'], stdio: 'inherit' });
  await once(child, 'message');
  return child;
}

/** Resolves once some worker is streaming rows into a user table with COPY: an import is mid-way. */
export async function waitForActiveImportCopy(server: TestServer, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    'an import to start its COPY',
    async () => {
      const { rows } = await server.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY tableport_data.t_%FROM STDIN%' AND state = 'active'`,
      );
      return rows[0].n > 0;
    },
    { timeoutMs, intervalMs: 20 },
  );
}
