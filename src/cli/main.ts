/**
 * The `tableport` command: the operator's server commands (from server-commands.ts) and the
 * client commands, which are a thin layer over the SDK. Errors end here and become exit codes:
 * 0 success, 1 the job failed, 2 bad usage, 3 refused by the server, 4 server unreachable,
 * 5 `--timeout` passed while waiting.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ApiError, ConnectionError, InvalidArgumentError, JobFailedError, JobTimeoutError, TablePortError } from '../sdk/index.js';
import { EXIT, ServerUnreachableError, UsageError } from './client.js';
import { registerBundleCommands } from './commands/bundles.command.js';
import { registerJobsCommands } from './commands/jobs.command.js';
import { registerRowsCommands } from './commands/rows.command.js';
import { registerSchedulesCommands } from './commands/schedules.command.js';
import { registerSqlCommand } from './commands/sql.command.js';
import { registerTablesCommands } from './commands/tables.command.js';
import { registerTransferCommands } from './commands/transfer.command.js';
import { formatJobError, printJson, warn } from './output.js';

/** The client commands: they need only the SDK. */
const CLIENT_COMMANDS = new Set(['tables', 'export', 'import', 'jobs', 'rows', 'sql', 'data', 'getstatus', 'migrate', 'schedules']);

// src/cli/ from the sources, dist/src/cli/ once compiled: the first package.json up the tree is ours.
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
const VERSION = packageVersion();

/**
 * Builds the command tree. The server commands pull in the whole service (database, queues,
 * mail): about 1.5 s of start-up a client command does not need, so `server: false` leaves them out.
 */
export async function buildProgram(options: { server?: boolean } = {}): Promise<Command> {
  const program = new Command('tableport')
    .description('Table exports and imports as background jobs, with the results emailed.')
    .version(VERSION)
    // Errors reach main() as exceptions, so every exit code is chosen in one place.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nClient commands take --url/--token or TABLEPORT_URL/TABLEPORT_TOKEN, and --json.\n' +
        'Exit codes: 0 ok, 1 job failed, 2 bad usage, 3 refused by the server, 4 server unreachable, 5 wait timed out.\n\n' +
        'Example:\n  export TABLEPORT_URL=http://localhost:3000 TABLEPORT_TOKEN=$(npx tableport users add --email me@example.com | tail -n 1)\n' +
        '  tableport tables list',
    );
  if (options.server !== false) {
    const { registerServerCommands } = await import('./server-commands.js');
    registerServerCommands(program);
  }
  registerTablesCommands(program);
  registerTransferCommands(program);
  registerJobsCommands(program);
  registerRowsCommands(program);
  registerSqlCommand(program);
  registerBundleCommands(program);
  registerSchedulesCommands(program);
  return program;
}

/** Runs the command line `argv` (as `process.argv`: node, script, args...) and sets `process.exitCode`. */
export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  try {
    const first = argv.slice(2).find((a) => !a.startsWith('-'));
    const program = await buildProgram({ server: !(first && CLIENT_COMMANDS.has(first)) });
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err, json);
  }
}

/** Prints what went wrong (JSON on stdout with --json, a sentence on stderr always) and picks the exit code. */
function report(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version "errors" are the normal way those end.
    if (err.exitCode === 0) return EXIT.ok;
    if (json) printJson({ error_code: 'invalid_usage', error_msg: err.message.replace(/^error: /, '') });
    return EXIT.usage;
  }
  if (err instanceof UsageError || err instanceof InvalidArgumentError) {
    if (json) printJson({ error_code: 'invalid_usage', error_msg: err.message });
    warn(`error: ${err.message}`);
    return EXIT.usage;
  }
  if (err instanceof JobFailedError) {
    if (json) printJson(err.job);
    warn(`${err.job.type.endsWith('import') ? 'Import' : 'Export'} job ${err.job.id} failed:`);
    for (const e of err.job.errors) warn(`  ${formatJobError(e)}`);
    return EXIT.jobFailed;
  }
  if (err instanceof JobTimeoutError) {
    if (json) printJson(err.job);
    warn(`${err.message} It goes on; follow it with: tableport jobs wait ${err.job.id}`);
    return EXIT.timeout;
  }
  if (err instanceof ApiError) {
    if (json) printJson(err.body);
    const hint = err.errorCode === 'too_frequent' && 'retryAfterSeconds' in err ? ` (retry in ${String(err.retryAfterSeconds)} s)` : '';
    warn(`error: ${err.errorCode}: ${err.message}${hint}`);
    return EXIT.refused;
  }
  if (err instanceof ServerUnreachableError) {
    if (json) printJson({ error_code: 'connection_failed', error_msg: err.message });
    warn(`error: ${err.message}`);
    return EXIT.unreachable;
  }
  if (err instanceof ConnectionError) {
    if (json) printJson({ error_code: err.errorCode, error_msg: err.message });
    warn(`error: ${err.message}`);
    return EXIT.unreachable;
  }
  if (err instanceof TablePortError) {
    if (json) printJson({ error_code: err.errorCode, error_msg: err.message });
    warn(`error: ${err.errorCode}: ${err.message}`);
    return EXIT.jobFailed;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) printJson({ error_code: 'internal_error', error_msg: message });
  warn(`error: ${message}`);
  return EXIT.jobFailed;
}
