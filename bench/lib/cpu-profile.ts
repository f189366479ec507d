/**
 * A V8 .cpuprofile (from `node --cpu-prof`) summed up: self time per function and per file, as
 * shares of the time the process was not idle.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  where: string;
  self_ms: number;
  /** Share of the non-idle time. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  total_ms: number;
  busy_ms: number;
  functions: ProfileLine[];
  files: ProfileLine[];
}

export async function summariseProfile(path: string, root: string, top = 25): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of p.samples.entries()) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fns = new Map<string, ProfileLine>();
  const files = new Map<string, ProfileLine>();
  let total = 0;
  let idle = 0;
  const short = (url: string) => {
    const path = url.replace(/^file:\/\//, '');
    if (!path) return '';
    const rel = relative(root, path);
    return rel.startsWith('..') ? path : rel;
  };
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) throw new Error(`${path}: a sample names node ${id}, which the profile does not list`);
    const ms = us / 1000;
    total += ms;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const file = short(url) || functionName;
    // tsx's transpiled modules report line 0 for everything: the name and file are what is known.
    const where = url ? (lineNumber > 0 ? `${file}:${lineNumber + 1}` : file) : '';
    const key = `${functionName}@${where}`;
    const f = fns.get(key) ?? { name: functionName || '(anonymous)', where, self_ms: 0, pct: 0 };
    f.self_ms += ms;
    fns.set(key, f);
    const g = files.get(file) ?? { name: file, where: '', self_ms: 0, pct: 0 };
    g.self_ms += ms;
    files.set(file, g);
  }
  const busy = total - idle;
  const rank = (m: Map<string, ProfileLine>) =>
    [...m.values()]
      .sort((a, b) => b.self_ms - a.self_ms)
      .slice(0, top)
      .map((l) => ({ ...l, self_ms: Math.round(l.self_ms), pct: Math.round((l.self_ms / busy) * 1000) / 10 }));
  return { file: path, total_ms: Math.round(total), busy_ms: Math.round(busy), functions: rank(fns), files: rank(files) };
}

export function renderProfile(s: ProfileSummary): string {
  const lines = [`${s.file}: ${(s.busy_ms / 1000).toFixed(1)} s busy of ${(s.total_ms / 1000).toFixed(1)} s`, '', 'self time by function:'];
  for (const f of s.functions)
    lines.push(`  ${f.pct.toFixed(1).padStart(5)} %  ${String(f.self_ms).padStart(7)} ms  ${f.name}  ${f.where}`);
  lines.push('', 'self time by file:');
  for (const f of s.files) lines.push(`  ${f.pct.toFixed(1).padStart(5)} %  ${String(f.self_ms).padStart(7)} ms  ${f.name}`);
  return lines.join('\n');
}
