/**
 * Real stores for the location tests and the bench, as child processes on loopback: s3rver (S3)
 * and azurite (Azure Blob). Each is killed by its `close()`; a test file that forgets still does
 * not leave one behind, since the child is killed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
/** azurite lives in test/tools (installed there by scripts/test.js), out of the main install. */
const toolsRequire = createRequire(new URL('../../tools/package.json', import.meta.url));

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a server as a child process and resolves once the child itself says it listens on `port`
 * (`listening` matches its announcement and captures the port). A probe of the port would not do:
 * when another process already listens there (the same test file run from another worktree on
 * this machine), the child exits with EADDRINUSE while the probe is answered by the other one, and
 * the test then reads and writes that run's objects and loses its server when that run ends.
 */
async function run(
  cmd: string[],
  port: number,
  cwd: string,
  listening: RegExp,
  timeoutMs = 30_000,
): Promise<ChildProcess & { output: () => string }> {
  const child = spawn(process.execPath, cmd, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not say it listens on ${port} within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const read = (c: Buffer) => {
      out = (out + c.toString()).slice(-4000);
      const said = listening.exec(out);
      if (!said) return;
      clearTimeout(timer);
      if (Number(said[1]) === port) resolve();
      else reject(new Error(`the server listens on ${said[1]}, not ${port}`));
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) instead of listening on ${port}:\n${out}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    kill();
    throw err;
  }
  return Object.assign(child, { output: () => out });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * s3rver with `buckets` made at start-up. It runs in its own process with OpenSSL's legacy
 * provider, because it encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 has
 * moved there; without it, a second page of a listing fails with a 500.
 */
export async function startS3rver(port: number, buckets: string[]): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tableport-s3rver-'));
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const args = ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'];
  for (const b of buckets) args.push('--configure-bucket', b);
  const child = await run(args, port, dir, /S3rver listening on [\d.]+:(\d+)/);
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Azure's own emulator account and key, public and the same in every azurite. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** azurite's blob service, in memory, no telemetry; --skipApiVersionCheck as the SDK may be newer. */
export async function startAzurite(port: number): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tableport-azurite-'));
  const bin = join(dirname(toolsRequire.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  const args = [
    bin,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
    '--inMemoryPersistence',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--disableTelemetry',
  ];
  const child = await run(args, port, dir, /Azurite Blob service successfully listens on http:\/\/[\d.]+:(\d+)/);
  return {
    url: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    close: async () => {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
