import { readFile } from 'node:fs/promises';

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (USER_HZ is 100 on Linux). */
export async function cpuSeconds(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
