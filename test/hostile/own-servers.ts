/**
 * A Redis and a PostgreSQL of the test's own, on ports no one else uses (6396-6399, 5446-5449),
 * so a test can stop them without touching the shared 6379 and 5432.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresBinaries } from '../helpers/postgres-binaries.js';
import { sleep } from '../helpers/wait.js';

export async function waitForPort(port: number, open = true, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (isOpen === open) return;
    if (Date.now() > until) throw new Error(`port ${port} still ${open ? 'closed' : 'open'}`);
    await sleep(100);
  }
}

export class OwnRedis {
  private proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) return;
    // A server left on the port (a crashed earlier run) would answer for ours: refuse to go on.
    await waitForPort(this.port, false, 5000);
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitForPort(this.port);
    if (this.proc.exitCode !== null) throw new Error(`redis-server on ${this.port} exited at once`);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    await waitForPort(this.port, false);
  }
}

/** A throw-away PostgreSQL cluster (trust auth, superuser `root`), run as the postgres user when we are root. */
export class OwnPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'tableport-pg-'));
  constructor(readonly port: number) {}

  static available(): boolean {
    return OwnPostgres.bin() !== undefined;
  }

  private static bin(): string | undefined {
    return postgresBinaries();
  }

  private run(cmd: string, args: string[]): void {
    const path = join(OwnPostgres.bin() as string, cmd);
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', path, ...args], { stdio: 'ignore' });
    else execFileSync(path, args, { stdio: 'ignore' });
  }

  get url(): string {
    return `postgres://root@127.0.0.1:${this.port}/tableport_own`;
  }

  async init(): Promise<void> {
    chmodSync(this.dir, 0o777);
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', this.dir]);
    this.run('initdb', ['-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'root', '--no-sync']);
    await this.start();
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-o', opts, '-l', join(this.dir, 'log'), '-w', 'start']);
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    await waitForPort(this.port, false);
  }

  async destroy(): Promise<void> {
    try {
      this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
