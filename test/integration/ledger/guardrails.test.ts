import { afterEach, describe, expect, it } from 'vitest';
import { GUARDRAILS_OFF, type GuardrailRules } from '../../../src/config/guardrails.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { quietWindowEnd, zoneOffsets } from '../../../src/ledger/zones.ts';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';
import { seededRandom } from '../../support/random.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let ctx: LedgerContext;
afterEach(async () => {
  await ctx.cleanup();
});

function guarded(rules: Partial<GuardrailRules>): Ledger {
  ctx = ledgerContext({ limits: { guardrails: { ...GUARDRAILS_OFF, ...rules } } });
  return ctx.ledger;
}

async function customer(ledger: Ledger, customerId: string, extra: Record<string, unknown> = {}) {
  await ledger.customers.upsertProfile(
    customerId,
    {
      email: `${customerId}@example.com`,
      pushEndpoint: `device-${customerId}`,
      consent: { email: true, push: true, web: true },
      ...extra,
    },
    { actor: 'test', source: 'fixture' },
  );
}

const event = (ledger: Ledger, type: 'purchase' | 'return', customerId: string, sku: string, at: number) =>
  ledger.signals.recordEvent({ type, eventId: `${type}-${customerId}-${sku}-${at}`, source: 'orders', at, customerId, sku });

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the issue to be refused');
}

describe('guardrails at issue', () => {
  it('refuses with the first rule the offer breaks, records it in the history, and the dry run agrees', async () => {
    const ledger = guarded({ sensitiveCategories: ['health'], returnBlockMs: 30 * DAY, purchaseBlockMs: 14 * DAY });
    const now = await ledger.now();
    await customer(ledger, 'c-1');
    await event(ledger, 'return', 'c-1', 'SKU-R', now - DAY);
    await event(ledger, 'purchase', 'c-1', 'SKU-P', now - DAY);
    await event(ledger, 'purchase', 'c-1', 'SKU-OLD', now - 20 * DAY);
    await ledger.signals.recordStock({ type: 'stock', eventId: 's-1', sku: 'SKU-OUT', inStock: false, at: now, source: 'wms' });

    const cases = [
      [{ category: 'health' }, 'sensitive_category'],
      [{ sku: 'SKU-R' }, 'recently_returned'],
      [{ sku: 'SKU-P' }, 'recently_purchased'],
      [{ sku: 'SKU-OUT' }, 'out_of_stock'],
    ] as const;
    for (const [fields, reason] of cases) {
      const input = offerInput('c-1', { sku: undefined, category: undefined, ...fields }, now);
      const before = await ctx.snapshot();
      expect(await ledger.offers.check(input)).toMatchObject({ result: 'refused', reason });
      expect(await ctx.snapshot()).toEqual(before);
      expect(await refusal(ledger.offers.issue(input, 'marketer'))).toMatchObject({
        code: 'guardrail',
        details: { reason },
      });
    }
    expect(await ledger.offers.customerOffers('c-1')).toEqual([]);
    const history = await ledger.customers.history('c-1');
    expect(history.filter((entry) => entry.action === 'not_offered').map((entry) => entry.reason)).toEqual(
      cases.map(([, reason]) => reason),
    );
    // Bought 20 days ago is outside the 14-day window; a product nobody returned is fine.
    const fine = offerInput('c-1', { sku: 'SKU-OLD', category: undefined }, now);
    expect(await ledger.offers.check(fine)).toMatchObject({ result: 'ok', slotLive: null });
    expect((await ledger.offers.issue(fine, 'marketer')).offer.state).toBe('active');
  });

  it('opting in lets a sensitive offer through; a campaign asks for a profile and a lifecycle', async () => {
    const ledger = guarded({ sensitiveCategories: ['health'] });
    const now = await ledger.now();
    await customer(ledger, 'c-1', { sensitiveOptIns: ['health'] });
    const health = offerInput('c-1', { category: 'health', sku: undefined }, now);
    expect((await ledger.offers.issue(health, 'marketer')).offer.state).toBe('active');

    const stranger = offerInput('c-nobody', {}, now);
    expect(await ledger.offers.check(stranger, { requireProfile: true })).toMatchObject({
      result: 'refused',
      reason: 'no_profile',
    });
    expect(await refusal(ledger.offers.issue(stranger, 'campaign:x', { requireProfile: true }))).toMatchObject({
      details: { reason: 'no_profile' },
    });
    // Nothing is written for a customer the ledger does not know.
    expect(await ledger.customers.history('c-nobody')).toEqual([]);

    await customer(ledger, 'c-2');
    const returning = offerInput('c-2', { slot: 'welcome-back', sku: undefined }, now);
    expect(await ledger.offers.check(returning, { lifecycle: 'returning' })).toMatchObject({
      reason: 'lifecycle_mismatch',
    });
    expect(await ledger.offers.check(returning, { lifecycle: 'new' })).toMatchObject({ result: 'ok' });
    await event(ledger, 'purchase', 'c-2', 'SKU-9', now - 200 * DAY);
    expect(await ledger.offers.check(returning, { lifecycle: 'returning' })).toMatchObject({ result: 'ok' });
  });

  it("a campaign's rules replace the deployment's, at issue and at the claim", async () => {
    const ledger = guarded({ sensitiveCategories: ['health'] });
    const now = await ledger.now();
    await customer(ledger, 'c-1');
    const input = offerInput('c-1', { category: 'health', sku: undefined }, now);
    const loosened = { sensitiveCategories: [] };
    const { offer } = await ledger.offers.issue(input, 'campaign:x', { guardrails: loosened });
    expect(offer.state).toBe('active');
    expect(await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE })).toMatchObject({
      answer: 'go',
    });
  });
});

describe('guardrails at the claim', () => {
  it('an opt-in withdrawn or a purchase after the issue skips the send', async () => {
    const ledger = guarded({ sensitiveCategories: ['health'], purchaseBlockMs: 14 * DAY });
    const now = await ledger.now();
    await customer(ledger, 'c-1', { sensitiveOptIns: ['health'] });
    const { offer } = await ledger.offers.issue(offerInput('c-1', { category: 'health', sku: undefined }, now), 'm');
    await customer(ledger, 'c-1', { sensitiveOptIns: [] });
    expect(await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'push', leaseMs: MINUTE })).toMatchObject({
      answer: 'skip',
      reason: 'sensitive_category',
    });
    expect((await ledger.offers.getOffer(offer.offerId))?.deliveries.push).toMatchObject({
      state: 'skipped',
      reason: 'sensitive_category',
    });
  });

  it('a SKU without a hint is read when the claim names it (recheck), and stale stock holds', async () => {
    const ledger = guarded({ stockMaxAgeMs: HOUR });
    const now = await ledger.now();
    await customer(ledger, 'c-1');
    await ledger.signals.recordStock({ type: 'stock', eventId: 's-1', sku: 'SKU-1', inStock: true, at: now - 2 * HOUR, source: 'wms' });
    const { offer } = await ledger.offers.issue(offerInput('c-1', { sku: 'SKU-1' }, now), 'm');
    const answer = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE });
    expect(answer).toMatchObject({ answer: 'hold', reason: 'stock_unknown' });
    const claims = ctx.calls.filter((call) => call.script.name === 'claimDelivery');
    expect(claims).toHaveLength(2);
    await ledger.signals.recordStock({ type: 'stock', eventId: 's-2', sku: 'SKU-1', inStock: true, at: now, source: 'wms' });
    expect(
      await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE, skuHint: 'SKU-1' }),
    ).toMatchObject({ answer: 'go' });
    expect(ctx.calls.filter((call) => call.script.name === 'claimDelivery')).toHaveLength(3);
  });

  it('a cap of one push a day: two offers in two slots, one push; a failed send frees its place', async () => {
    const ledger = guarded({ caps: [{ scope: 'push', count: 1, windowMs: DAY }] });
    const now = await ledger.now();
    await customer(ledger, 'c-1');
    const a = await ledger.offers.issue(offerInput('c-1', { slot: 'a', channels: ['push'] }, now), 'm');
    const b = await ledger.offers.issue(offerInput('c-1', { slot: 'b', channels: ['push'] }, now), 'm');
    const first = await ledger.deliveries.claim({ offerId: a.offer.offerId, channel: 'push', leaseMs: MINUTE });
    if (first.answer !== 'go') throw new Error('expected GO');
    await ledger.deliveries.confirm({
      offerId: a.offer.offerId,
      channel: 'push',
      token: first.token,
      outcome: 'failed',
      reason: 'push_400',
    });
    const second = await ledger.deliveries.claim({ offerId: b.offer.offerId, channel: 'push', leaseMs: MINUTE });
    expect(second).toMatchObject({ answer: 'go' });
    const c = await ledger.offers.issue(offerInput('c-1', { slot: 'c', channels: ['push'] }, now), 'm');
    expect(await ledger.deliveries.claim({ offerId: c.offer.offerId, channel: 'push', leaseMs: MINUTE })).toMatchObject({
      answer: 'skip',
      reason: 'frequency_cap',
    });
    const history = await ledger.customers.history('c-1');
    expect(history.find((entry) => entry.reason === 'frequency_cap')?.detail).toMatchObject({
      scope: 'push',
      count: 1,
      windowMs: DAY,
    });
  });
});

describe('quiet hours in the claim', () => {
  const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Asia/Tokyo', 'UTC'];
  const RULES = [
    { startMin: 21 * 60, endMin: 8 * 60 },
    { startMin: 1 * 60 + 30, endMin: 3 * 60 },
    { startMin: 0, endMin: 23 * 60 + 59 },
  ];

  it('holds until the window ends in the customer zone, as the reference computes it (seeded instants over a year, DST nights included)', async () => {
    const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    ctx = ledgerContext();
    const realNow = await ctx.ledger.now();
    // Instants across the next year, and the nights the clocks change in the zones above.
    const changes = [Date.UTC(2027, 2, 14, 6, 30), Date.UTC(2027, 2, 28, 0, 30), Date.UTC(2027, 3, 4, 14, 45), Date.UTC(2027, 9, 31, 0, 45), Date.UTC(2027, 10, 7, 5, 30)];
    let checked = 0;
    let held = 0;
    for (let i = 0; i < 90; i++) {
      const zone = ZONES[Math.floor(random() * ZONES.length)] ?? 'UTC';
      const rule = RULES[Math.floor(random() * RULES.length)] ?? RULES[0]!;
      const base = i % 3 === 0 ? (changes[Math.floor(random() * changes.length)] ?? 0) - realNow : 0;
      const skew = base + Math.floor(random() * 365 * DAY) * (base === 0 ? 1 : 0) + Math.floor(random() * 6 * HOUR) - 3 * HOUR;
      const ledger = new Ledger(ctx.redis, {
        prefix: ctx.prefix,
        partitions: 16,
        clockSkewMs: skew,
        limits: { guardrails: { ...GUARDRAILS_OFF, quietHours: rule } },
      });
      const customerId = `c-${i}`;
      await customer(ledger, customerId, { timezone: zone });
      const now = await ledger.now();
      const { offer } = await ledger.offers.issue(offerInput(customerId, { sku: undefined, validUntil: now + 3 * DAY }, now), 'm');
      const answer = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE });
      const expected = quietWindowEnd(rule, zoneOffsets(zone, answer.now), answer.now);
      const context = `seed ${seed}, case ${i}: ${zone} ${JSON.stringify(rule)} at ${new Date(answer.now).toISOString()}`;
      if (expected === undefined) {
        expect(answer, context).toMatchObject({ answer: 'go' });
      } else {
        expect(answer, context).toMatchObject({ answer: 'hold', reason: 'quiet_hours', retryAt: expected });
        held += 1;
      }
      checked += 1;
    }
    expect(checked).toBe(90);
    expect(held, `seed ${seed}`).toBeGreaterThan(10);
  });

  it('the banner is never held: it shows the offer while email and push wait', async () => {
    ctx = ledgerContext();
    const base = await ctx.ledger.now();
    const local = new Date(base).getUTCHours() * 60 + new Date(base).getUTCMinutes();
    const ledger = new Ledger(ctx.redis, {
      prefix: ctx.prefix,
      partitions: 16,
      limits: {
        guardrails: { ...GUARDRAILS_OFF, quietHours: { startMin: (local + 1380) % 1440, endMin: (local + 60) % 1440 } },
      },
    });
    await customer(ledger, 'c-1', { timezone: 'UTC' });
    const { offer } = await ledger.offers.issue(offerInput('c-1', {}, base), 'm');
    for (const channel of ['email', 'push'] as const) {
      expect(await ledger.deliveries.claim({ offerId: offer.offerId, channel, leaseMs: MINUTE })).toMatchObject({
        answer: 'hold',
        reason: 'quiet_hours',
      });
    }
    expect((await ledger.offers.currentOffer('c-1', 'promo')).offer?.offerId).toBe(offer.offerId);
    const held = (await ledger.customers.history('c-1')).find((entry) => entry.reason === 'quiet_hours');
    expect(held?.detail).toMatchObject({ timezone: 'UTC' });
  });
});
