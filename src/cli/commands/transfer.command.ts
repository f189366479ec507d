/** `tableport export TABLE` and `tableport import TABLE FILE`. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { FILE_TYPES } from '../../types/api.js';
import { clientCommand, connect, positiveInt, resolveTable, UsageError, type ClientFlags } from '../client.js';
import { line, printJson } from '../output.js';
import { checkOut, waitAndReport } from '../wait.js';

export interface ExportFlags extends ClientFlags {
  type: string;
  gzip?: boolean;
  csvDelimiter?: string;
  csvHeader?: boolean;
  csvBom?: boolean;
  csvEscapeFormulas?: boolean;
  mode?: 'all' | 'part';
  start?: string;
  end?: string;
  wait?: boolean;
  out?: string;
  timeout?: number;
  destination?: string;
  connection?: string;
  where?: string;
  includeKeys?: string;
  excludeKeys?: string;
  orderBy?: string;
  headers?: string;
  timestampKeys?: string;
  changesSince?: string;
}

/** The export selection flags as SDK options (comma-separated lists, a JSON `--where`). */
export function selectionOptions(
  flags: Pick<ExportFlags, 'where' | 'includeKeys' | 'excludeKeys' | 'orderBy' | 'headers' | 'timestampKeys'>,
) {
  const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()));
  let where: Record<string, unknown> | undefined;
  if (flags.where !== undefined) {
    try {
      where = JSON.parse(flags.where) as Record<string, unknown>;
    } catch {
      throw new UsageError('--where is not valid JSON.');
    }
  }
  const o = {
    where,
    includeKeys: list(flags.includeKeys),
    excludeKeys: list(flags.excludeKeys),
    orderBy: list(flags.orderBy),
    csvCustomizeHeaders: list(flags.headers),
    timestampConvertKeys: list(flags.timestampKeys),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

interface ImportFlags extends ClientFlags {
  csvDelimiter?: string;
  encoding?: string;
  decimalSeparator?: '.' | ',';
  sheet?: string;
  header?: boolean;
  columns?: string;
  mapping?: string;
  conflictKey?: string;
  onConflict?: 'error' | 'skip' | 'update';
  dryRun?: boolean;
  wait?: boolean;
  timeout?: number;
  filename?: string;
  connection?: string;
}

/** The flags of how a file is read (encoding, number format, sheet) as SDK options. */
function fileFlags(flags: ImportFlags): { encoding?: string; decimalSeparator?: '.' | ','; sheet?: string } {
  return {
    ...(flags.encoding !== undefined ? { encoding: flags.encoding } : {}),
    ...(flags.decimalSeparator !== undefined ? { decimalSeparator: flags.decimalSeparator } : {}),
    ...(flags.sheet !== undefined ? { sheet: flags.sheet } : {}),
  };
}

/** `--csv-delimiter`: one character, as the server takes it (a bad value is bad usage, exit 2, not a refusal). */
function csvDelimiterArg(value: string): string {
  const v = value === '\\t' ? '\t' : value;
  if (!/^[\x20-\x7e\t]$/.test(v) || v === '"')
    throw new InvalidArgumentError('--csv-delimiter must be one printable ASCII character (not ") or a tab.');
  return v;
}

/** `--encoding`: a name Node's decoders know (the server reads the same names). */
function encodingArg(value: string): string {
  try {
    new TextDecoder(value.trim());
  } catch {
    throw new InvalidArgumentError('--encoding must be a text encoding such as utf-8, utf-16le, gb18030, big5, shift_jis or windows-1252.');
  }
  return value.trim();
}

/** A location's scheme: such an import argument names a location, not a local file. */
const LOCATION_RE = /^(s3|gcs|azblob|https?|file):\/\//i;

/**
 * `--connection`: a JSON object, `@file.json`, or `-` unset with TABLEPORT_CONNECTION holding the
 * JSON (so keys need not appear in the process list or the shell history).
 */
export function connectionOption(value: string | undefined): Record<string, string | boolean> | undefined {
  const text =
    value === undefined ? process.env.TABLEPORT_CONNECTION : value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  if (text === undefined || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--connection must be a JSON object such as \'{"region": "us-east-1"}\', or @file.json.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--connection must be a JSON object.');
  return parsed as Record<string, string | boolean>;
}

/** `--mapping`: a JSON object of file column → field (or null), given inline or as @file.json. */
function mappingOption(value: string | undefined): Record<string, string | null> | undefined {
  if (value === undefined) return undefined;
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--mapping must be a JSON object such as \'{"E-mail": "email", "Notes": null}\', or @file.json.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--mapping must be a JSON object.');
  return parsed as Record<string, string | null>;
}

export function registerTransferCommands(program: Command): void {
  clientCommand(program.command('export').argument('<table>', 'table id or name'))
    .description("export a table's rows to a CSV or JSON file (a background job; the result is also emailed)")
    .addOption(
      new Option('--type <type>', 'file type: csv, json, ndjson or sql (parquet, xlsx where the server has them)')
        .choices(FILE_TYPES)
        .makeOptionMandatory(),
    )
    .option('--gzip', 'compress the file (its name gains .gz)')
    .option('--csv-delimiter <char>', 'CSV: the cell separator (default ,)', csvDelimiterArg)
    .option('--no-csv-header', 'CSV: no header line')
    .option('--csv-bom', 'CSV: start with a UTF-8 byte order mark, for Excel')
    .option('--csv-escape-formulas', "CSV: a ' before text cells starting with = + - @ TAB or CR, so spreadsheets do not run them")
    .addOption(new Option('--mode <mode>', 'all rows, or part: rows created in [--start, --end)').choices(['all', 'part']))
    .option('--start <time>', 'with part: created at or after; Unix seconds or ISO 8601 (2024-05-01T00:00:00Z)')
    .option('--end <time>', 'with part: created before; Unix seconds or ISO 8601')
    .option('--where <json>', 'only rows matching this MinApp query, e.g. \'{"paid": true}\'')
    .option('--include-keys <fields>', 'only these columns, comma-separated, in this order')
    .option('--exclude-keys <fields>', 'every column but these, comma-separated')
    .option('--order-by <keys>', 'comma-separated sort keys, - for descending (default created_at)')
    .option('--headers <names>', 'CSV header names, comma-separated, one per exported column')
    .option('--timestamp-keys <fields>', 'Unix-seconds columns to write as ISO 8601 UTC, comma-separated')
    .option(
      '--changes-since <time>',
      'only rows created or updated since then, and the ids deleted since (_deleted); Unix seconds or ISO 8601',
    )
    .option('--wait', 'wait for the job to end, showing its progress')
    .option('--out <file>', "download the file here when done (implies --wait); a directory keeps the server's file name")
    .option('--timeout <seconds>', 'with --wait: give up waiting after this many seconds (exit 5)', positiveInt('--timeout'))
    .option(
      '--destination <url>',
      'write the file to s3://, gcs://, azblob:// or file:/// instead of a download link (a trailing / gets the generated name)',
    )
    .option('--connection <json>', "the destination's connection options as JSON, or @file.json (default: $TABLEPORT_CONNECTION)")
    .addHelpText(
      'after',
      '\nExamples:\n  tableport export orders --type csv --wait --out orders.csv\n' +
        '  tableport export orders --type csv --destination s3://my-bucket/exports/ --connection @s3.json --wait\n' +
        '  tableport export 42 --type json --mode part --start 2024-05-01T00:00:00Z --end 2024-06-01T00:00:00Z --json',
    )
    .action(async (ref: string, flags: ExportFlags) => {
      const hasRange = flags.start !== undefined || flags.end !== undefined;
      if (flags.mode === 'all' && hasRange) throw new UsageError('--start and --end select part of the rows: use them with --mode part.');
      if (flags.mode === 'part' && !hasRange) throw new UsageError('--mode part needs --start, --end or both.');
      if (flags.out && flags.destination)
        throw new UsageError('--out downloads a file the server keeps; with --destination the file is written there instead.');
      await checkOut(flags.out);
      const connection = connectionOption(flags.connection);
      if (connection && !flags.destination) throw new UsageError('--connection goes with --destination.');
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      const job = await tp.table(table.id).export({
        fileType: flags.type as 'csv',
        mode: flags.mode ?? (hasRange ? 'part' : 'all'),
        ...(flags.gzip ? { compression: 'gzip' as const } : {}),
        ...(flags.csvDelimiter !== undefined ? { csvDelimiter: flags.csvDelimiter } : {}),
        ...(flags.csvHeader === false ? { csvHeader: false } : {}),
        ...(flags.csvBom ? { csvBom: true } : {}),
        ...(flags.csvEscapeFormulas ? { csvEscapeFormulas: true } : {}),
        ...(flags.start !== undefined ? { start: flags.start } : {}),
        ...(flags.end !== undefined ? { end: flags.end } : {}),
        ...(flags.changesSince !== undefined ? { changesSince: flags.changesSince } : {}),
        ...(flags.destination !== undefined ? { destination: flags.destination } : {}),
        ...(connection ? { connection } : {}),
        ...selectionOptions(flags),
      });
      if (flags.wait || flags.out) return waitAndReport(tp, job, flags);
      if (flags.json) return printJson({ status: 'ok', job_id: job.id });
      line(`Queued export job ${job.id} of table ${table.id} (${table.name}); the result will be emailed to you.`);
      line(`Follow it with: tableport jobs wait ${job.id} --out ${table.name}.${flags.type}`);
    });

  clientCommand(
    program
      .command('import')
      .argument('<table>', 'table id or name')
      .argument(
        '<file>',
        'a CSV, JSON, NDJSON (or Parquet, xlsx) file, gzip-compressed or not; - reads stdin (give --filename); or a location: s3://, gcs://, azblob://, https://, file:///',
      ),
  )
    .description('import a file into a table (a background job; all rows or none are written; the format is read from the content)')
    .option('--csv-delimiter <char>', 'CSV: the cell separator (default: found among , ; TAB |)', csvDelimiterArg)
    .option('--no-header', "CSV: the first line is data; columns are --columns or the table's fields in order")
    .option('--columns <names>', 'CSV without a header: its columns, comma-separated')
    .option(
      '--encoding <name>',
      'text files: their encoding, e.g. utf-16le, gb18030, big5, shift_jis, windows-1252 (default: detected)',
      encodingArg,
    )
    .addOption(
      new Option('--decimal-separator <char>', 'CSV number fields: the decimal separator (default: . or detected)').choices(['.', ',']),
    )
    .option('--sheet <name|n>', 'xlsx: the sheet to read, by name or 1-based index (default: the one matching the table)')
    .option('--mapping <json>', 'file column → field as JSON (null drops the column), or @file.json')
    .addOption(
      new Option('--on-conflict <what>', 'a row whose id (or --conflict-key) is already in the table').choices(['error', 'skip', 'update']),
    )
    .option(
      '--conflict-key <fields>',
      'with --on-conflict skip|update: the field(s) that find the existing row, comma-separated (default: id)',
    )
    .option('--dry-run', 'validate the whole file and write nothing')
    .option('--wait', 'wait for the job to end, showing its progress')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this many seconds (exit 5)', positiveInt('--timeout'))
    .option('--filename <name>', 'the name sent for the file, whose extension gives the format (needed with -)')
    .option('--connection <json>', "a location's connection options as JSON, or @file.json (default: $TABLEPORT_CONNECTION)")
    .addHelpText(
      'after',
      '\nExamples:\n  tableport import orders ./orders.csv --wait\n  gunzip -c rows.json.gz | tableport import 42 - --filename rows.json --wait --json\n' +
        '  tableport import orders s3://landing/orders/ --connection @s3.json --wait',
    )
    .action(async (ref: string, file: string, flags: ImportFlags) => {
      if (LOCATION_RE.test(file)) {
        const connection = connectionOption(flags.connection);
        const tp = connect(flags);
        const table = await resolveTable(tp, ref);
        if (flags.onConflict !== undefined || flags.dryRun) throw new UsageError('--on-conflict and --dry-run go with an uploaded file.');
        if (flags.conflictKey !== undefined) throw new UsageError('--conflict-key goes with --on-conflict, on an uploaded file.');
        const mapping = mappingOption(flags.mapping);
        const job = await tp.table(table.id).importFrom(file, {
          ...(connection ? { connection } : {}),
          ...(mapping ? { mapping } : {}),
          ...(flags.csvDelimiter !== undefined ? { csvDelimiter: flags.csvDelimiter } : {}),
          ...(flags.header === false ? { csvHeader: false } : {}),
          ...(flags.columns !== undefined ? { columns: flags.columns.split(',') } : {}),
          ...fileFlags(flags),
        });
        if (flags.wait) return waitAndReport(tp, job, flags);
        if (flags.json) return printJson({ status: 'ok', job_id: job.id });
        line(
          `Queued import job ${job.id} into table ${table.id} (${table.name}) from ${file.replace(/\?.*$/, '')}; the result will be emailed to you.`,
        );
        return line(`Follow it with: tableport jobs wait ${job.id}`);
      }
      if (flags.connection !== undefined) throw new UsageError('--connection goes with a location (s3://, gcs://, ...), not a local file.');
      if (file === '-' && !flags.filename) throw new UsageError('Reading stdin needs --filename NAME.csv or NAME.json to tell the format.');
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      const source = file === '-' ? process.stdin : file;
      const mapping = mappingOption(flags.mapping);
      const job = await tp.table(table.id).import(source, {
        ...(mapping ? { mapping } : {}),
        ...(flags.conflictKey !== undefined ? { conflictKey: flags.conflictKey } : {}),
        ...(flags.filename ? { filename: flags.filename } : {}),
        ...(flags.csvDelimiter !== undefined ? { csvDelimiter: flags.csvDelimiter } : {}),
        ...(flags.header === false ? { csvHeader: false } : {}),
        ...(flags.columns !== undefined ? { columns: flags.columns.split(',') } : {}),
        ...fileFlags(flags),
        ...(flags.onConflict !== undefined ? { onConflict: flags.onConflict } : {}),
        ...(flags.dryRun ? { dryRun: true } : {}),
      });
      if (flags.wait) return waitAndReport(tp, job, flags);
      if (flags.json) return printJson({ status: 'ok', job_id: job.id });
      line(`Queued import job ${job.id} into table ${table.id} (${table.name}); the result will be emailed to you.`);
      line(`Follow it with: tableport jobs wait ${job.id}`);
    });
}
