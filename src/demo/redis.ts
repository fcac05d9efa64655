import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, redisAnswers } from '../runtime/connections.ts';
import { ConcordError } from '../errors.ts';

/** The address every Redis client tries when nothing else is said. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The Redis the demo runs on, and how it was found. */
export interface DemoRedis {
  readonly url: string;
  /** `env`: REDIS_URL; `default`: a server already answering at 127.0.0.1:6379; `private`: started here. */
  readonly source: 'env' | 'default' | 'private';
  /** The private redis-server's process id. */
  readonly pid?: number;
  /** The private redis-server's directory (removed on stop). */
  readonly dir?: string;
  /** Stops the private redis-server (nothing for the others). */
  stop(): Promise<void>;
}

/**
 * REDIS_URL if it is set (one clear error if it does not answer within a few seconds); else the
 * server at 127.0.0.1:6379 if one answers (unless `forcePrivate`); else a private redis-server
 * from PATH in a temp dir on a free port, stopped by {@link DemoRedis.stop}.
 */
export async function findRedis(options: {
  url: string | undefined;
  forcePrivate: boolean;
}): Promise<DemoRedis> {
  const none = async () => undefined;
  if (options.url !== undefined) {
    const url = options.url;
    const client = await connectRedis(url, { timeoutMs: 3_000 }).catch((error: unknown) => {
      throw new ConcordError(
        'ledger_unavailable',
        `REDIS_URL: ${error instanceof Error ? error.message : String(error)}; unset it to let the demo start its own`,
      );
    });
    client.disconnect();
    return { url, source: 'env', stop: none };
  }
  if (!options.forcePrivate && (await redisAnswers(DEFAULT_REDIS_URL, 500))) {
    return { url: DEFAULT_REDIS_URL, source: 'default', stop: none };
  }
  return startPrivateRedis(
    options.forcePrivate ? 'needed for --private-redis' : 'and no Redis answers at 127.0.0.1:6379',
  );
}

/** Starts redis-server on 127.0.0.1 and a free port, in a temp dir, with nothing persisted. */
export async function startPrivateRedis(why = 'and no Redis answers at 127.0.0.1:6379'): Promise<DemoRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-demo-redis-'));
  try {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      try {
        return await launch(dir, port, why);
      } catch (error) {
        // Another process may have taken the port between the probe and the launch.
        if (attempt >= 3 || (error instanceof ConcordError && error.code === 'invalid_config')) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Arguments of a private redis-server: loopback only, its own dir and log, no RDB snapshots,
 * `noeviction` (the ledger must never lose a key to memory pressure), AOF when asked.
 */
export function privateRedisArgs(options: { port: number; dir: string; appendOnly: boolean }): string[] {
  return [
    '--port',
    String(options.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    options.dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    '--logfile',
    join(options.dir, 'redis.log'),
  ];
}

async function launch(dir: string, port: number, why: string): Promise<DemoRedis> {
  const args = privateRedisArgs({ port, dir, appendOnly: false });
  // Its own process group: Ctrl-C in the terminal reaches the demo, which stops the workers
  // first and then this server, instead of Redis vanishing under the workers.
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  // Whatever way the demo exits (a signal during start-up, an uncaught error), the server goes too.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<Error>((resolve) => {
    child.once('error', (error) => {
      resolve(error);
    });
    child.once('exit', (code, signal) => {
      resolve(new Error(`redis-server exited (${signal ?? code ?? 'unknown'})`));
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const outcome = await Promise.race([exited, redisAnswers(url, 500)]);
    if (outcome === true) break;
    if (outcome instanceof Error) {
      process.removeListener('exit', killOnExit);
      if ((outcome as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ConcordError(
          'invalid_config',
          `redis-server is not installed (${why}): install it (apt-get install redis-server) or set REDIS_URL`,
        );
      }
      throw outcome;
    }
    if (Date.now() > deadline) {
      process.removeListener('exit', killOnExit);
      child.kill('SIGKILL');
      throw new Error(
        `redis-server did not answer on port ${port} within 10 s (log: ${join(dir, 'redis.log')})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pid = child.pid;
  return {
    url,
    source: 'private',
    ...(pid === undefined ? {} : { pid }),
    dir,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
