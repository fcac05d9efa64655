import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

const at = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

async function post(body: unknown) {
  return ctx.api.inject({
    method: 'POST',
    url: '/v1/events',
    headers: ctx.auth('ingest'),
    payload: body as object,
  });
}

describe('POST /v1/events', () => {
  it('a purchase ends the open offers for that SKU (no abandoned-cart offer after the purchase), once', async () => {
    const shoes = await ctx.ledger.offers.issue(offerInput('c-1', { sku: 'SHOE-42', slot: 'cart' }), 'm');
    const hats = await ctx.ledger.offers.issue(
      offerInput('c-1', { sku: 'HAT-1', category: 'hats', slot: 'promo' }),
      'm',
    );
    const purchase = {
      type: 'purchase',
      eventId: 'e-1',
      source: 'shop',
      at: at(),
      customerId: 'c-1',
      sku: 'SHOE-42',
      orderId: 'o-9',
    };
    const reply = await post(purchase);
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({
      results: [{ index: 0, status: 'stored', eventId: 'e-1', cancelled: [shoes.offer.offerId] }],
    });
    expect(await ctx.ledger.offers.getOffer(shoes.offer.offerId)).toMatchObject({
      state: 'cancelled',
      endReason: 'purchased',
    });
    expect((await ctx.ledger.offers.getOffer(hats.offer.offerId))?.state).toBe('active');

    const before = await ctx.snapshot();
    const again = await post(purchase);
    expect(again.json()).toEqual({ results: [{ index: 0, status: 'duplicate', eventId: 'e-1' }] });
    expect(await ctx.snapshot()).toEqual(before);
    expect((await ctx.ledger.signals.watermarks())['shop']).toBe(Date.parse(purchase.at));
  });

  it('answers a batch per index: stored, duplicate, rejected with the reason', async () => {
    const reply = await post([
      { type: 'view', eventId: 'v-1', source: 'web', at: at(), customerId: 'c-2', sku: 'SHOE-42' },
      { type: 'view', eventId: 'v-1', source: 'web', at: at(), customerId: 'c-2', sku: 'SHOE-42' },
      { type: 'purchase', eventId: 'p-1', source: 'shop', at: 'yesterday', customerId: 'c-2', sku: 'X' },
      { type: 'teleport', eventId: 't-1', source: 'shop', at: at(), customerId: 'c-2' },
      {
        type: 'consent',
        eventId: 'c-1',
        source: 'crm',
        at: at(),
        customerId: 'c-2',
        channel: 'email',
        granted: true,
      },
    ]);
    const results = reply.json<{ results: { index: number; status: string; reason?: string }[] }>().results;
    expect(results.map((r) => r.status)).toEqual(['stored', 'duplicate', 'rejected', 'rejected', 'stored']);
    expect(results[2]?.reason).toMatch(/^at: /);
    expect((await ctx.ledger.customers.getProfile('c-2'))?.consent.email).toMatchObject({
      granted: true,
      source: 'crm',
    });
  });

  it('an older consent event never overrides a newer decision', async () => {
    await post({
      type: 'consent',
      eventId: 'k-2',
      source: 'crm',
      at: at(),
      customerId: 'c-3',
      channel: 'push',
      granted: false,
    });
    await post({
      type: 'consent',
      eventId: 'k-1',
      source: 'crm',
      at: at(-60_000),
      customerId: 'c-3',
      channel: 'push',
      granted: true,
    });
    expect((await ctx.ledger.customers.getProfile('c-3'))?.consent.push?.granted).toBe(false);
  });

  it('a stock-out ends the open offers for the SKU in every partition; a rejected batch changes nothing', async () => {
    const offers = [];
    for (let i = 0; i < 20; i++)
      offers.push(
        (await ctx.ledger.offers.issue(offerInput(`s-${i}`, { sku: 'SOCK-1' }), 'm')).offer.offerId,
      );
    const other = await ctx.ledger.offers.issue(offerInput('s-x', { sku: 'SOCK-2' }), 'm');
    const reply = await post({
      type: 'stock',
      eventId: 'st-1',
      source: 'erp',
      at: at(),
      sku: 'SOCK-1',
      inStock: false,
      quantity: 0,
    });
    const result = reply.json<{ results: { cancelled: string[] }[] }>().results[0];
    expect([...(result?.cancelled ?? [])].sort()).toEqual([...offers].sort());
    expect((await ctx.ledger.offers.getOffer(offers[0]!))?.endReason).toBe('out_of_stock');
    expect((await ctx.ledger.offers.getOffer(other.offer.offerId))?.state).toBe('active');
    expect(await ctx.ledger.signals.stockOf('SOCK-1')).toMatchObject({ inStock: false, quantity: 0 });

    const before = await ctx.snapshot();
    const bad = await post([
      { type: 'stock', eventId: 'st-2', source: 'erp', at: at(), sku: 'a|b', inStock: false },
      { nonsense: true },
    ]);
    expect(bad.json<{ results: { status: string }[] }>().results.map((r) => r.status)).toEqual([
      'rejected',
      'rejected',
    ]);
    expect(await ctx.snapshot()).toEqual(before);
  });
});
