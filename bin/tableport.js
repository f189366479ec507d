#!/usr/bin/env node
// The `tableport` command. It runs the compiled JavaScript in dist/ when it is there (`npm ci`
// builds it through `prepare`): about 30 MB less memory than compiling TypeScript on the fly.
// Without a build, or with TABLEPORT_FROM_SOURCE=1 (for development), it runs the sources through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
if (process.env.TABLEPORT_FROM_SOURCE !== '1' && existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
await main(process.argv);
