import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { EXAMPLE_OFFER } from '../../support/example-offer.ts';
import {
  DAY_MS,
  guardrailLimits,
  historyOf,
  HOUR_MS,
  iso,
  reachableCustomer,
  timelineOf,
} from '../../support/guardrails.ts';
import { redisUrl } from '../../support/ledger-context.ts';
import {
  emailsFor,
  pushesFor,
  startPipeline,
  startSinks,
  waitForDelivery,
  type Sinks,
} from '../../support/pipeline.ts';

const LIMITS = guardrailLimits({
  returnBlockMs: 30 * DAY_MS,
  purchaseBlockMs: 14 * DAY_MS,
  stockMaxAgeMs: HOUR_MS,
});

let ctx: ApiContext;
let sinks: Sinks | undefined;
let runtime: WorkerRuntime | undefined;
let nextEvent = 0;

beforeEach(async () => {
  ctx = await apiContext({}, {}, { limits: LIMITS });
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await sinks?.close();
  sinks = undefined;
  await ctx.close();
});

async function startWorkers(): Promise<Sinks> {
  sinks = await startSinks();
  runtime = await startPipeline(sinks, { redisUrl: redisUrl(), prefix: ctx.prefix, limits: LIMITS });
  return sinks;
}

/** Posts one event through the API (times as ISO instants); answers its outcome. */
async function postEvent(event: Record<string, unknown> & { at: number }) {
  const reply = await ctx.api.inject({
    method: 'POST',
    url: '/v1/events',
    headers: ctx.auth('ingest'),
    payload: { eventId: `e-${nextEvent++}`, source: 'shop', ...event, at: iso(event.at) },
  });
  expect(reply.statusCode).toBe(200);
  const [outcome] = reply.json<{ results: { status: string; cancelled?: string[] }[] }>().results;
  expect(outcome?.status, JSON.stringify(outcome)).toBe('stored');
  return outcome!;
}

async function postOffer(customerId: string, sku: string) {
  return ctx.api.inject({
    method: 'POST',
    url: '/v1/offers',
    headers: ctx.auth('marketer'),
    payload: {
      customerId,
      ...EXAMPLE_OFFER,
      sku,
      // One slot per SKU: an accepted offer never replaces another in these tests.
      slot: `promo-${sku.toLowerCase()}`,
      validUntil: iso((await ctx.ledger.now()) + HOUR_MS),
    },
  });
}

/** The offer refused with `reason`: 422 guardrail naming it, no offer for the SKU, and a history entry. */
async function expectRefused(customerId: string, sku: string, reason: string, at?: number) {
  const reply = await postOffer(customerId, sku);
  expect(reply.statusCode, reply.body).toBe(422);
  expect(reply.json()).toMatchObject({ error: { code: 'guardrail', details: { reason } } });
  const offers = await ctx.ledger.offers.customerOffers(customerId);
  expect(offers.filter((offer) => offer.sku === sku && offer.state === 'active')).toEqual([]);
  const entry = (await historyOf(ctx.ledger, customerId, 'not_offered')).at(-1);
  expect(entry, `history of ${customerId}`).toMatchObject({ reason, slot: `promo-${sku.toLowerCase()}` });
  expect(entry?.detail).toMatchObject({ sku, ...(at === undefined ? {} : { at }) });
}

async function expectIssued(customerId: string, sku: string): Promise<string> {
  const reply = await postOffer(customerId, sku);
  expect(reply.statusCode, reply.body).toBe(201);
  return reply.json<{ offer: { offerId: string } }>().offer.offerId;
}

describe('returns, purchases and stock', () => {
  it('an offer for a SKU the customer returned yesterday is refused recently_returned; one returned before the window is not', async () => {
    await reachableCustomer(ctx.ledger, 'c-1');
    const now = await ctx.ledger.now();
    const yesterday = now - DAY_MS;
    await postEvent({ type: 'return', customerId: 'c-1', sku: 'SHOE-42', at: yesterday });
    await postEvent({ type: 'return', customerId: 'c-1', sku: 'HAT-1', at: now - 31 * DAY_MS });
    await expectRefused('c-1', 'SHOE-42', 'recently_returned', yesterday);
    expect((await timelineOf(ctx, 'c-1')).filter((line) => line.startsWith('not offered:'))).toEqual([
      expect.stringMatching(/^not offered: returned this product on /),
    ]);
    await expectIssued('c-1', 'HAT-1');
    // Another customer's return blocks nobody else.
    await reachableCustomer(ctx.ledger, 'c-other');
    await expectIssued('c-other', 'SHOE-42');
  });

  it('an offer for a SKU the customer bought yesterday is refused recently_purchased; one bought before the window is not', async () => {
    await reachableCustomer(ctx.ledger, 'c-1');
    const now = await ctx.ledger.now();
    const yesterday = now - DAY_MS;
    await postEvent({ type: 'purchase', customerId: 'c-1', sku: 'SHOE-42', at: yesterday });
    await postEvent({ type: 'purchase', customerId: 'c-1', sku: 'HAT-1', at: now - 15 * DAY_MS });
    await expectRefused('c-1', 'SHOE-42', 'recently_purchased', yesterday);
    expect((await timelineOf(ctx, 'c-1')).filter((line) => line.startsWith('not offered:'))).toEqual([
      expect.stringMatching(/^not offered: bought this product on /),
    ]);
    await expectIssued('c-1', 'HAT-1');
  });

  it('a stock-out ends the live offers for the SKU and refuses new ones; nothing is sent for the ended offers', async () => {
    await reachableCustomer(ctx.ledger, 'c-1');
    await reachableCustomer(ctx.ledger, 'c-2');
    const now = await ctx.ledger.now();
    await postEvent({ type: 'stock', sku: 'BOOT-9', inStock: true, at: now - 60_000 });
    const live = [await expectIssued('c-1', 'BOOT-9'), await expectIssued('c-2', 'BOOT-9')];
    const other = await expectIssued('c-1', 'SOCK-3');

    const stockOut = await postEvent({ type: 'stock', sku: 'BOOT-9', inStock: false, at: now });
    expect([...(stockOut.cancelled ?? [])].sort()).toEqual([...live].sort());
    for (const offerId of live) {
      expect(await ctx.ledger.offers.getOffer(offerId)).toMatchObject({
        state: 'cancelled',
        endReason: 'out_of_stock',
      });
    }
    expect((await ctx.ledger.offers.currentOffer('c-1', 'promo-boot-9')).offer).toBeUndefined();
    await expectRefused('c-1', 'BOOT-9', 'out_of_stock');
    await expectRefused('c-2', 'BOOT-9', 'out_of_stock');

    const sent = await startWorkers();
    for (const channel of ['email', 'push'] as const) {
      await waitForDelivery(ctx.ledger, other, channel, ['sent']);
      for (const offerId of live) {
        await waitForDelivery(ctx.ledger, offerId, channel, ['cancelled', 'skipped', 'sent']);
        expect((await ctx.ledger.offers.getOffer(offerId))?.deliveries[channel]).toMatchObject({
          state: 'cancelled',
          reason: 'offer_cancelled',
        });
      }
    }
    for (const offerId of live) {
      expect(emailsFor(sent, offerId)).toEqual([]);
      expect(pushesFor(sent, offerId)).toEqual([]);
    }
    expect(emailsFor(sent, other)).toHaveLength(1);
  });

  it('a stock state older than its bound holds the send (stock_unknown); a fresh one lets it go', async () => {
    await reachableCustomer(ctx.ledger, 'c-1');
    const now = await ctx.ledger.now();
    await postEvent({ type: 'stock', sku: 'TENT-2', inStock: true, at: now - 2 * HOUR_MS });
    const offerId = await expectIssued('c-1', 'TENT-2');

    const sent = await startWorkers();
    for (const channel of ['email', 'push'] as const) {
      await waitForDelivery(ctx.ledger, offerId, channel, ['held', 'sent', 'skipped']);
      expect((await ctx.ledger.offers.getOffer(offerId))?.deliveries[channel], channel).toMatchObject({
        state: 'held',
        reason: 'stock_unknown',
      });
    }
    const holds = (await historyOf(ctx.ledger, 'c-1', 'delivery_held')).filter(
      (entry) => entry.offer === offerId && entry.reason === 'stock_unknown',
    );
    expect(holds.map((entry) => entry.channel).sort()).toEqual(['email', 'push']);
    expect(emailsFor(sent, offerId)).toEqual([]);
    expect(pushesFor(sent, offerId)).toEqual([]);

    // A fresh stock event: the held sends go out when they are claimed again.
    await postEvent({ type: 'stock', sku: 'TENT-2', inStock: true, at: await ctx.ledger.now() });
    for (const channel of ['email', 'push'] as const) {
      await waitForDelivery(ctx.ledger, offerId, channel, ['sent'], 120_000);
    }
    expect(emailsFor(sent, offerId)).toHaveLength(1);
    expect(pushesFor(sent, offerId)).toHaveLength(1);
  }, 180_000);
});
