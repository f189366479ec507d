/**
 * Issue 12: the resident memory of an idle `npm start` (the API and the workers in one process,
 * with the heap cap `npm start` sets), read after it has settled. `bin/tableport.js` runs the
 * compiled JavaScript in `dist/` when it is built; the figure says which one ran.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetCheck } from './results.js';
import { freePort, REPO, sleep, spawnRole, waitForHttp, waitForLog } from './service.js';

export const IDLE_RSS_MAX_MB = 130;

export interface IdleFigure {
  /** VmRSS after the process has been idle for `settle_s`. */
  rss_mb: number;
  settle_s: number;
  /** True when `dist/` was there, so the process ran compiled JavaScript rather than tsx. */
  compiled: boolean;
  node_args: string[];
}

/** `npm start`'s node flags, read from package.json so the bench measures what users run. */
function startNodeArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts.start ?? '';
  return start.split(/\s+/).filter((a) => a.startsWith('--'));
}

export async function idleRss(ctx: {
  env: NodeJS.ProcessEnv;
  logDir: string;
  track: (child: ChildProcess) => void;
  log: (m: string) => void;
  settleSeconds?: number;
}): Promise<IdleFigure> {
  const settle = ctx.settleSeconds ?? 10;
  const port = await freePort();
  const nodeArgs = startNodeArgs();
  ctx.log(`\n── idle RSS of npm start (node ${nodeArgs.join(' ')} bin/tableport.js all, port ${port}) ──`);
  const proc = await spawnRole('all', {
    env: { ...ctx.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
    logDir: ctx.logDir,
    name: 'all',
    track: ctx.track,
    nodeArgs,
    ready: async (p) => {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      await waitForLog(p, 'workers started');
    },
  });
  try {
    await sleep(settle * 1000);
    const rss = Math.round((await proc.memory.rssMb()) * 10) / 10;
    ctx.log(`idle RSS after ${settle} s: ${rss} MB`);
    return { rss_mb: rss, settle_s: settle, compiled: existsSync(join(REPO, 'dist/src/cli/main.js')), node_args: nodeArgs };
  } finally {
    await proc.stop();
  }
}

export function idleTarget(fig: IdleFigure): TargetCheck {
  return {
    target: `idle RSS of npm start (API and workers in one process) ≤ ${IDLE_RSS_MAX_MB} MB, compiled JavaScript`,
    figure: `${fig.rss_mb} MB after ${fig.settle_s} s idle${fig.compiled ? '' : ' (NOT compiled: run npm run build)'}`,
    met: fig.compiled && fig.rss_mb <= IDLE_RSS_MAX_MB,
  };
}
