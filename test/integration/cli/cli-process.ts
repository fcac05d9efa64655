import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { waitFor } from '../../support/redis-server.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `tcli${randomBytes(5).toString('hex')}`;
}

/** The environment a spawned command sees: PATH and HOME, and only what the test gives. */
export function cleanEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env };
}

/** A `node bin/concord.mjs …` process. */
export interface CliProcess {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Polls stdout until `pattern` matches; rejects early if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` unless the process has already exited. */
  kill(signal: NodeJS.Signals): void;
  running(): boolean;
}

/** Every process spawned and not yet reaped, so afterEach can kill what a failed test left. */
const live = new Set<CliProcess>();

export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child: ChildProcess = spawn(process.execPath, ['bin/concord.mjs', ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start bin/concord.mjs');
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      live.delete(handle);
      resolve(code);
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const handle: CliProcess = {
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    running,
    kill: (signal) => {
      if (running()) child.kill(signal);
    },
    waitForOutput: async (pattern, timeoutMs = 30_000) => {
      let match: RegExpMatchArray | null = null;
      await waitFor(
        () => {
          match = pattern.exec(out);
          if (match) return true;
          if (!running()) throw new Error(`exited before printing ${pattern}:\n${out}\n${err}`);
          return false;
        },
        timeoutMs,
        `output matching ${pattern}`,
      );
      return match as unknown as RegExpMatchArray;
    },
  };
  live.add(handle);
  return handle;
}

/** Kills (SIGKILL, by pid) every process a test started and did not see exit. */
export async function killAll(): Promise<void> {
  const left = [...live];
  for (const proc of left) proc.kill('SIGKILL');
  await Promise.all(left.map((proc) => proc.exited));
}

/** Runs a one-shot command to its end. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCli(args, env);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** Deletes every key under `prefix` (ledger and queue keys alike). */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
