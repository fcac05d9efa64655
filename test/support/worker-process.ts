import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A `workers/main.ts` process, started with the given environment. */
export interface WorkerProcess {
  readonly pid: number;
  /** Resolves when the process printed `ready`; rejects if it exits first. */
  readonly ready: Promise<void>;
  readonly output: () => string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) => {
      reject(new Error(`worker exited (${code}) before ready:\n${output}`));
    });
  });
  if (child.pid === undefined) throw new Error('could not start the worker process');
  return {
    pid: child.pid,
    ready,
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
