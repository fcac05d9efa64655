import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { EXAMPLE_OFFER } from '../../support/example-offer.ts';
import { guardrailLimits, historyOf, iso, timelineOf } from '../../support/guardrails.ts';
import { redisUrl } from '../../support/ledger-context.ts';
import {
  emailsFor,
  pushesFor,
  startPipeline,
  startSinks,
  waitForDelivery,
  type Sinks,
} from '../../support/pipeline.ts';

const LIMITS = guardrailLimits({ sensitiveCategories: ['health', 'baby', 'adult'] });

let ctx: ApiContext;
let sinks: Sinks | undefined;
let runtime: WorkerRuntime | undefined;

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

async function putCustomer(customerId: string, sensitiveOptIns?: string[]) {
  const reply = await ctx.api.inject({
    method: 'PUT',
    url: `/v1/customers/${customerId}`,
    headers: ctx.auth('ingest'),
    payload: {
      email: `${customerId}@example.com`,
      pushEndpoint: `device-${customerId}`,
      consent: { email: true, push: true, web: true },
      ...(sensitiveOptIns === undefined ? {} : { sensitiveOptIns }),
    },
  });
  expect(reply.statusCode).toBe(200);
}

async function postHealthOffer(customerId: string) {
  return ctx.api.inject({
    method: 'POST',
    url: '/v1/offers',
    headers: ctx.auth('marketer'),
    payload: {
      customerId,
      ...EXAMPLE_OFFER,
      title: '15% off vitamins',
      code: 'VIT15',
      sku: 'VIT-D3',
      category: 'health',
      validUntil: iso((await ctx.ledger.now()) + 3_600_000),
    },
  });
}

describe('sensitive categories', () => {
  it('a health offer to a customer who never opted in is refused (422 guardrail) and nothing is stored', async () => {
    await putCustomer('c-1');
    const refused = await postHealthOffer('c-1');
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({
      error: { code: 'guardrail', details: { reason: 'sensitive_category' } },
    });
    expect(await ctx.ledger.offers.customerOffers('c-1')).toEqual([]);
    expect((await ctx.ledger.offers.currentOffer('c-1', 'promo')).offer).toBeUndefined();
    const notOffered = await historyOf(ctx.ledger, 'c-1', 'not_offered');
    expect(notOffered).toHaveLength(1);
    expect(notOffered[0]).toMatchObject({ slot: 'promo', reason: 'sensitive_category' });
    expect(notOffered[0]?.detail).toMatchObject({ category: 'health' });
    expect(await timelineOf(ctx, 'c-1')).toContain(
      'not offered: health is a sensitive category and the customer has not opted in',
    );
    // The same offer in a category that is not sensitive goes through.
    const running = await ctx.api.inject({
      method: 'POST',
      url: '/v1/offers',
      headers: ctx.auth('marketer'),
      payload: { customerId: 'c-1', ...EXAMPLE_OFFER, validUntil: iso((await ctx.ledger.now()) + 3_600_000) },
    });
    expect(running.statusCode).toBe(201);
  });

  it('with the opt-in it is issued; the opt-in withdrawn before the send skips email and push, and nothing is sent', async () => {
    await putCustomer('c-2', ['health']);
    const issued = await postHealthOffer('c-2');
    expect(issued.statusCode).toBe(201);
    const { offer } = issued.json<{ offer: { offerId: string; state: string } }>();
    expect(offer.state).toBe('active');

    await putCustomer('c-2', []);
    expect((await ctx.ledger.customers.getProfile('c-2'))?.sensitiveOptIns).toEqual([]);
    sinks = await startSinks();
    runtime = await startPipeline(sinks, { redisUrl: redisUrl(), prefix: ctx.prefix, limits: LIMITS });
    for (const channel of ['email', 'push'] as const) {
      await waitForDelivery(ctx.ledger, offer.offerId, channel, ['skipped', 'sent']);
      expect((await ctx.ledger.offers.getOffer(offer.offerId))?.deliveries[channel], channel).toMatchObject({
        state: 'skipped',
        reason: 'sensitive_category',
      });
    }
    const skips = (await historyOf(ctx.ledger, 'c-2', 'delivery_skipped')).filter(
      (entry) => entry.offer === offer.offerId,
    );
    expect(skips.map((entry) => [entry.channel, entry.reason]).sort()).toEqual([
      ['email', 'sensitive_category'],
      ['push', 'sensitive_category'],
    ]);
    const timeline = await timelineOf(ctx, 'c-2');
    for (const channel of ['email', 'push']) {
      expect(timeline).toContain(
        `${channel} of offer ${offer.offerId}: skipped: the customer withdrew the opt-in for health`,
      );
    }
    expect(emailsFor(sinks, offer.offerId)).toEqual([]);
    expect(pushesFor(sinks, offer.offerId)).toEqual([]);
    expect(sinks.smtp.messages).toEqual([]);
    expect(sinks.push.deliveries).toEqual([]);
  });
});
