import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inHoldout } from '../../../src/campaigns/audience.ts';
import type { CampaignView } from '../../../src/campaigns/record.ts';
import { runCampaign } from '../../../src/campaigns/run.ts';
import type { GuardrailRules } from '../../../src/config/guardrails.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_OPEN_OFFERS = 3;
const HOLDOUT_PERCENT = 20;
const SKU = 'VIT-D3';

/** A deployment of the documented defaults. */
const DEPLOYMENT: GuardrailRules = {
  sensitiveCategories: ['health', 'baby', 'adult'],
  returnBlockMs: 30 * DAY,
  purchaseBlockMs: 14 * DAY,
  stockMaxAgeMs: 6 * HOUR,
  signalMaxAgeMs: 30 * DAY,
  caps: [
    { scope: 'email', count: 3, windowMs: DAY },
    { scope: 'push', count: 3, windowMs: DAY },
    { scope: 'any', count: 10, windowMs: 7 * DAY },
  ],
  quietHours: { startMin: 21 * 60, endMin: 8 * 60 },
};

let ctx: ApiContext;
let serial = 0;

beforeAll(async () => {
  ctx = await apiContext({}, {}, { limits: { guardrails: DEPLOYMENT, maxOpenOffers: MAX_OPEN_OFFERS } });
});
afterAll(async () => {
  await ctx.close();
});

async function call(
  role: 'marketer' | 'admin' | 'support',
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
) {
  return ctx.api.inject({
    method,
    url,
    headers: ctx.auth(role),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

/** A customer reachable on every channel, opted in to `health` unless told otherwise. */
async function customer(name: string, sensitiveOptIns: string[] = ['health']): Promise<string> {
  const id = `${name}-${serial++}`;
  await ctx.ledger.customers.upsertProfile(
    id,
    {
      email: `${id}@example.com`,
      pushEndpoint: `https://push.example/${id}`,
      consent: { email: true, push: true, web: true },
      sensitiveOptIns,
    },
    { actor: 'test', source: 'fixture' },
  );
  return id;
}

async function event(customerId: string, type: 'purchase' | 'return', at: number): Promise<void> {
  await ctx.ledger.signals.recordEvent({
    eventId: `${type}-${customerId}`,
    type,
    at,
    source: 'shop',
    customerId,
    sku: SKU,
  });
}

/** A health offer for the SKU, with guardrails tighter than the deployment's. */
function definition(customerIds: string[], guardrails: Record<string, unknown>) {
  return {
    name: 'Vitamin D for winter',
    offer: {
      title: '10% off vitamin D',
      discount: { kind: 'percent', value: 10 },
      sku: SKU,
      category: 'health',
      validFor: 'P7D',
    },
    channels: ['email', 'push', 'web'],
    audience: { customerIds },
    priority: 5,
    holdout: { percent: HOLDOUT_PERCENT },
    guardrails,
  };
}

async function create(body: unknown): Promise<CampaignView> {
  const reply = await call('marketer', 'POST', '/v1/campaigns', body);
  expect(reply.statusCode, reply.body).toBe(201);
  return reply.json<{ campaign: CampaignView }>().campaign;
}

describe("a campaign's guardrails", () => {
  it('a rule looser than the deployment is refused with the rule, its default and how to loosen it; named in loosen, it is stored', async () => {
    const id = await customer('loose');
    const refused = await call(
      'marketer',
      'POST',
      '/v1/campaigns',
      definition([id], { quietHours: '22:00-07:00' }),
    );
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({
      error: {
        code: 'invalid_input',
        message:
          "guardrails.quietHours: 22:00-07:00 is looser than the deployment's 21:00-08:00 (quiet_hours); " +
          'a campaign may only tighten it, unless it names quiet_hours in guardrails.loosen',
      },
    });
    const conflicting = await call('marketer', 'POST', '/v1/campaigns', {
      ...definition([id], { holdFor: 'PT6H' }),
      holdFor: 'PT12H',
    });
    expect(conflicting.statusCode, conflicting.body).toBe(400);
    expect(conflicting.json()).toMatchObject({
      error: {
        code: 'invalid_input',
        message: 'guardrails.holdFor (PT6H) and holdFor (PT12H) differ: give one of them',
      },
    });

    const loosened = await create(definition([id], { quietHours: '22:00-07:00', loosen: ['quiet_hours'] }));
    expect(loosened.guardrails).toMatchObject({
      quietHours: '22:00-07:00',
      changed: ['quietHours'],
      loosen: ['quiet_hours'],
    });
  });

  it('the preview counts each customer under the reason the run then records', async () => {
    // The customers each guardrail stops, every one with a profile but the first and opted in to
    // health but the second, so each is counted under its own reason.
    const special = {
      no_profile: [`nobody-${serial++}`],
      sensitive_category: [await customer('not-opted-in', [])],
      recently_returned: [await customer('returned-yesterday'), await customer('returned-45-days-ago')],
      recently_purchased: [await customer('bought-yesterday')],
      open_offer_limit: [await customer('full')],
      outranked: [await customer('outranked')],
    };
    const ordinary = await Promise.all(Array.from({ length: 12 }, () => customer('ordinary')));
    const now = await ctx.ledger.now();
    await event(special.recently_returned[0]!, 'return', now - DAY);
    // Older than the deployment's 30 days, within the campaign's 60: only the campaign's rule stops it.
    await event(special.recently_returned[1]!, 'return', now - 45 * DAY);
    await event(special.recently_purchased[0]!, 'purchase', now - DAY);
    for (let slot = 0; slot < MAX_OPEN_OFFERS; slot++) {
      await ctx.ledger.offers.issue(
        offerInput(special.open_offer_limit[0]!, { slot: `other-${slot}`, channels: ['web'] }),
        'test',
      );
    }
    await ctx.ledger.offers.issue(
      offerInput(special.outranked[0]!, { priority: 50, channels: ['web'] }),
      'test',
    );

    const audience = [...Object.values(special).flat(), ...ordinary];
    const guardrails = {
      caps: { push: '1/P1D' },
      quietHours: '20:00-09:00',
      returnBlock: 'P60D',
      holdFor: 'PT6H',
    };
    // The holdout is drawn from (campaign, customer): a campaign whose holdout takes some ordinary
    // customers and none of the others keeps every reason's count apart.
    let found: CampaignView | undefined;
    for (let attempt = 0; attempt < 100 && !found; attempt++) {
      const candidate = await create(definition(audience, guardrails));
      const held = (ids: string[]) => ids.filter((id) => inHoldout(candidate.id, id, HOLDOUT_PERCENT)).length;
      if (held(ordinary) > 0 && held(Object.values(special).flat()) === 0) found = candidate;
    }
    if (!found) throw new Error('no campaign of 100 had a holdout of ordinary customers only');
    const campaign = found;
    const holdout = ordinary.filter((id) => inHoldout(campaign.id, id, HOLDOUT_PERCENT)).length;

    expect(campaign.guardrails).toEqual({
      caps: { email: '3/P1D', push: '1/P1D', any: '10/P7D' },
      quietHours: '20:00-09:00',
      returnBlock: 'P60D',
      purchaseBlock: 'P14D',
      stockMaxAge: 'PT6H',
      signalMaxAge: 'P30D',
      sensitiveCategories: ['health', 'baby', 'adult'],
      changed: ['caps.push', 'quietHours', 'returnBlock'],
      loosen: [],
    });

    const previewed = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/preview`, {});
    expect(previewed.statusCode, previewed.body).toBe(200);
    const { customers } = previewed.json<{ preview: { customers: Record<string, number> } }>().preview;
    expect(customers).toEqual({
      would_issue: ordinary.length - holdout,
      would_replace: 0,
      would_queue: 0,
      outranked: 1,
      slot_taken: 0,
      holdout,
      no_profile: 1,
      sensitive_category: 1,
      lifecycle_mismatch: 0,
      recently_returned: 2,
      recently_purchased: 1,
      out_of_stock: 0,
      open_offer_limit: 1,
      erased: 0,
    });

    const approval = await call('admin', 'POST', `/v1/campaigns/${campaign.id}/approve`, {});
    expect(approval.statusCode, approval.body).toBe(200);
    // Run by hand: a schedule far ahead, fired here, so nothing but this test works the run.
    const scheduled = await ctx.ledger.campaigns.update(
      campaign.id,
      { action: 'schedule', schedule: { kind: 'once', at: now + HOUR }, scheduleKind: 'once' },
      'test',
    );
    const fired = await ctx.ledger.campaigns.update(
      campaign.id,
      { action: 'fire', fireId: 'by-hand', scheduleVersion: Number(scheduled.fields['scheduleVersion']) },
      'test',
    );
    expect(await runCampaign(ctx.ledger, campaign.id, fired.run!)).toEqual({
      kind: 'completed',
      run: fired.run,
    });

    const reply = await call('support', 'GET', `/v1/campaigns/${campaign.id}`);
    expect(reply.statusCode, reply.body).toBe(200);
    const { progress } = reply.json<CampaignView>();
    const skips = Object.fromEntries(
      Object.entries(customers).filter(([name, count]) => !name.startsWith('would_') && count > 0),
    );
    expect(progress.skippedBy).toEqual(skips);
    expect(progress.issued).toBe(customers['would_issue']);
    expect(progress.processed).toBe(audience.length);

    // Each refused customer got no offer of the campaign, and the ones the ledger knows were told why.
    for (const [reason, ids] of Object.entries(special)) {
      for (const id of ids) {
        const offers = (await ctx.ledger.offers.customerOffers(id)).filter(
          (offer) => offer.campaignId === campaign.id,
        );
        if (reason === 'outranked') {
          expect(offers.map((offer) => offer.state)).toEqual(['superseded']);
          continue;
        }
        expect(offers, `${reason}: ${id}`).toEqual([]);
        if (reason === 'no_profile' || reason === 'open_offer_limit') continue;
        const history = await ctx.ledger.customers.history(id);
        expect(
          history.filter((entry) => entry.action === 'not_offered').map((entry) => entry.reason),
        ).toEqual([reason]);
      }
    }
    // The offers issued carry the campaign's changed rules, so their sends are held to them too.
    const issued = ordinary.find((id) => !inHoldout(campaign.id, id, HOLDOUT_PERCENT))!;
    const [offer] = (await ctx.ledger.offers.customerOffers(issued)).filter(
      (item) => item.campaignId === campaign.id,
    );
    expect(offer).toMatchObject({ state: 'active', category: 'health' });
  });
});
