import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/ledger/index.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

interface Page {
  timeline: { action?: string; id?: string }[];
  next?: string;
}

describe('customer history is paged and trimmed by retention', () => {
  it('pages newest first with limit and before; next is the cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await ctx.ledger.customers.upsertProfile('c-1', { attributes: { n: i } }, { actor: 't', source: 't' });
    }
    const get = (query: string) =>
      ctx.api.inject({
        method: 'GET',
        url: `/v1/customers/c-1/history${query}`,
        headers: ctx.auth('support'),
      });
    const first = await get('?limit=2');
    expect(first.statusCode, first.body).toBe(200);
    const one = first.json<Page>();
    expect(one.timeline).toHaveLength(2);
    expect(one.next).toBeDefined();
    const ids = (await ctx.ledger.customers.history('c-1')).map((entry) => entry.id);
    expect(one.next).toBe(ids[3]);
    const rest = (await get(`?limit=500&before=${one.next}`)).json<Page>();
    expect(rest.timeline).toHaveLength(3);
    expect(rest.next).toBeUndefined();
    expect((await get('?limit=501')).statusCode).toBe(400);
  });

  it('reads the offers a long history names, however many', async () => {
    const { offer } = await ctx.ledger.offers.issue(
      {
        customerId: 'c-9',
        slot: 'promo',
        title: 'T',
        body: 'B',
        code: 'C9',
        discount: { kind: 'percent', value: 5 },
        channels: ['web'],
        validUntil: Date.now() + 3_600_000,
      },
      't',
    );
    const named = Array.from({ length: 12_000 }, (_, i) => `o00-${String(i).padStart(26, '0')}`);
    const offers = await ctx.ledger.offers.openOffers('c-9', [...named, offer.offerId]);
    expect(offers.map((entry) => entry.offerId)).toEqual([offer.offerId]);
  });

  it('entries older than the retention are not read, and writes trim them', async () => {
    const retention = 60_000;
    const ledger = new Ledger(ctx.redis, {
      prefix: ctx.prefix,
      partitions: 16,
      limits: { historyRetentionMs: retention },
    });
    for (let i = 0; i < 150; i++) {
      await ledger.customers.upsertProfile('c-2', { attributes: { n: i } }, { actor: 't', source: 't' });
    }
    const later = ledger.withClockSkew(2 * retention);
    await later.customers.upsertProfile('c-2', { attributes: { n: 'last' } }, { actor: 't', source: 't' });
    const page = await later.customers.historyPage('c-2', { limit: 500 });
    expect(page.entries).toHaveLength(1);
    expect(await ctx.redis.xlen(ledger.keys.customer('c-2').history)).toBeLessThan(151);
  });
});
