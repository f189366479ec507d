/**
 * The README's quick start on a machine with nothing but Node: a network namespace whose loopback
 * has no PostgreSQL and no Redis, neither DATABASE_URL nor REDIS_URL set. `npm start` (this
 * checkout's `bin/tableport.js all`, as the npm script runs it) must bring up its embedded
 * PostgreSQL and serve the quick start end to end (user, table, export, download, import, mail in
 * the outbox); a restart must keep the data; SIGTERM must leave no process behind.
 *
 * It needs root and iproute2 to make the namespace (CI has both); elsewhere it is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { shellBlocks } from '../readme/readme-blocks.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NS = `tp-qs-${randomBytes(3).toString('hex')}`;

function cannotRun(): string | false {
  if (userInfo().uid !== 0) return 'making a network namespace needs root';
  if (spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status !== 0) return 'iproute2 (`ip netns`) is not available';
  return false;
}
const SKIP = cannotRun();

/** The README's "Quick start" section: its shell blocks, in order. */
async function quickStart(): Promise<string[]> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const from = readme.indexOf('\n## Quick start');
  const to = readme.indexOf('\n## ', from + 1);
  assert.ok(from >= 0, 'the README has a Quick start section');
  return shellBlocks(readme.slice(from, to)).map((b) => b.code);
}

/** What the namespace runs: the quick start, `npm start` in the background, then a restart. */
function script(blocks: string[]): string {
  const start = [
    // As `npm start` runs it, with nothing but this checkout (installed outside: no registry in here).
    'node --max-old-space-size=256 --max-semi-space-size=8 "$REPO/bin/tableport.js" all > server.log 2>&1 &',
    'SERVER=$!',
    'for i in $(seq 1 600); do curl -s -o /dev/null http://localhost:3000/healthz && break; sleep 0.1; done',
  ].join('\n');
  const lines = blocks
    .join('\n')
    .split('\n')
    .map((l) => (/^\s*npm ci\b/.test(l) ? ':' : /^\s*npm start\b/.test(l) ? start : l));
  return [
    'set -eE -o pipefail',
    'export PATH="$REPO/node_modules/.bin:$PATH"',
    'curl() { command curl --fail-with-body "$@"; }',
    'npx() { if [ "$1" = tableport ]; then shift; node "$REPO/bin/tableport.js" "$@"; else "$@"; fi; }',
    // What failed, then the server's last lines, each cut so the assertion's message holds them all.
    'trap \'echo "@@failed at: $BASH_COMMAND" >&2; tail -20 server.log | cut -c1-400 >&2\' ERR',
    ...lines,
    // The mail of the export and of the import are in the outbox. A job's mail is its own queue job,
    // sent just after the job ends: on a loaded machine the import's may come a moment after `jobs wait`.
    'for i in $(seq 1 300); do [ "$(ls data/outbox/*.eml | wc -l)" -ge 2 ] && break; sleep 0.1; done',
    'test "$(ls data/outbox/*.eml | wc -l)" -ge 2',
    'echo "@@outbox $(ls data/outbox/*.eml | wc -l)"',
    // SIGTERM: the service stops, and with it the embedded PostgreSQL it started.
    'kill -TERM $SERVER; wait $SERVER',
    'if pgrep -f "$PWD/data/postgres" > /dev/null; then echo "@@left-behind"; exit 1; fi',
    // A restart keeps the data.
    start,
    'echo "@@after-restart $(curl -s $API/table/ -H "$AUTH" | jq -c \'[.objects[] | {name, row_count}]\')"',
    'kill -TERM $SERVER; wait $SERVER',
    'if pgrep -f "$PWD/data/postgres" > /dev/null; then echo "@@left-behind"; exit 1; fi',
    'echo "@@done"',
  ].join('\n');
}

describe('the quick start on a machine with nothing but Node', { skip: SKIP }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-quick-start-'));
    // As root, the embedded PostgreSQL runs as the user postgres, which must enter the data folder.
    await chmod(dir, 0o755);
    spawnSync('ip', ['netns', 'add', NS], { stdio: 'inherit' });
    spawnSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'inherit' });
  });
  after(async () => {
    for (const pid of spawnSync('ip', ['netns', 'pids', NS], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
      spawnSync('kill', ['-9', pid]);
    }
    spawnSync('ip', ['netns', 'delete', NS]);
    await rm(dir, { recursive: true, force: true });
  });

  test('npm ci, npm start, and the README quick start: user, table, export, download, import, mail; restart and stop', {
    timeout: 300_000,
  }, async () => {
    // Nothing answers on the namespace's loopback: no PostgreSQL, no Redis.
    for (const port of ['5432', '6379']) {
      const probe = spawnSync('ip', ['netns', 'exec', NS, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' });
      assert.notEqual(probe.status, 0, `something answers on ${port} in the namespace`);
    }
    await writeFile(join(dir, 'quick-start.sh'), script(await quickStart()));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      REPO,
      LOG_LEVEL: 'info',
    };
    const run = spawnSync('ip', ['netns', 'exec', NS, 'bash', join(dir, 'quick-start.sh')], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 280_000,
    });
    const out = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, out.slice(-12000));
    assert.match(run.stdout, /table \d+/);
    assert.match(run.stdout, /@@outbox [2-9]/);
    assert.match(run.stdout, /@@after-restart .*"name":"orders","row_count":2.*"name":"orders_copy","row_count":2/);
    assert.match(run.stdout, /@@done/);
    assert.ok(!run.stdout.includes('@@left-behind'));
    const log = await readFile(join(dir, 'server.log'), 'utf8');
    assert.match(log, /database: embedded PostgreSQL [\d.]+ on 127\.0\.0\.1:\d+/);
    assert.match(log, /jobs queue in PostgreSQL \(set REDIS_URL to queue them in Redis\)/);
    assert.ok((await readdir(join(dir, 'data', 'postgres'))).includes('PG_VERSION'));
  });
});
