/**
 * Redis connections as every Concord process opens them: the first connection checked before
 * anything starts, and one profile per use (the API's, a producer's, a worker's).
 */
import { Redis } from 'ioredis';
import { ConcordError } from '../errors.ts';

/** A URL with its password hidden, for messages. */
export function hidePassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Connects to Redis and waits until it answers PING, for at most `timeoutMs`; otherwise throws
 * `ledger_unavailable` with one line naming the address. Once connected, the client reconnects
 * on its own (`reconnect`), or not at all for one-shot commands.
 */
export async function connectRedis(
  url: string,
  options: {
    timeoutMs?: number;
    reconnect?: boolean;
    client?: {
      enableOfflineQueue?: boolean;
      maxRetriesPerRequest?: number | null;
      commandTimeout?: number;
      enableAutoPipelining?: boolean;
    };
  } = {},
): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    // No retries while connecting: a server that is not there is reported at once.
    retryStrategy: () => null,
    ...options.client,
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } catch (error) {
    // Disconnecting a client whose connection already ended leaves a 2 s timer behind (ioredis).
    if (redis.status !== 'end') redis.disconnect();
    const reason = describeConnectError(lastError ?? error);
    throw new ConcordError(
      'ledger_unavailable',
      `Redis at ${hidePassword(url)} does not answer (${reason})`,
      {
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
  }
  if (options.reconnect) redis.options.retryStrategy = (times) => Math.min(times * 200, 2_000);
  return redis;
}

/** True when a Redis server answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const redis = await connectRedis(url, { timeoutMs });
    redis.disconnect();
    return true;
  } catch {
    return false;
  }
}

function describeConnectError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'unknown host';
  if (error.message.startsWith('NOAUTH') || error.message.startsWith('WRONGPASS'))
    return 'authentication failed';
  return error.message.split('\n')[0] ?? 'no answer';
}

/** Told about a connection's errors (ioredis emits them on its own; unheard they would crash the process). */
export type ConnectionErrorHandler = (error: Error) => void;

/**
 * The API's connection, checked before anything starts (one line if Redis does not answer).
 * It fails fast while Redis is away — no offline queue, one retry, a 2 s command timeout — so a
 * request answers 503 instead of hanging, and it reconnects on its own once connected.
 */
export function connectApiRedis(url: string): Promise<Redis> {
  return connectRedis(url, {
    reconnect: true,
    // Auto-pipelining sends the commands of concurrent requests in one write: banner reads at
    // high concurrency cost a fraction of the syscalls.
    client: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2_000,
      enableAutoPipelining: true,
    },
  });
}

/**
 * A producer connection (queue adds, queue depths, the relay's reads): it fails fast while Redis
 * is away, so a caller retries its pass instead of waiting for Redis.
 */
export function openProducerRedis(url: string, onError: ConnectionErrorHandler): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', onError);
  return redis;
}

/**
 * A worker connection: its commands wait out a Redis outage instead of failing, as BullMQ's
 * blocking workers need (`maxRetriesPerRequest: null`).
 */
export function openWorkerRedis(url: string, onError: ConnectionErrorHandler): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', onError);
  return redis;
}

/** Closes a connection politely, or drops it when Redis does not answer; never throws. */
export async function quitRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
