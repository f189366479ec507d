/**
 * One tableport role (`api`, `worker`, or both) in a process of its own, so a fault test can kill
 * it (SIGKILL), pause it (SIGSTOP) or stop it (SIGTERM) like a real deployment's process. Short
 * lock and stall intervals let another worker take a job over within seconds.
 */
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { start, type Role } from '../../../src/main.js';

const config = loadConfig();
const roles = (process.env.FAULT_ROLES ?? 'worker').split(',') as Role[];
const lockDuration = Number(process.env.FAULT_LOCK_MS ?? 2000);
const running = await start(config, roles, createLogger(config.logLevel, { role: roles.join('+') }), {
  tuning: { lockDuration, stalledInterval: Math.max(500, lockDuration / 2) },
});
process.send?.({ ready: true, url: running.url });
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
