import { Redis } from 'ioredis';
import { startRedisServer } from '../../test/support/redis-server.ts';
import { startChild, track, type Child } from './procs.ts';
import type { NoCommands, ProducerCommands, SinksCommands } from './protocol.ts';

/** Secrets and keys of the benchmark's own deployment (loopback only, thrown away at the end). */
export const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
export const WEB_KEY = 'bench-web-key-0123456789abcdef';
export const MARKETER_KEY = 'bench-marketer-key-0123456789abcdef';

/** What every part of the benchmark shares: its Redis, its sinks and its producer. */
export interface BenchContext {
  readonly redisUrl: string;
  readonly redisPid: number;
  /** The orchestrator's own connection (FLUSHALL between parts, INFO). */
  readonly redis: Redis;
  readonly sinks: Child<SinksCommands>;
  readonly producer: Child<ProducerCommands>;
  /** The environment of every Concord process. */
  readonly env: Readonly<Record<string, string>>;
  /** node flags for the measured processes (`--cpu-prof` with --profile). */
  readonly nodeArgs: readonly string[];
  /** Starts `count` Concord worker processes and waits until each serves. */
  startWorkers(
    script: 'workers' | 'raw-workers',
    count: number,
    extraEnv?: Record<string, string>,
  ): Promise<Child<NoCommands>[]>;
  /** Empties Redis and the sinks, so each part starts from nothing. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startContext(options: { profileDir?: string }): Promise<BenchContext> {
  const server = await startRedisServer();
  track({ pid: () => server.pid(), stop: () => server.destroy() });
  const redisPid = server.pid();
  if (redisPid === undefined) throw new Error('redis-server has no pid');
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const nodeArgs =
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];

  const sinks = await startChild<SinksCommands>('sinks', {});
  const env = {
    REDIS_URL: server.url,
    SMTP_URL: String(sinks.info['smtpUrl']),
    PUSH_URL: String(sinks.info['pushUrl']),
    CONCORD_SIGNING_SECRET: SIGNING_SECRET,
    CONCORD_API_KEYS: `web:${WEB_KEY},marketer:${MARKETER_KEY}`,
    CONCORD_PREFIX: 'concord',
    CONCORD_PARTITIONS: '16',
    PUBLIC_URL: 'http://localhost:3000',
    // Limits far above any load a run makes: the limiter's cost is measured, never a refusal.
    CONCORD_RATE_LIMIT_IP: '999999999/PT1S',
    CONCORD_RATE_LIMIT_KEY: '999999999/PT1S',
    // The guardrails run as in production, their defaults on; only the quiet-hours window is
    // placed hours away from now in the customers' zone, so a run at any hour measures what the
    // check costs and never holds.
    CONCORD_QUIET_HOURS: quietHoursAwayFromNow('Europe/Paris'),
  };
  const producer = await startChild<ProducerCommands>('producer', env, { nodeArgs });

  return {
    redisUrl: server.url,
    redisPid,
    redis,
    sinks,
    producer,
    env,
    nodeArgs,
    startWorkers: (script, count, extraEnv = {}) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          startChild<NoCommands>(script, { ...env, ...extraEnv }, { name: `${script}-${i + 1}`, nodeArgs }),
        ),
      ),
    reset: async () => {
      await redis.flushall();
      await sinks.call('reset', null);
    },
    close: async () => {
      redis.disconnect();
      await producer.stop();
      await sinks.stop();
      await server.destroy();
    },
  };
}

/** Redis's own count of bytes in use (INFO memory `used_memory`). */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
}

/** Two quiet hours starting six hours from now on the zone's clock (`HH:MM-HH:MM`). */
function quietHoursAwayFromNow(timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(Date.now());
  const hour = Number(parts.find((part) => part.type === 'hour')?.value ?? 0);
  const clock = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  return `${clock(hour + 6)}-${clock(hour + 8)}`;
}
