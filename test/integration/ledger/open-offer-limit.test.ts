import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignView } from '../../../src/campaigns/record.ts';
import { runCampaign } from '../../../src/campaigns/run.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

/** The same ledger with a cap of `max` open offers per customer. */
function capped(max: number): Ledger {
  return new Ledger(ctx.redis, { prefix: ctx.prefix, partitions: 16, limits: { maxOpenOffers: max } });
}

/** Open offers in slots of their own (same terms, so none contradicts another). */
async function fill(ledger: Ledger, customerId: string, count: number, now: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await ledger.offers.issue(offerInput(customerId, { slot: `s${i}` }, now), 'm')).offer.offerId);
  }
  return ids;
}

describe('a customer holds at most CONCORD_MAX_OPEN_OFFERS open offers', () => {
  it('the ledger refuses one more with open_offer_limit and writes nothing; an ended offer frees a place', async () => {
    const ledger = capped(3);
    const now = await ledger.now();
    const [first] = await fill(ledger, 'c-1', 3, now);
    // A pending one counts as well as the active ones.
    const before = await ctx.snapshot();
    const later = offerInput(
      'c-1',
      { slot: 'later', validFrom: now + 3_600_000, validUntil: now + 7_200_000 },
      now,
    );
    await expect(ledger.offers.issue(later, 'm')).rejects.toMatchObject({ code: 'open_offer_limit' });
    expect(await ctx.snapshot()).toEqual(before);

    await ledger.offers.cancel(first!, { reason: 'test', actor: 'm' });
    expect((await ledger.offers.issue(later, 'm')).offer.state).toBe('pending');
    await expect(ledger.offers.issue(offerInput('c-1', { slot: 'more' }, now), 'm')).rejects.toMatchObject({
      code: 'open_offer_limit',
    });
  });

  it('POST /v1/offers answers 409 open_offer_limit at the default cap of 50', async () => {
    const now = await ctx.ledger.now();
    await fill(ctx.ledger, 'c-2', 50, now);
    const reply = await ctx.api.inject({
      method: 'POST',
      url: '/v1/offers',
      headers: ctx.auth('marketer'),
      payload: {
        ...offerInput('c-2', { slot: 'one-more' }, now),
        validUntil: new Date(now + 3_600_000).toISOString(),
      },
    });
    expect(reply.statusCode, reply.body).toBe(409);
    expect(reply.json()).toMatchObject({ error: { code: 'open_offer_limit' } });
  });

  it('a campaign run skips a customer at the cap, with the reason', async () => {
    const ledger = capped(2);
    const now = await ledger.now();
    await fill(ledger, 'c-full', 2, now);
    // Both have a profile, so the cap is the only thing a run skips c-full for.
    await ledger.customers.upsertProfile('c-full', { consent: { web: true } }, { actor: 't', source: 't' });
    await ledger.customers.upsertProfile('c-free', { consent: { web: true } }, { actor: 't', source: 't' });
    const created = await ctx.api.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: ctx.auth('marketer'),
      payload: {
        name: 'Capped',
        slot: 'promo',
        offer: { title: 'Five off', discount: { kind: 'percent', value: 5 }, validFor: 'P1D' },
        channels: ['web'],
        audience: { customerIds: ['c-full', 'c-free'] },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ campaign: CampaignView }>().campaign.id;
    const approved = await ctx.api.inject({
      method: 'POST',
      url: `/v1/campaigns/${id}/approve`,
      headers: ctx.auth('admin'),
      payload: {},
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const scheduled = await ledger.campaigns.update(
      id,
      { action: 'schedule', schedule: { kind: 'once', at: now + 3_600_000 }, scheduleKind: 'once' },
      'test',
    );
    const fired = await ledger.campaigns.update(
      id,
      { action: 'fire', fireId: 'by-hand', scheduleVersion: Number(scheduled.fields['scheduleVersion']) },
      'test',
    );
    expect(await runCampaign(ledger, id, fired.run!)).toMatchObject({ kind: 'completed' });
    const view = await ctx.api.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: ctx.auth('support'),
    });
    expect(view.json<CampaignView>().progress).toMatchObject({
      issued: 1,
      skipped: 1,
      skippedBy: { open_offer_limit: 1 },
    });
  });
});
