import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isReady, isReply, type Commands, type Ready } from './rpc.ts';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A process the benchmark forked, serving the commands `C`. */
export interface Child<C extends Commands<C>> {
  readonly name: string;
  readonly pid: number;
  readonly info: Ready['info'];
  call<K extends keyof C & string>(cmd: K, args: C[K]['args']): Promise<C[K]['result']>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Something to stop when the run ends, however it ends. */
interface Stoppable {
  readonly pid: () => number | undefined;
  readonly stop: () => Promise<void>;
}

const running = new Set<Stoppable>();

/** Registers a process started elsewhere (redis-server) so it is stopped with the others. */
export function track(stoppable: Stoppable): () => void {
  running.add(stoppable);
  return () => running.delete(stoppable);
}

/** Stops every process this run started, each by its own pid, newest first. */
export async function stopAll(): Promise<void> {
  for (const stoppable of [...running].reverse()) {
    await stoppable.stop().catch(() => undefined);
    running.delete(stoppable);
  }
}

// A last resort: if the run dies without stopping its children, they are killed by pid.
process.once('exit', () => {
  for (const stoppable of running) {
    const pid = stoppable.pid();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/**
 * Forks `bench/proc/<script>.ts` under tsx with the given environment (plus PATH and HOME) and
 * waits until it serves. `nodeArgs` go to node itself (e.g. `--cpu-prof`).
 */
export async function startChild<C extends Commands<C>>(
  script: string,
  env: Record<string, string>,
  options: { name?: string; nodeArgs?: readonly string[]; startTimeoutMs?: number } = {},
): Promise<Child<C>> {
  const name = options.name ?? script;
  const child: ChildProcess = fork(`${BENCH_DIR}proc/${script}.ts`, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.nodeArgs ?? [])],
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  child.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const waiting = pending.get(message.rpc);
    pending.delete(message.rpc);
    if (!waiting) return;
    if (message.ok) waiting.resolve(message.result);
    else waiting.reject(new Error(`${name}: ${message.error}`));
  });
  void exited.then(() => {
    for (const waiting of pending.values()) waiting.reject(new Error(`${name} exited:\n${tail}`));
    pending.clear();
  });

  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const untrack = track({ pid: () => child.pid, stop: () => stop(2_000) });
  void exited.then(untrack);

  const info = await new Promise<Ready['info']>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${tail}`));
    }, options.startTimeoutMs ?? 30_000);
    child.on('message', (message: unknown) => {
      if (isReady(message)) {
        clearTimeout(timer);
        resolve(message.info);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready:\n${tail}`));
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: no pid`);

  return {
    name,
    pid: child.pid,
    info,
    call: (cmd, args) =>
      new Promise((resolve, reject) => {
        const rpc = nextId++;
        pending.set(rpc, { resolve: resolve, reject });
        child.send({ rpc, cmd, args });
      }),
    stop,
  };
}
