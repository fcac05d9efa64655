import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { Ledger, type LedgerOptions } from '../../src/ledger/index.ts';

/** A ledger under a key prefix of its own on the suite's Redis; `cleanup` deletes its keys. */
export interface LedgerContext {
  readonly redis: Redis;
  readonly ledger: Ledger;
  readonly prefix: string;
  /** Every key under this context's prefix, with its type and value, for before/after comparisons. */
  snapshot(): Promise<Map<string, string>>;
  keyNames(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export function redisUrl(): string {
  return inject('redisUrl');
}

export function ledgerContext(options: Partial<LedgerOptions> = {}): LedgerContext {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  const ledger = new Ledger(redis, { prefix, partitions: 16, ...options });

  const keyNames = async (): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  };

  const snapshot = async (): Promise<Map<string, string>> => {
    const result = new Map<string, string>();
    for (const key of await keyNames()) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'hash') value = Object.entries(await redis.hgetall(key)).sort();
      else if (type === 'set') value = (await redis.smembers(key)).sort();
      else if (type === 'zset') value = await redis.zrangebyscore(key, '-inf', '+inf', 'WITHSCORES');
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      else if (type === 'string') value = await redis.get(key);
      else value = type;
      result.set(key, `${type}:${JSON.stringify(value)}`);
    }
    return result;
  };

  return {
    redis,
    ledger,
    prefix,
    snapshot,
    keyNames,
    cleanup: async () => {
      const keys = await keyNames();
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
    },
  };
}

/** An offer valid from now for an hour, on every channel, for tests to vary. */
export function offerInput(customerId: string, overrides: Record<string, unknown> = {}, now = Date.now()) {
  return {
    customerId,
    slot: 'promo',
    title: '20% off running shoes',
    body: 'Your size is back in stock.',
    code: 'RUN20-7QX',
    discount: { kind: 'percent' as const, value: 20 },
    sku: 'SHOE-42',
    category: 'running',
    channels: ['email' as const, 'push' as const, 'web' as const],
    validUntil: now + 3_600_000,
    priority: 10,
    ...overrides,
  };
}
