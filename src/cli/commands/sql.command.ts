/** `tableport sql "COPY INTO ..."`: CnosDB's statements, run as export or import jobs. */
import type { Command } from 'commander';
import { clientCommand, connect, positiveInt, type ClientFlags } from '../client.js';
import { line, printJson } from '../output.js';
import { waitAndReport } from '../wait.js';

interface SqlFlags extends ClientFlags {
  wait?: boolean;
  timeout?: number;
}

export function registerSqlCommand(program: Command): void {
  clientCommand(program.command('sql').argument('<statement>', 'one COPY INTO statement (quote it for the shell)'))
    .description('run a COPY INTO statement: an export to, or an import from, an object store, a URL or a server folder')
    .option('--wait', 'wait for the job to end, showing its progress')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this many seconds (exit 5)', positiveInt('--timeout'))
    .addHelpText(
      'after',
      "\nExamples:\n  tableport sql \"COPY INTO 's3://bucket/air/' FROM air CONNECTION = (region = 'us-east-1') FILE_FORMAT = (TYPE = 'CSV')\" --wait\n" +
        '  tableport sql "COPY INTO air FROM \'https://example.com/air.csv\'" --json',
    )
    .action(async (statement: string, flags: SqlFlags) => {
      const tp = connect(flags);
      const job = await tp.sql(statement);
      if (flags.wait) return waitAndReport(tp, job, flags);
      if (flags.json) return printJson({ status: 'ok', job_id: job.id });
      line(`Queued job ${job.id}; the result will be emailed to you.`);
      line(`Follow it with: tableport jobs wait ${job.id}`);
    });
}
