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

/** What {@link startCpu} measured over its window. */
export interface CpuWindow {
  /** CPU seconds per role. */
  readonly byRole: Record<string, number>;
  /** CPU seconds the rest of the machine used meanwhile (other work competing for the cores). */
  readonly others: number;
  readonly wallSeconds: number;
}

/**
 * CPU seconds per role between {@link startCpu} and the returned stop function, and what every
 * other process on the machine used in the same window.
 */
export function startCpu(roles: Roles): () => CpuWindow {
  const read = () =>
    Object.fromEntries(
      Object.entries(roles).map(([role, pids]) => [role, pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)]),
    );
  const before = read();
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  return () => {
    const after = read();
    const byRole = Object.fromEntries(
      Object.entries(after).map(([role, used]) => [role, used - (before[role] ?? 0)]),
    );
    const ours = Object.values(byRole).reduce((sum, used) => sum + used, 0);
    return {
      byRole,
      others: Math.max(0, machineBusySeconds() - machineBefore - ours),
      wallSeconds: (performance.now() - started) / 1000,
    };
  };
}

/** Busy CPU seconds of the whole machine so far (every process), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal ...
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS;
}
