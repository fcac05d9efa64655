import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat.
 * Read from outside, so the same meter works for Node children and redis-server alike.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces or parentheses; fields after the last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** The processes measured in one run, grouped by the role they play. */
export type Roles = Readonly<Record<string, readonly number[]>>;

/** CPU seconds per role between {@link startCpu} and the returned stop function. */
export function startCpu(roles: Roles): () => Record<string, number> {
  const read = () =>
    Object.fromEntries(
      Object.entries(roles).map(([role, pids]) => [role, pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)]),
    );
  const before = read();
  return () => {
    const after = read();
    return Object.fromEntries(Object.entries(after).map(([role, used]) => [role, used - (before[role] ?? 0)]));
  };
}
