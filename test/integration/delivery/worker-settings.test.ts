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
    });
    const runtime = await startWorkersFromEnv(env, { queues: ['timers'] });
    try {
      expect(runtime.ledger.limits).toEqual({
        maxOpenOffers: 7,
        historyRetentionMs: 86_400_000,
        eventMaxAheadMs: 60_000,
        eventDedupeTtlMs: 2 * 86_400_000,
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
