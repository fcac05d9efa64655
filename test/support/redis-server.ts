import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, privateRedisArgs } from '../../src/demo/redis.ts';

/** A private redis-server on 127.0.0.1, in its own temp dir, stopped by whoever started it. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  pid(): number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL) and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and dir (data survives when AOF is on). */
  start(): Promise<void>;
  /** Stops it and removes its dir. */
  destroy(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file with fsync every second, as in production. */
  readonly appendOnly?: boolean;
  readonly extraArgs?: readonly string[];
}

export { freePort };

/** Polls `condition` until it is true or `timeoutMs` passes. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function answersPing(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
}

/** Starts a private redis-server; retries on another port if the chosen one was taken. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      ...privateRedisArgs({ port, dir, appendOnly: options.appendOnly === true }),
      ...(options.extraArgs ?? []),
    ];
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    const failed = new Promise<boolean>((resolve) => {
      proc.once('error', () => {
        resolve(true);
      });
      proc.once('exit', () => {
        resolve(true);
      });
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const result = await Promise.race([failed, answersPing(port).then((ok) => (ok ? false : undefined))]);
      if (result === false) return;
      if (result === true) throw new Error(`redis-server did not start on port ${port} (is it installed?)`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${port} within 15 s`);
  };

  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited(proc);
    clearTimeout(timer);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => child?.pid,
    stop,
    start: launch,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
