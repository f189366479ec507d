/** `tableport tables list|create|show|delete`. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { FIELD_TYPES, type FieldSchema, type Table, type TableSchema } from '../../sdk/index.js';
import { clientCommand, connect, resolveTable, UsageError, type ClientFlags } from '../client.js';
import { describeTable, line, printJson, printTable, time } from '../output.js';

export function registerTablesCommands(program: Command): void {
  const tables = program
    .command('tables')
    .description('list, create, show and delete your tables')
    .addHelpText('after', '\nExample:\n  tableport tables list');

  clientCommand(tables.command('list'))
    .description('list your tables')
    .addHelpText('after', '\nExample:\n  TABLEPORT_URL=http://localhost:3000 TABLEPORT_TOKEN=... tableport tables list --json')
    .action(async (flags: ClientFlags) => {
      const tp = connect(flags);
      const all: Table[] = [];
      for await (const t of tp.tables()) all.push(t);
      if (flags.json) return printJson(all);
      if (all.length === 0) return line('No tables yet. Create one with: tableport tables create NAME --field title:string');
      printTable(
        ['ID', 'NAME', 'ROWS', 'FIELDS', 'CREATED'],
        all.map((t) => [t.id, t.name, t.row_count, t.schema.fields.map((f) => `${f.name}:${f.type}`).join(','), time(t.created_at)]),
      );
    });

  clientCommand(tables.command('create').argument('<name>', "the new table's name"))
    .description('create a table with a schema')
    .option('--field <name:type>', `a field, repeatable; types: ${FIELD_TYPES.join(', ')}`, collect, [])
    .option('--schema <json|@file>', 'the whole schema as JSON, {"fields": [...]}, or @path to a JSON file')
    .addHelpText(
      'after',
      '\nExamples:\n  tableport tables create orders --field title:string --field amount:number --field paid:boolean\n' +
        '  tableport tables create orders --schema @orders.schema.json --json',
    )
    .action(async (name: string, flags: ClientFlags & { field: string[]; schema?: string }) => {
      const schema = await schemaFrom(flags);
      const table = await connect(flags).createTable({ name, schema });
      if (flags.json) return printJson(table);
      line(`Created table ${table.id}: ${table.name} (${table.schema.fields.length} fields).`);
    });

  clientCommand(tables.command('show').argument('<table>', 'table id or name'))
    .description('show a table: its schema and row count')
    .addHelpText('after', '\nExample:\n  tableport tables show orders')
    .action(async (ref: string, flags: ClientFlags) => {
      const table = await resolveTable(connect(flags), ref);
      if (flags.json) return printJson(table);
      describeTable(table);
    });

  clientCommand(tables.command('delete').argument('<table>', 'table id or name'))
    .description('delete a table and all its rows')
    .addHelpText('after', '\nExample:\n  tableport tables delete 42')
    .action(async (ref: string, flags: ClientFlags) => {
      const tp = connect(flags);
      const table = await resolveTable(tp, ref);
      await tp.deleteTable(table.id);
      if (flags.json) return printJson({ deleted: true, id: table.id, name: table.name });
      line(`Deleted table ${table.id}: ${table.name}.`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function schemaFrom(flags: { field: string[]; schema?: string }): Promise<TableSchema> {
  if (flags.schema && flags.field.length) throw new UsageError('Give either --schema or --field, not both.');
  const spec = flags.schema;
  if (spec) {
    const text = spec.startsWith('@')
      ? await readFile(spec.slice(1), 'utf8').catch((err: Error) => {
          throw new UsageError(`Cannot read ${spec.slice(1)}: ${err.message}`);
        })
      : spec;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError('--schema is not valid JSON.');
    }
    // The server checks the schema itself; only the outer shape is needed to send it.
    if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as TableSchema).fields)) {
      throw new UsageError('--schema must be {"fields": [{"name": ..., "type": ...}, ...]}.');
    }
    return parsed as TableSchema;
  }
  const fields: FieldSchema[] = flags.field.map((spec) => {
    const m = /^([^:]+):([a-z]+)$/.exec(spec);
    const name = m?.[1];
    const type = FIELD_TYPES.find((t) => t === m?.[2]);
    if (!name || !type) {
      throw new UsageError(`--field ${spec}: expected NAME:TYPE with TYPE one of ${FIELD_TYPES.join(', ')}.`);
    }
    return { name, type };
  });
  return { fields };
}
