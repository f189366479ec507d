/** `tableport schedules create|list|show|update|pause|resume|delete|runs`: exports that run themselves. */
import { Option, type Command } from 'commander';
import type { Schedule } from '../../sdk/index.js';
import { clientCommand, connect, positiveInt, resolveTable, UsageError, type ClientFlags } from '../client.js';
import { line, printJson, printTable, time } from '../output.js';
import { connectionOption, selectionOptions, type ExportFlags } from './transfer.command.js';

interface CreateFlags extends Omit<ExportFlags, 'mode' | 'start' | 'end' | 'wait' | 'out' | 'timeout' | 'changesSince'> {
  table?: string;
  tables?: string;
  every?: string;
  cron?: string;
  timezone?: string;
  mode?: 'all' | 'changes';
}

interface UpdateFlags extends ClientFlags {
  every?: string;
  cron?: string;
  timezone?: string;
  mode?: 'all' | 'changes';
}

function when(s: Schedule): string {
  return s.every ? `every ${s.every}` : `${s.cron ?? ''} (${s.timezone})`;
}

function describe(s: Schedule): void {
  line(`Schedule ${s.id}${s.paused ? ' (paused)' : ''}`);
  line(
    `  what:     ${s.table_id !== null ? `table ${s.table_id}` : `bundle of ${s.tables?.length ? s.tables.join(', ') : 'all your tables'}`}, ${s.mode === 'changes' ? 'changes since the last run' : 'all rows'}`,
  );
  line(`  when:     ${when(s)}`);
  line(`  export:   ${JSON.stringify(s.export)}`);
  line(`  last run: ${s.last_run_at ? `${time(s.last_run_at)}${s.last_job_id ? ` (job ${s.last_job_id})` : ''}` : 'not yet'}`);
  line(`  next run: ${s.next_run_at ? time(s.next_run_at) : s.paused ? '- (paused)' : 'unknown'}`);
  if (s.last_error) line(`  refused:  ${s.last_error.error_code}: ${s.last_error.error_msg}`);
}

export function registerSchedulesCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('exports that run themselves: every so often or by a cron pattern, all rows or only changes')
    .addHelpText('after', '\nExample:\n  tableport schedules create --table orders --every 1h --type csv');

  clientCommand(schedules.command('create'))
    .description("create a schedule of a table's export (--table) or of a bundle (--tables)")
    .option('--table <table>', 'table id or name')
    .option('--tables <names>', 'a bundle of these tables, comma-separated (all of yours: --tables all)')
    .option('--every <interval>', 'run every so often: 90s, 15m, 1h, 1d (at least 1m)')
    .option('--cron <pattern>', 'run at the times of a cron pattern, e.g. "0 3 * * *"')
    .option('--timezone <tz>', 'the IANA time zone of --cron (default UTC)')
    .addOption(new Option('--mode <mode>', 'all rows, or only what changed since the last successful run').choices(['all', 'changes']))
    .option('--type <type>', 'file type: csv, json, ndjson or sql (parquet, xlsx where the server has them)')
    .option('--gzip', 'compress the file (its name gains .gz)')
    .option('--csv-delimiter <char>', 'CSV: the cell separator (default ,)')
    .option('--no-csv-header', 'CSV: no header line')
    .option('--csv-bom', 'CSV: start with a UTF-8 byte order mark, for Excel')
    .option('--where <json>', 'only rows matching this MinApp query, e.g. \'{"paid": true}\'')
    .option('--include-keys <fields>', 'only these columns, comma-separated, in this order')
    .option('--exclude-keys <fields>', 'every column but these, comma-separated')
    .option('--order-by <keys>', 'comma-separated sort keys, - for descending (default created_at)')
    .option('--destination <url>', 'write each file to s3://, gcs://, azblob:// or file:/// (a trailing / gets the generated name)')
    .option('--connection <json>', "the destination's connection options as JSON, or @file.json (default: $TABLEPORT_CONNECTION)")
    .addHelpText(
      'after',
      '\nExamples:\n  tableport schedules create --table orders --every 1h --type csv\n' +
        '  tableport schedules create --table orders --cron "0 3 * * *" --timezone Asia/Shanghai --mode changes --type ndjson --destination s3://lake/orders/ --connection @s3.json\n' +
        '  tableport schedules create --tables all --every 1d',
    )
    .action(async (flags: CreateFlags) => {
      if ((flags.table === undefined) === (flags.tables === undefined))
        throw new UsageError('Give --table (one table) or --tables (a bundle).');
      if ((flags.every === undefined) === (flags.cron === undefined)) throw new UsageError('Give --every or --cron.');
      const tp = connect(flags);
      const timing = {
        ...(flags.every !== undefined ? { every: flags.every } : {}),
        ...(flags.cron !== undefined ? { cron: flags.cron } : {}),
        ...(flags.timezone !== undefined ? { timezone: flags.timezone } : {}),
      };
      let s: Schedule;
      if (flags.table !== undefined) {
        if (!flags.type) throw new UsageError('--type is needed for a table schedule (csv, json, ndjson, sql, ...).');
        const connection = connectionOption(flags.connection);
        if (connection && !flags.destination) throw new UsageError('--connection goes with --destination.');
        const table = await resolveTable(tp, flags.table);
        s = await tp.schedules.create({
          tableId: table.id,
          ...timing,
          ...(flags.mode !== undefined ? { mode: flags.mode } : {}),
          export: {
            fileType: flags.type as 'csv',
            ...(flags.gzip ? { compression: 'gzip' as const } : {}),
            ...(flags.csvDelimiter !== undefined ? { csvDelimiter: flags.csvDelimiter } : {}),
            ...(flags.csvHeader === false ? { csvHeader: false } : {}),
            ...(flags.csvBom ? { csvBom: true } : {}),
            ...(flags.destination !== undefined ? { destination: flags.destination } : {}),
            ...(connection ? { connection } : {}),
            ...selectionOptions(flags),
          },
        });
      } else {
        if (flags.mode === 'changes') throw new UsageError('--mode changes is for one table (--table); a bundle is exported whole.');
        const tables =
          flags.tables === 'all'
            ? []
            : (flags.tables ?? '')
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean);
        s = await tp.schedules.create({ tables, ...timing, export: flags.gzip ? { compression: 'gzip' } : {} });
      }
      if (flags.json) return printJson(s);
      describe(s);
      // The id alone on the last line, for scripts.
      line(s.id);
    });

  clientCommand(schedules.command('list'))
    .description('list your schedules, newest first')
    .option('--limit <n>', 'how many to show', positiveInt('--limit'), 50)
    .addHelpText('after', '\nExample:\n  tableport schedules list --json')
    .action(async (flags: ClientFlags & { limit: number }) => {
      const all: Schedule[] = [];
      for await (const s of connect(flags).schedules.all({ limit: Math.min(flags.limit, 100) })) {
        all.push(s);
        if (all.length >= flags.limit) break;
      }
      if (flags.json) return printJson(all);
      if (all.length === 0) return line('No schedules yet.');
      printTable(
        ['ID', 'WHAT', 'WHEN', 'MODE', 'STATE', 'LAST RUN', 'NEXT RUN'],
        all.map((s) => [
          s.id,
          s.table_id !== null ? `table ${s.table_id}` : 'bundle',
          when(s),
          s.mode,
          s.paused ? 'paused' : s.last_error ? `refused: ${s.last_error.error_code}` : 'active',
          s.last_run_at ? time(s.last_run_at) : '-',
          s.next_run_at ? time(s.next_run_at) : '-',
        ]),
      );
    });

  clientCommand(schedules.command('show').argument('<schedule>', 'schedule id'))
    .description('show a schedule: what, when, its last run')
    .addHelpText('after', '\nExample:\n  tableport schedules show 5f0c1a2e-...')
    .action(async (id: string, flags: ClientFlags) => {
      const s = await connect(flags).schedules.get(id);
      if (flags.json) return printJson(s);
      describe(s);
    });

  clientCommand(schedules.command('update').argument('<schedule>', 'schedule id'))
    .description('change when a schedule runs (--every, or --cron and --timezone) or what each run exports (--mode)')
    .option('--every <interval>', 'run every so often instead: 90s, 15m, 1h, 1d (at least 1m; counts from now)')
    .option('--cron <pattern>', 'run at the times of a cron pattern instead, e.g. "0 3 * * *"')
    .option('--timezone <tz>', 'the IANA time zone of the cron pattern (kept when left out)')
    .addOption(
      new Option('--mode <mode>', 'all rows, or only what changed since the last successful run (another mode starts over)').choices([
        'all',
        'changes',
      ]),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  tableport schedules update 5f0c1a2e-... --every 6h\n' +
        '  tableport schedules update 5f0c1a2e-... --cron "0 3 * * *" --timezone Asia/Shanghai --mode changes',
    )
    .action(async (id: string, flags: UpdateFlags) => {
      if (flags.every !== undefined && flags.cron !== undefined) throw new UsageError('Give --every or --cron, not both.');
      if (flags.every !== undefined && flags.timezone !== undefined)
        throw new UsageError('--timezone is the time zone of a cron pattern: it goes with --cron, not --every.');
      if (flags.every === undefined && flags.cron === undefined && flags.timezone === undefined && flags.mode === undefined)
        throw new UsageError('Say what changes: --every, --cron (with --timezone), --timezone or --mode.');
      const s = await connect(flags).schedules.update(id, {
        ...(flags.every !== undefined ? { every: flags.every } : {}),
        ...(flags.cron !== undefined ? { cron: flags.cron } : {}),
        ...(flags.timezone !== undefined ? { timezone: flags.timezone } : {}),
        ...(flags.mode !== undefined ? { mode: flags.mode } : {}),
      });
      if (flags.json) return printJson(s);
      describe(s);
    });

  for (const [name, verb, done] of [
    ['pause', 'stop starting runs until resumed', 'paused'],
    ['resume', 'start runs on the schedule again', 'resumed'],
  ] as const) {
    clientCommand(schedules.command(name).argument('<schedule>', 'schedule id'))
      .description(verb)
      .addHelpText('after', `\nExample:\n  tableport schedules ${name} 5f0c1a2e-...`)
      .action(async (id: string, flags: ClientFlags) => {
        const s = await connect(flags).schedules[name](id);
        if (flags.json) return printJson(s);
        line(`Schedule ${s.id} ${done}.`);
      });
  }

  clientCommand(schedules.command('delete').argument('<schedule>', 'schedule id'))
    .description('delete a schedule (its past runs stay, as jobs)')
    .addHelpText('after', '\nExample:\n  tableport schedules delete 5f0c1a2e-...')
    .action(async (id: string, flags: ClientFlags) => {
      await connect(flags).schedules.delete(id);
      if (flags.json) return printJson({ status: 'ok' });
      line(`Schedule ${id} deleted.`);
    });

  clientCommand(schedules.command('runs').argument('<schedule>', 'schedule id'))
    .description("list a schedule's runs (ordinary jobs), newest first")
    .option('--limit <n>', 'how many to show', positiveInt('--limit'), 20)
    .addHelpText('after', '\nExample:\n  tableport schedules runs 5f0c1a2e-... --limit 5')
    .action(async (id: string, flags: ClientFlags & { limit: number }) => {
      const page = await connect(flags).schedules.runs(id, { limit: Math.min(flags.limit, 100) });
      if (flags.json) return printJson(page.objects);
      if (page.objects.length === 0) return line('No runs yet.');
      printTable(
        ['JOB', 'STATUS', 'ROWS', 'CREATED', 'FINISHED'],
        page.objects.map((j) => [j.id, j.status, j.rows, time(j.created_at), j.finished_at ? time(j.finished_at) : '-']),
      );
    });
}
