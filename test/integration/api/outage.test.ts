import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiContext, KEYS, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';
import { startRedisServer, waitFor, type RedisServer } from '../../support/redis-server.ts';

let server: RedisServer;
let ctx: ApiContext;

beforeEach(async () => {
  // A server of its own, with AOF as in production, so it can be stopped and started again.
  server = await startRedisServer({ appendOnly: true });
  // As `concord serve` connects: no offline queue, so a request fails fast while Redis is away.
  ctx = await apiContext({
    url: server.url,
    options: { enableOfflineQueue: false, retryStrategy: () => 100 },
  });
  ctx.redis.on('error', () => undefined);
});
afterEach(async () => {
  try {
    await ctx.close();
  } finally {
    await server.destroy();
  }
});

const banner = (customerId: string) =>
  ctx.api.inject({
    method: 'GET',
    url: `/v1/customers/${customerId}/offers/current?slot=promo`,
    headers: { authorization: `Bearer ${KEYS.web}` },
  });
const browserBanner = (customerId: string) =>
  ctx.api.inject({
    method: 'GET',
    url: `/v1/banner?customer=${customerId}&slot=promo&token=${ctx.links.bannerToken(customerId)}`,
  });

describe('the banner while Redis is away', () => {
  it('answers 503 with the ledger error instead of a guess, and the live offer once Redis is back', async () => {
    const { ledger } = ctx;
    await ledger.customers.upsertProfile(
      'c-1',
      { consent: { web: true } },
      { actor: 'test', source: 'fixture' },
    );
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'marketer');
    const before = await banner('c-1');
    expect(before.statusCode).toBe(200);
    expect(before.json()).toMatchObject({ offerId: offer.offerId });

    await server.stop();
    for (const answer of [await banner('c-1'), await browserBanner('c-1')]) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ error: { code: 'ledger_unavailable' } });
      expect(answer.body).not.toContain(offer.offerId);
    }
    expect((await ctx.api.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

    await server.start();
    await waitFor(async () => (await banner('c-1')).statusCode === 200, 30_000, 'the banner to answer again');
    expect((await banner('c-1')).json()).toMatchObject({ offerId: offer.offerId });
    expect((await browserBanner('c-1')).statusCode).toBe(200);
  });
});
