/**
 * eKuiper's verbs for a whole workspace (`data export`, `data import`, `getstatus import`) and
 * Owl's promotion (`migrate`): a bundle streamed from this server straight into another.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { JobFailedError, TablePort, type BundleImportStatus, type Job, type JobHandle } from '../../sdk/index.js';
import { clientCommand, connect, positiveInt, UsageError, type ClientFlags } from '../client.js';
import { line, printJson, printTable, warn } from '../output.js';
import { progressReporter } from '../progress.js';

type Mode = 'reset' | 'replace' | 'merge';

interface ExportFlags extends ClientFlags {
  tables?: string;
  schemaOnly?: boolean;
  gzip?: boolean;
  timeout?: number;
}

interface ImportFlags extends ClientFlags {
  file: string;
  mode?: Mode;
  rename?: string;
  wait?: boolean;
  timeout?: number;
}

interface MigrateFlags extends ClientFlags {
  to: string;
  toToken?: string;
  tables?: string;
  rename?: string;
  mode: Mode;
  timeout?: number;
}

export function registerBundleCommands(program: Command): void {
  const data = program.command('data').description('a whole workspace (tables, schemas, rows) as one bundle file: backup and restore');

  clientCommand(data.command('export').argument('<file>', 'where to write the bundle; - writes to stdout'))
    .description('export your tables (default all) with their schemas and rows into one bundle file')
    .option('--tables <names>', 'only these tables, comma-separated')
    .option('--schema-only', 'the schemas without rows (downloaded at once)')
    .option('--gzip', 'compress the bundle')
    .option('--timeout <seconds>', 'give up waiting for the export job after this many seconds (exit 5)', positiveInt('--timeout'))
    .addHelpText(
      'after',
      '\nExamples:\n  tableport data export backup.json\n  tableport data export schemas.json --tables orders,customers --schema-only',
    )
    .action(async (file: string, flags: ExportFlags) => {
      const tp = connect(flags);
      const tables = list(flags.tables);
      let body: Readable;
      let job: Job | undefined;
      if (flags.schemaOnly) {
        body = await tp.downloadBundle({ ...(tables ? { tables } : {}), includeRows: false, gzip: flags.gzip === true });
      } else {
        const handle = await tp.exportBundle({ ...(tables ? { tables } : {}), gzip: flags.gzip === true });
        job = await follow(handle, flags.timeout);
        body = await openLink(job);
      }
      const bytes = await save(body, file);
      if (flags.json) return printJson({ status: 'ok', file, bytes, ...(job ? { job_id: job.id, rows: job.rows } : {}) });
      if (file !== '-') warn(`Saved the bundle to ${file} (${bytes} bytes${job ? `, ${job.rows} rows` : ', schemas only'}).`);
    });

  clientCommand(data.command('import'))
    .description('import a bundle: reset (default) makes your workspace exactly the bundle; all tables or none change')
    .requiredOption('-f, --file <file>', 'the bundle file (plain or gzip); - reads stdin')
    .addOption(
      new Option(
        '--mode <mode>',
        'reset: the workspace becomes the bundle; replace: only its tables; merge: create missing, append',
      ).choices(['reset', 'replace', 'merge']),
    )
    .option('--rename <pairs>', 'import tables under other names: old=new,old2=new2')
    .option('--wait', "wait for the job, then show each table's outcome")
    .option('--timeout <seconds>', 'with --wait: give up waiting after this many seconds (exit 5)', positiveInt('--timeout'))
    .addHelpText(
      'after',
      '\nExamples:\n  tableport data import -f backup.json --wait\n  tableport data import -f staging.json --mode merge --rename orders=orders_staging',
    )
    .action(async (flags: ImportFlags) => {
      const tp = connect(flags);
      const source = flags.file === '-' ? process.stdin : flags.file;
      const job = await tp.importBundle(source, { ...(flags.mode ? { mode: flags.mode } : {}), ...renameOption(flags.rename) });
      if (!flags.wait) {
        if (flags.json) return printJson({ status: 'ok', job_id: job.id });
        line(`Queued bundle import job ${job.id}; see each table's outcome with: tableport getstatus import`);
        return;
      }
      await finishImport(tp, job, flags);
    });

  const getstatus = program.command('getstatus').description("the outcome of your latest bundle import (eKuiper's getstatus)");
  clientCommand(getstatus.command('import'))
    .description('your latest bundle import: each table, and why it failed when it did')
    .action(async (flags: ClientFlags) => {
      const status = await connect(flags).importStatus();
      if (flags.json) return printJson(status);
      printStatus(status);
    });

  clientCommand(program.command('migrate'))
    .description('promote tables from this server to another: the bundle streams from one into the other, no local file')
    .requiredOption('--to <url>', 'the other tableport server, e.g. https://prod.example.com')
    .addOption(
      new Option('--to-token <token>', 'an API token on the other server (default: $TABLEPORT_TO_TOKEN)').env('TABLEPORT_TO_TOKEN'),
    )
    .option('--tables <names>', 'only these tables, comma-separated (default all)')
    .option('--rename <pairs>', 'arrive under other names: old=new,old2=new2')
    .addOption(
      new Option('--mode <mode>', "on the other server: replace (default) recreates the bundle's tables only")
        .choices(['reset', 'replace', 'merge'])
        .default('replace'),
    )
    .option('--timeout <seconds>', 'give up waiting for either job after this many seconds (exit 5)', positiveInt('--timeout'))
    .addHelpText('after', '\nExample:\n  tableport migrate --to https://prod.example.com --to-token $PROD_TOKEN --tables orders,customers')
    .action(async (flags: MigrateFlags) => {
      if (!flags.toToken)
        throw new UsageError(
          'Give an API token on the other server: --to-token TOKEN, or TABLEPORT_TO_TOKEN in the environment (kept out of the shell history).',
        );
      const from = connect(flags);
      let to: TablePort;
      try {
        to = new TablePort({ baseUrl: flags.to, token: flags.toToken });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const tables = list(flags.tables);
      const exported = await follow(await from.exportBundle({ ...(tables ? { tables } : {}), gzip: true }), flags.timeout);
      const link = await fetch(exported.file_url ?? '');
      if (!link.ok || !link.body) throw new UsageError(`The bundle of job ${exported.id} could not be downloaded (HTTP ${link.status}).`);
      const total = Number(link.headers.get('content-length') ?? 0);
      const meter = byteMeter(total, 'transfer');
      const body = Readable.fromWeb(link.body as never).pipe(meter.counter);
      let job: JobHandle;
      try {
        job = await to.importBundle(body, {
          mode: flags.mode,
          filename: exported.file_name ?? 'bundle.json.gz',
          ...renameOption(flags.rename),
        });
      } finally {
        meter.stop();
      }
      await finishImport(to, job, flags);
    });
}

/** Waits for the import job with a progress display, then prints each table's outcome; a failure exits 1. */
async function finishImport(tp: TablePort, job: JobHandle, flags: { json?: boolean; timeout?: number }): Promise<void> {
  let failed: JobFailedError | undefined;
  try {
    await follow(job, flags.timeout);
  } catch (err) {
    if (!(err instanceof JobFailedError)) throw err;
    failed = err;
  }
  const status = await tp.importStatus();
  if (flags.json) printJson(status);
  else printStatus(status);
  if (failed) {
    // main() prints the job's errors and exits 1; the JSON (if asked) is already out.
    if (flags.json) process.exitCode = 1;
    else throw failed;
  }
}

async function follow(job: JobHandle, timeoutSeconds: number | undefined): Promise<Job> {
  const progress = progressReporter(job.id);
  try {
    return await job.wait({
      onProgress: (j) => progress.update(j),
      ...(timeoutSeconds !== undefined ? { timeoutMs: timeoutSeconds * 1000 } : {}),
    });
  } finally {
    progress.stop();
  }
}

async function openLink(job: Job): Promise<Readable> {
  const res = await fetch(job.file_url ?? '');
  if (!res.ok || !res.body) throw new UsageError(`The bundle of job ${job.id} could not be downloaded (HTTP ${res.status}).`);
  return Readable.fromWeb(res.body as never);
}

/** Writes to `file` through a temporary name (a broken download leaves nothing), or to stdout for `-`. */
async function save(body: Readable, file: string): Promise<number> {
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  if (file === '-') {
    await pipeline(body, count, process.stdout);
    return bytes;
  }
  const temp = `${file}.${process.pid}.part`;
  try {
    await pipeline(body, count, createWriteStream(temp));
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return bytes;
}

function printStatus(s: BundleImportStatus): void {
  line(`Bundle import ${s.job_id}: ${s.status}`);
  const rows = Object.entries(s.tables).map(([name, why]) => [
    name,
    why === '' ? (s.status === 'succeeded' ? 'ok' : 'ok (rolled back)') : why,
  ]);
  if (rows.length) printTable(['TABLE', 'OUTCOME'], rows);
}

function list(names: string | undefined): string[] | undefined {
  const out = names
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return out?.length ? out : undefined;
}

function renameOption(pairs: string | undefined): { rename?: Record<string, string> } {
  if (!pairs) return {};
  const rename: Record<string, string> = {};
  for (const pair of pairs.split(',')) {
    const [from, to, extra] = pair.split('=').map((s) => s.trim());
    if (!from || !to || extra !== undefined) throw new UsageError(`--rename takes old=new pairs, comma-separated; "${pair}" is not one.`);
    rename[from] = to;
  }
  return { rename };
}

/** A byte count on the way through, shown as a bar on a terminal and as a final line otherwise. */
function byteMeter(total: number, label: string): { counter: Transform; stop: () => void } {
  const tty = Boolean(process.stderr.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: `${label} |{bar}| {percentage}% | {value}/{total} bytes`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let bytes = 0;
  bar?.start(total || 1, 0);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      bar?.update(total ? Math.min(bytes, total) : 0);
      cb(null, chunk);
    },
  });
  return {
    counter,
    stop() {
      bar?.stop();
      if (!tty) process.stderr.write(`${label}: ${bytes} bytes streamed\n`);
    },
  };
}
