/** `tableport jobs list|show|wait|cancel|retry|undo`. */
import type { Command } from 'commander';
import type { Job, JobStatus, JobType } from '../../sdk/index.js';
import { clientCommand, connect, positiveInt, type ClientFlags } from '../client.js';
import { describeJob, line, printJson, printTable, time } from '../output.js';
import { checkOut, waitAndReport } from '../wait.js';

export function registerJobsCommands(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('follow your export and import jobs')
    .addHelpText('after', '\nExample:\n  tableport jobs list');

  clientCommand(jobs.command('list'))
    .description('list your jobs, newest first')
    .option('--limit <n>', 'how many to show', positiveInt('--limit'), 20)
    .option('--status <list>', 'only jobs in these states, comma-separated (queued, running, succeeded, failed, cancelled)')
    .option('--type <list>', 'only jobs of these types, comma-separated (export, import, bundle_export, bundle_import, undo)')
    .option('--table <id>', "only this table's jobs", positiveInt('--table'))
    .addHelpText(
      'after',
      '\nExamples:\n  tableport jobs list --limit 5 --json\n  tableport jobs list --status failed,cancelled --type import',
    )
    .action(async (flags: ClientFlags & { limit: number; status?: string; type?: string; table?: number }) => {
      const all: Job[] = [];
      const filter = {
        ...(flags.status ? { status: flags.status.split(',') as JobStatus[] } : {}),
        ...(flags.type ? { type: flags.type.split(',') as JobType[] } : {}),
        ...(flags.table !== undefined ? { tableId: flags.table } : {}),
      };
      for await (const j of connect(flags).jobs({ limit: Math.min(flags.limit, 100), ...filter })) {
        all.push(j);
        if (all.length >= flags.limit) break;
      }
      if (flags.json) return printJson(all);
      if (all.length === 0) return line('No jobs yet.');
      printTable(
        ['ID', 'TYPE', 'TABLE', 'STATUS', 'PROGRESS', 'ROWS', 'CREATED'],
        all.map((j) => [j.id, j.type, j.table_id ?? '-', j.status, `${j.progress}%`, j.rows, time(j.created_at)]),
      );
    });

  clientCommand(jobs.command('show').argument('<job>', 'job id'))
    .description('show a job: status, progress, rows, download link, errors')
    .addHelpText('after', '\nExample:\n  tableport jobs show 0b9d2c1e --json')
    .action(async (id: string, flags: ClientFlags) => {
      const job = await connect(flags).job(id).status();
      if (flags.json) return printJson(job);
      describeJob(job);
    });

  clientCommand(jobs.command('cancel').argument('<job>', 'job id'))
    .description('cancel a queued or running job: it writes no rows and keeps no file')
    .addHelpText('after', '\nExample:\n  tableport jobs cancel 0b9d2c1e')
    .action(async (id: string, flags: ClientFlags) => {
      const job = await connect(flags).job(id).cancel();
      if (flags.json) return printJson(job);
      line(`Job ${job.id} cancelled.`);
    });

  clientCommand(jobs.command('retry').argument('<job>', 'job id'))
    .description('run a failed or cancelled job again, as a new job with the same parameters')
    .addHelpText('after', '\nExample:\n  tableport jobs retry 0b9d2c1e')
    .action(async (id: string, flags: ClientFlags) => {
      const job = await connect(flags).retryJob(id);
      if (flags.json) return printJson({ status: 'ok', job_id: job.id });
      // The id alone on the last line, for scripts.
      line(job.id);
    });

  clientCommand(jobs.command('undo').argument('<job>', 'the id of a succeeded import'))
    .description(
      'undo a succeeded import, as a new job: the rows it inserted are deleted, the rows it updated put back as they were (refused when they changed since)',
    )
    .option('--wait', 'wait for the undo to end, showing its progress')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this many seconds (exit 5)', positiveInt('--timeout'))
    .addHelpText('after', '\nExample:\n  tableport jobs undo 0b9d2c1e --wait')
    .action(async (id: string, flags: ClientFlags & { wait?: boolean; timeout?: number }) => {
      const tp = connect(flags);
      const job = await tp.undoJob(id);
      if (flags.wait) return waitAndReport(tp, job, flags);
      if (flags.json) return printJson({ status: 'ok', job_id: job.id });
      line(`Queued undo job ${job.id} of import ${id}.`);
      line(`Follow it with: tableport jobs wait ${job.id}`);
    });

  clientCommand(jobs.command('wait').argument('<job>', 'job id'))
    .description('wait for a job to end, showing its progress; exit 1 if it failed')
    .option('--out <file>', "download a finished export here (a directory keeps the server's file name)")
    .option('--timeout <seconds>', 'give up waiting after this many seconds (exit 5)', positiveInt('--timeout'))
    .addHelpText('after', '\nExample:\n  tableport jobs wait 0b9d2c1e --out ./exports/')
    .action(async (id: string, flags: ClientFlags & { out?: string; timeout?: number }) => {
      await checkOut(flags.out);
      const tp = connect(flags);
      await waitAndReport(tp, tp.job(id), flags);
    });
}
