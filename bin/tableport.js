#!/usr/bin/env node
// The `tableport` command. The sources are TypeScript run through tsx, so `npm ci` is the only
// set-up step: there is no build to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
