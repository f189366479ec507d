/**
 * CPU seconds spent on a piece of work, by the processes that did it: a local process (/proc), and
 * the PostgreSQL server processes of one database (each backend listed in pg_stat_activity, read in
 * /proc). On the shared 2-vCPU host a job's wall time moves by 2-3× with the other sessions' load;
 * its CPU seconds hardly move, so a ratio of CPU seconds says which side does more work when wall
 * times cannot (docs/benchmarks.md, issue 22's SQL export). Linux, PostgreSQL on this host; where
 * /proc cannot be read, the figures are null.
 */
import { access, readFile } from 'node:fs/promises';
import pg from 'pg';

const TICKS_PER_SECOND = 100;

/** user + system CPU seconds of a process; with `children`, also those of its children it has reaped. */
export async function cpuSecondsOf(pid: number, children = false): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const own = (f[11] ?? 0) + (f[12] ?? 0);
    return (children ? own + (f[13] ?? 0) + (f[14] ?? 0) : own) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * The CPU seconds of a database's server processes from `start()` to `stop()`: every backend of
 * the database (but this watcher's own) is read at the start, every 50 ms, and at the end; one that
 * starts in the span counts from zero, one that ends counts up to its last reading (up to 50 ms lost).
 * Parallel workers are not counted (their CPU goes to the postmaster when they end).
 */
export class ServerCpu {
  private readonly client: pg.Client;
  private start0 = new Map<number, number>();
  private last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private readable = true;

  constructor(databaseUrl: string) {
    this.client = new pg.Client({ connectionString: databaseUrl });
  }

  async open(): Promise<void> {
    await this.client.connect();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.client.end();
  }

  private async read(): Promise<Map<number, number>> {
    const { rows } = await this.client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const now = new Map<number, number>();
    for (const { pid } of rows) {
      const s = await cpuSecondsOf(pid);
      if (s !== null) now.set(pid, s);
      // A backend that ended since it was listed is gone from /proc; one still there but unreadable is not measurable.
      else if (
        await access(`/proc/${pid}`).then(
          () => true,
          () => false,
        )
      )
        this.readable = false;
    }
    return now;
  }

  private async poll(): Promise<void> {
    for (const [pid, s] of await this.read()) {
      if (!this.start0.has(pid)) this.start0.set(pid, 0);
      this.last.set(pid, s);
    }
  }

  async start(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    this.readable = true;
    this.start0 = await this.read();
    this.last = new Map(this.start0);
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll()).catch(() => undefined);
    }, 50);
  }

  /** CPU seconds since `start()`, or null when a backend's /proc could not be read. */
  async stop(): Promise<number | null> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
    if (!this.readable) return null;
    let total = 0;
    for (const [pid, s] of this.last) total += s - (this.start0.get(pid) ?? 0);
    return total;
  }
}
