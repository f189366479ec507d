/**
 * Prints what CPU profiles spent their time on:
 * `node --import tsx bench/profile-summary.ts [--top N] FILE.cpuprofile…`.
 * `npm run bench -- --cpu-prof` writes the worker's profile and prints this for it. Node writes one
 * profile per thread; under tsx the second one is the module loader's.
 */
import { renderProfile, summariseProfile } from './lib/cpu-profile.js';
import { REPO } from './lib/service.js';

const args = process.argv.slice(2);
let top = 25;
const at = args.indexOf('--top');
if (at !== -1) {
  top = Number(args[at + 1]);
  args.splice(at, 2);
}
if (args.length === 0 || !Number.isInteger(top) || top <= 0) {
  console.error('usage: node --import tsx bench/profile-summary.ts [--top N] FILE.cpuprofile…');
  process.exit(2);
}
for (const file of args) console.log(`${renderProfile(await summariseProfile(file, REPO, top))}\n`);
