/**
 * What every client command shares: the `--url`/`--token`/`--json` options, the SDK client they
 * configure, and the errors that end a command with a given exit code.
 */
import { InvalidArgumentError as CommanderArgumentError, Option, type Command } from 'commander';
import { NotFoundError, TablePort, type Table } from '../sdk/index.js';

/** The exit codes of client commands (documented in docs/cli.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The job failed. */
  jobFailed: 1,
  /** Bad usage: unknown option, missing argument, bad value. */
  usage: 2,
  /** The server refused the request; its error_code is printed. */
  refused: 3,
  /** The server cannot be reached. */
  unreachable: 4,
  /** `--timeout` passed before the job ended (it goes on on the server). */
  timeout: 5,
} as const;

/** A mistake in the command line, found before asking the server (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The options every client command takes. */
export interface ClientFlags {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Adds `--url`, `--token` and `--json` to a client command. */
export function clientCommand(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'tableport server, e.g. http://localhost:3000').env('TABLEPORT_URL'))
    .addOption(new Option('--token <token>', 'API token (from `tableport users add`)').env('TABLEPORT_TOKEN'))
    .option('--json', 'print machine-readable JSON on stdout');
}

/** The SDK client the flags describe; a missing URL or token is a usage error. */
export function connect(flags: ClientFlags): TablePort {
  if (!flags.url) throw new UsageError('No server given: pass --url URL or set TABLEPORT_URL (e.g. http://localhost:3000).');
  if (!flags.token)
    throw new UsageError(
      'No API token given: pass --token TOKEN or set TABLEPORT_TOKEN (create one with `tableport users add --email ...`).',
    );
  try {
    return new TablePort({ baseUrl: flags.url, token: flags.token });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A table named on the command line by id or by name. */
export async function resolveTable(tp: TablePort, ref: string): Promise<Table> {
  if (/^\d+$/.test(ref)) return tp.getTable(ref);
  for await (const table of tp.tables()) if (table.name === ref) return table;
  throw new NotFoundError(404, { error_code: 'not_found', error_msg: `You have no table named "${ref}".` });
}

/** Parses a positive whole number option value, or fails as bad usage. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0) throw new CommanderArgumentError(`${name} must be a positive whole number.`);
    return n;
  };
}

/** A server-side command could not reach or run the service's database: the message says which and what to do. */
export class ServerUnreachableError extends Error {
  override name = 'ServerUnreachableError';
}
