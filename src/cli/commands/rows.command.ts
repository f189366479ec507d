/** `tableport rows list|get|update|delete`: the records API from the command line. */
import type { Command } from 'commander';
import type { RecordUpdate, TableRow, WhereQuery } from '../../sdk/index.js';
import { clientCommand, connect, positiveInt, resolveTable, UsageError, type ClientFlags } from '../client.js';
import { line, printJson, printTable, time } from '../output.js';

interface ListFlags extends ClientFlags {
  where?: string;
  orderBy?: string;
  limit?: number;
  offset?: number;
}

function jsonObject(flag: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} is not valid JSON.`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${flag} must be a JSON object.`);
  return v as Record<string, unknown>;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s.replace(/\s/g, ' ');
}

export function registerRowsCommands(program: Command): void {
  const rows = program
    .command('rows')
    .description("list, show, update and delete a table's rows")
    .addHelpText('after', `\nExample:\n  tableport rows list orders --where '{"amount": {"$gt": 10}}' --order-by -amount`);

  clientCommand(rows.command('list').argument('<table>', 'table id or name'))
    .description('list rows, optionally those matching a MinApp query, in an order')
    .option('--where <json>', 'a MinApp query, e.g. \'{"title": {"$contains": "milk"}}\'')
    .option('--order-by <keys>', 'comma-separated fields, - for descending (default: -created_at, newest first)')
    .option('--limit <n>', 'at most this many rows (default: all of them)', positiveInt('--limit'))
    .option('--offset <n>', 'skip this many rows first', (v: string) => {
      if (!/^\d+$/.test(v)) throw new UsageError('--offset must be 0 or more.');
      return Number(v);
    })
    .addHelpText(
      'after',
      `\nExamples:\n  tableport rows list orders --where '{"paid": true}' --order-by -amount,title --limit 10\n  tableport rows list 42 --json`,
    )
    .action(async (ref: string, flags: ListFlags) => {
      const where = flags.where === undefined ? undefined : (jsonObject('--where', flags.where) as WhereQuery);
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      const out: TableRow[] = [];
      const query = {
        ...(where ? { where } : {}),
        orderBy: flags.orderBy ?? '-created_at',
        ...(flags.offset !== undefined ? { offset: flags.offset } : {}),
        ...(flags.limit !== undefined ? { limit: Math.min(flags.limit, 1000) } : {}),
      };
      for await (const row of tp.table(table.id).rows(query)) {
        out.push(row);
        if (flags.limit !== undefined && out.length >= flags.limit) break;
      }
      if (flags.json) return printJson(out);
      if (out.length === 0) return line('No rows.');
      const names = ['id', ...table.schema.fields.map((f) => f.name), 'created_at'];
      printTable(
        names.map((n) => n.toUpperCase()),
        out.map((r) => names.map((n) => (n === 'created_at' ? time(r.created_at) : cell(r[n])))),
      );
    });

  clientCommand(rows.command('get').argument('<table>', 'table id or name').argument('<id>', 'row id'))
    .description('show one row as JSON')
    .addHelpText('after', '\nExample:\n  tableport rows get orders 6f1c0a...')
    .action(async (ref: string, id: string, flags: ClientFlags) => {
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      printJson(await tp.table(table.id).row(id).get());
    });

  clientCommand(rows.command('update').argument('<table>', 'table id or name').argument('<id>', 'row id'))
    .description('change fields of one row, atomically; prints the row as stored')
    .requiredOption('--set <json>', 'the changes: plain values and $incr_by, $append, $append_unique, $remove')
    .addHelpText('after', `\nExample:\n  tableport rows update orders 6f1c0a... --set '{"paid": true, "amount": {"$incr_by": 5}}'`)
    .action(async (ref: string, id: string, flags: ClientFlags & { set: string }) => {
      const changes = jsonObject('--set', flags.set) as RecordUpdate;
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      printJson(await tp.table(table.id).row(id).update(changes));
    });

  clientCommand(rows.command('delete').argument('<table>', 'table id or name').argument('<id>', 'row id'))
    .description('delete one row')
    .addHelpText('after', '\nExample:\n  tableport rows delete orders 6f1c0a...')
    .action(async (ref: string, id: string, flags: ClientFlags) => {
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      await tp.table(table.id).row(id).delete();
      if (flags.json) return printJson({ deleted: true, id });
      line(`Deleted row ${id} of table ${table.name}.`);
    });
}
