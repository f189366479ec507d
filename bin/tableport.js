#!/usr/bin/env node
// The `tableport` command. It runs the compiled JavaScript in dist/ when it is there (`npm ci`
// builds it through `prepare`): about 30 MB less memory than compiling TypeScript on the fly.
// Without a build, or with TABLEPORT_FROM_SOURCE=1 (for development), it runs the sources through
// tsx, a dev dependency: a production install (`npm ci --omit=dev`, the Docker image) has only dist/.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const fromSource = process.env.TABLEPORT_FROM_SOURCE === '1';
let main;
if (!fromSource && existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    const why = fromSource
      ? 'TABLEPORT_FROM_SOURCE=1 runs the TypeScript sources'
      : 'dist/ is not built, so the TypeScript sources would run';
    process.stderr.write(
      `tableport: ${why} through tsx, which is not installed (it is a dev dependency).\n` +
        'Run `npm run build` (with the dev dependencies installed: `npm ci`), or install the dev dependencies to run from source.\n',
    );
    process.exit(1);
  }
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
await main(process.argv);
