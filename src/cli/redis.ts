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
