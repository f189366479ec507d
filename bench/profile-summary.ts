/**
 * Prints what a CPU profile spent its time on: `node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]`.
 * `npm run bench -- --cpu-prof` writes the worker's profile and prints this for it.
 */
import { renderProfile, summariseProfile } from './lib/cpu-profile.js';
import { REPO } from './lib/service.js';

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]');
  process.exit(2);
}
console.log(renderProfile(await summariseProfile(file, REPO, top ? Number(top) : 25)));
