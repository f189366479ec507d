/**
 * The SDK from end to end: create a table, add rows, export them to CSV, wait for the job,
 * download the file, and import it into a second table.
 *
 *   export TABLEPORT_URL=http://localhost:3000
 *   export TABLEPORT_TOKEN=$(npx tableport users add --email you@example.com | tail -n 1)
 *   npx tsx examples/sdk-quickstart.ts [./orders.csv]
 */
import { TablePort, TooFrequentError, JobFailedError } from 'tableport/sdk';

const tp = new TablePort({
  baseUrl: process.env.TABLEPORT_URL ?? 'http://localhost:3000',
  token: process.env.TABLEPORT_TOKEN ?? '',
});
const outFile = process.argv[2] ?? './orders.csv';

// 1. A table with a schema, and a few rows (created_at keeps an original creation time).
const orders = await tp.createTable({
  name: `orders_${Date.now()}`,
  schema: {
    fields: [
      { name: 'title', type: 'string' },
      { name: 'amount', type: 'number' },
      { name: 'paid', type: 'boolean' },
    ],
  },
});
await tp.table(orders.id).insert([
  { title: 'Coffee beans', amount: 12.5, paid: true, created_at: 1_714_521_600 },
  { title: 'Milk', amount: 1.2, paid: false },
]);
console.log(`table ${orders.id} (${orders.name}) has ${(await tp.getTable(orders.id)).row_count} rows`);

// 2. Export every row to CSV; the job runs in the background and the result is also emailed.
const exportJob = await tp.table(orders.id).export({ fileType: 'csv' });
const exported = await exportJob.wait({
  timeoutMs: 5 * 60_000,
  onProgress: (job) => console.log(`export ${job.id}: ${job.status} ${job.progress}%`),
});
const file = await exportJob.download(outFile);
console.log(`${exported.rows} rows saved to ${file.path} (${file.bytes} bytes)`);

// 3. Exports of one table are allowed once a minute: the error says how long to wait.
try {
  await tp.table(orders.id).export({ fileType: 'json' });
} catch (err) {
  if (!(err instanceof TooFrequentError)) throw err;
  console.log(`a second export now is refused: retry in ${err.retryAfterSeconds} s`);
}

// 4. Import the file into a new table with the same schema. All rows are written, or none.
const copy = await tp.createTable({ name: `${orders.name}_copy`, schema: orders.schema });
const importJob = await tp.table(copy.id).import(file.path);
try {
  const imported = await importJob.wait({ timeoutMs: 5 * 60_000 });
  console.log(`${imported.rows} rows imported into table ${copy.id}`);
} catch (err) {
  if (err instanceof JobFailedError) for (const e of err.errors) console.error(`line ${e.line}: ${e.error_msg}`);
  throw err;
}

// 5. Read the rows back, page after page.
for await (const row of tp.table(copy.id).rows()) console.log(row.id, row.title, row.amount, row.paid);
