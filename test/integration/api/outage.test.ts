import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApi, type Api } from '../../../src/api/app.ts';
import { createLinkSigner } from '../../../src/delivery/links.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { createMetrics } from '../../../src/metrics/registry.ts';
import { closeQueues, openQueues, type Queues } from '../../../src/queue/queues.ts';
import { KEYS, ROLES, SECRET } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';
import { startRedisServer, waitFor, type RedisServer } from '../../support/redis-server.ts';

const PREFIX = 'banner-outage';
const links = createLinkSigner({ publicUrl: 'http://127.0.0.1:3000', secret: SECRET });
let server: RedisServer;
let client: Redis;
let queues: Queues;
let api: Api;

beforeEach(async () => {
  // A server of its own, with AOF as in production, so it can be stopped and started again.
  server = await startRedisServer({ appendOnly: true });
  // As `concord serve` connects: no offline queue, so a request fails fast while Redis is away.
  client = new Redis(server.url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => 100,
  });
  client.on('error', () => undefined);
  queues = openQueues(client, PREFIX);
  await Promise.all(Object.values(queues).map((queue) => queue.waitUntilReady()));
  api = await buildApi({
    queues,
    inbox: { messages: () => [] },
    ledger: new Ledger(client, { prefix: PREFIX, partitions: 16 }),
    redis: client,
    links,
    apiKeys: ROLES.map((role) => ({ role, key: KEYS[role] })),
    metrics: createMetrics(),
    logger: false,
  });
  await api.ready();
});
afterEach(async () => {
  await api.close();
  await closeQueues(queues).catch(() => undefined);
  client.disconnect();
  await server.destroy();
});

const banner = (customerId: string) =>
  api.inject({
    method: 'GET',
    url: `/v1/customers/${customerId}/offers/current?slot=promo`,
    headers: { authorization: `Bearer ${KEYS.web}` },
  });
const browserBanner = (customerId: string) =>
  api.inject({
    method: 'GET',
    url: `/v1/banner?customer=${customerId}&slot=promo&token=${links.bannerToken(customerId)}`,
  });

describe('the banner while Redis is away', () => {
  it('answers 503 with the ledger error instead of a guess, and the live offer once Redis is back', async () => {
    const ledger = new Ledger(client, { prefix: PREFIX, partitions: 16 });
    await ledger.upsertProfile('c-1', { consent: { web: true } }, { actor: 'test', source: 'fixture' });
    const { offer } = await ledger.issue(offerInput('c-1'), 'marketer');
    const before = await banner('c-1');
    expect(before.statusCode).toBe(200);
    expect(before.json()).toMatchObject({ offerId: offer.offerId });

    await server.stop();
    for (const answer of [await banner('c-1'), await browserBanner('c-1')]) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ error: { code: 'ledger_unavailable' } });
      expect(answer.body).not.toContain(offer.offerId);
    }
    expect((await api.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

    await server.start();
    await waitFor(async () => (await banner('c-1')).statusCode === 200, 30_000, 'the banner to answer again');
    expect((await banner('c-1')).json()).toMatchObject({ offerId: offer.offerId });
    expect((await browserBanner('c-1')).statusCode).toBe(200);
  });
});
