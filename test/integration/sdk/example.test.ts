/** The SDK example in examples/ (and the README) runs as written against a real server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/sdk-quickstart.ts', import.meta.url));
let server: TestServer;
let dir: string;
before(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'tp-example-'));
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('examples/sdk-quickstart.ts exports, downloads and re-imports the rows', { timeout: 120_000 }, async () => {
  const { token } = await server.createUser();
  const out = join(dir, 'orders.csv');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', EXAMPLE, out], {
    env: { ...process.env, TABLEPORT_URL: server.baseUrl, TABLEPORT_TOKEN: token },
  });
  assert.match(stdout, /2 rows saved to/);
  assert.match(stdout, /retry in \d+ s/);
  assert.match(stdout, /2 rows imported into table/);
  const rows = parse(await readFile(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
  assert.deepEqual(
    rows.map((r) => [r.title, r.amount, r.paid]),
    [
      ['Coffee beans', '12.5', 'true'],
      ['Milk', '1.2', 'false'],
    ],
  );
});
