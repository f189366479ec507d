/**
 * A worker in a process of its own, so a test can kill it with SIGKILL like a crashed machine.
 * Short lock and stall intervals let another worker pick its job up within a second or two.
 */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { start } from '../../src/main.js';

const config = loadConfig();
const running = await start(config, ['worker'], createLogger(config.logLevel, { role: 'test-worker' }), {
  tuning: { lockDuration: 1000, stalledInterval: 500 },
});
process.send?.('ready');
process.on('SIGTERM', () => void running.close().then(() => process.exit(0)));
