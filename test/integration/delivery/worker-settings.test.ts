import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../../src/config/env.ts';
import { startWorkersFromEnv } from '../../../src/runtime/workers.ts';
import { redisUrl } from '../../support/ledger-context.ts';

describe('workers started from the environment', () => {
  it("run the ledger under the deployment's bounds, not the defaults", async () => {
    const env = loadEnv({
      REDIS_URL: redisUrl(),
      CONCORD_PREFIX: `worker-settings-${process.pid}`,
      CONCORD_SIGNING_SECRET: 'a-signing-secret-of-at-least-32-characters',
      SMTP_URL: 'smtp://127.0.0.1:1',
      PUSH_URL: 'http://127.0.0.1:1/push',
      CONCORD_MAX_OPEN_OFFERS: '7',
      CONCORD_HISTORY_RETENTION: 'P1D',
      CONCORD_EVENT_MAX_AHEAD: 'PT1M',
      CONCORD_EVENT_DEDUPE_TTL: 'P2D',
      CONCORD_CAPS: 'push:1/P1D,any:5/P7D',
      CONCORD_QUIET_HOURS: '22:30-07:15',
      CONCORD_SENSITIVE_CATEGORIES: 'health, pharmacy',
      CONCORD_RETURN_BLOCK: 'P60D',
      CONCORD_STOCK_MAX_AGE: 'PT1H',
    });
    const runtime = await startWorkersFromEnv(env, { queues: ['timers'] });
    try {
      expect(runtime.ledger.limits).toEqual({
        maxOpenOffers: 7,
        historyRetentionMs: 86_400_000,
        eventMaxAheadMs: 60_000,
        eventDedupeTtlMs: 2 * 86_400_000,
        guardrails: {
          sensitiveCategories: ['health', 'pharmacy'],
          returnBlockMs: 60 * 86_400_000,
          purchaseBlockMs: 14 * 86_400_000,
          stockMaxAgeMs: 3_600_000,
          signalMaxAgeMs: 30 * 86_400_000,
          caps: [
            { scope: 'push', count: 1, windowMs: 86_400_000 },
            { scope: 'any', count: 5, windowMs: 7 * 86_400_000 },
          ],
          quietHours: { startMin: 22 * 60 + 30, endMin: 7 * 60 + 15 },
        },
      });
    } finally {
      await runtime.close();
      // Leave nothing under the prefix (a shared REDIS_URL may hold other runs' keys).
      const redis = new Redis(redisUrl());
      const keys = await redis.keys(`${env.CONCORD_PREFIX}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
