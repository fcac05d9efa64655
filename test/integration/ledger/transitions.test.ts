import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConcordError } from '../../../src/errors.ts';
import { GUARDRAILS_OFF, type GuardrailRules } from '../../../src/config/guardrails.ts';
import { Ledger, type ClaimGuards } from '../../../src/ledger/index.ts';
import { localMinute } from '../../support/guardrails.ts';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';

const MINUTE = 60_000;

let ctx: LedgerContext;
let ledger: Ledger;

beforeEach(() => {
  ctx = ledgerContext();
  ledger = ctx.ledger;
});
afterEach(async () => {
  await ctx.cleanup();
});

async function customer(customerId: string, consent = { email: true, push: true, web: true }) {
  await ledger.customers.upsertProfile(
    customerId,
    {
      email: `${customerId}@example.com`,
      pushEndpoint: `https://push.example/${customerId}`,
      timezone: 'Europe/Paris',
      consent,
    },
    { actor: 'test', source: 'test-fixture' },
  );
}

/** Claims an offer's push and confirms it sent, as a worker whose provider accepted it. */
async function sendPush(offerId: string) {
  const go = await ledger.deliveries.claim({ offerId, channel: 'push', leaseMs: MINUTE });
  if (go.answer !== 'go') throw new Error('expected GO');
  await ledger.deliveries.confirm({ offerId, channel: 'push', token: go.token, outcome: 'sent' });
}

async function outbox(customerId: string) {
  const key = ledger.keys.customer(customerId).outbox;
  const entries = await ctx.redis.xrange(key, '-', '+');
  return entries
    .map(([, fields]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
      return record;
    })
    .filter((entry) => entry['customer'] === customerId);
}

async function rejects(promise: Promise<unknown>, code: string): Promise<ConcordError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConcordError);
    expect((error as ConcordError).code).toBe(code);
    return error as ConcordError;
  }
  throw new Error(`expected a ${code} error`);
}

describe('issue', () => {
  it('makes an offer live on every channel and queues its sends', async () => {
    await customer('c-1');
    const { offer, superseded, duplicate } = await ledger.offers.issue(offerInput('c-1'), 'marketer');
    expect(offer.state).toBe('active');
    expect(superseded).toEqual([]);
    expect(duplicate).toBe(false);
    expect(offer.deliveries.email).toMatchObject({ state: 'scheduled', attempts: 0 });
    expect(offer.deliveries.push).toMatchObject({ state: 'scheduled', attempts: 0 });
    expect(offer.deliveries.web).toMatchObject({ state: 'sent', reason: 'published' });

    const effects = await outbox('c-1');
    expect(effects.map((e) => `${e['kind']}:${e['channel']}`).sort()).toEqual([
      'deliver:email',
      'deliver:push',
    ]);
    // Its expiry is due in the partition's due index, where the sweeper finds it.
    expect(await ctx.redis.zscore(ledger.keys.customer('c-1').due, `expire|${offer.offerId}`)).toBe(
      String(offer.validUntil),
    );

    const live = await ledger.offers.currentOffer('c-1', 'promo');
    expect(live.offer?.offerId).toBe(offer.offerId);
    expect(live.offer?.code).toBe('RUN20-7QX');

    const actions = (await ledger.customers.history('c-1'))
      .filter((e) => e.offer === offer.offerId)
      .map((e) => e.action);
    expect(actions).toEqual(['issued', 'activated', 'delivery_sent']);
  });

  it('keeps the banner empty without web consent', async () => {
    await customer('c-2', { email: true, push: true, web: false });
    const { offer } = await ledger.offers.issue(offerInput('c-2'), 'marketer');
    expect(offer.deliveries.web).toMatchObject({ state: 'skipped', reason: 'no_consent' });
    expect((await ledger.offers.currentOffer('c-2', 'promo')).offer).toBeUndefined();
  });

  it('refuses a validity that already ended, by the ledger clock, and writes nothing', async () => {
    const now = await ledger.now();
    const before = await ctx.snapshot();
    await rejects(ledger.offers.issue(offerInput('c-1', { validUntil: now - 1 }), 'm'), 'invalid_input');
    await rejects(
      ledger.offers.issue(offerInput('c-1', { validFrom: now + 2 * MINUTE, validUntil: now + MINUTE }), 'm'),
      'invalid_input',
    );
    await rejects(
      ledger.offers.issue(offerInput('c-1', { channels: ['email', 'fax'] }), 'm'),
      'invalid_input',
    );
    await rejects(ledger.offers.issue(offerInput('c|1'), 'm'), 'invalid_input');
    expect(await ctx.snapshot()).toEqual(before);
  });

  it('returns the same offer for the same idempotency key, and refuses it for another offer', async () => {
    const validUntil = (await ledger.now()) + 60 * MINUTE;
    const first = await ledger.offers.issue(offerInput('c-1', { idempotencyKey: 'k-1', validUntil }), 'm');
    const again = await ledger.offers.issue(offerInput('c-1', { idempotencyKey: 'k-1', validUntil }), 'm');
    expect(again.duplicate).toBe(true);
    expect(again.offer.offerId).toBe(first.offer.offerId);
    const error = await rejects(
      ledger.offers.issue(offerInput('c-1', { idempotencyKey: 'k-1', validUntil, title: 'other' }), 'm'),
      'conflict',
    );
    expect(error.message).toMatch(/idempotencyKey/);
    expect(await ledger.offers.customerOffers('c-1')).toHaveLength(1);
  });
});

describe('contradictions', () => {
  it('replace: the higher priority supersedes the live offer and its sends end', async () => {
    await customer('c-1');
    const low = await ledger.offers.issue(
      offerInput('c-1', { priority: 5, discount: { kind: 'percent', value: 10 } }),
      'm',
    );
    const high = await ledger.offers.issue(offerInput('c-1', { priority: 20 }), 'm');
    expect(high.offer.state).toBe('active');
    expect(high.superseded).toEqual([low.offer.offerId]);
    const loser = await ledger.offers.getOffer(low.offer.offerId);
    expect(loser).toMatchObject({
      state: 'superseded',
      supersededBy: high.offer.offerId,
      endReason: 'outranked',
    });
    expect(loser?.deliveries.email).toMatchObject({ state: 'cancelled', reason: 'offer_superseded' });
    expect((await ledger.offers.currentOffer('c-1', 'promo')).offer?.offerId).toBe(high.offer.offerId);
  });

  it('replace: a lower-priority newcomer is superseded at birth; a tie goes to the newer', async () => {
    const strong = await ledger.offers.issue(offerInput('c-1', { priority: 20 }), 'm');
    const weak = await ledger.offers.issue(offerInput('c-1', { priority: 5 }), 'm');
    expect(weak.offer).toMatchObject({ state: 'superseded', supersededBy: strong.offer.offerId });
    expect(weak.offer.deliveries.email).toMatchObject({ state: 'cancelled', reason: 'offer_superseded' });
    const tie = await ledger.offers.issue(offerInput('c-1', { priority: 20 }), 'm');
    expect(tie.offer.state).toBe('active');
    expect(tie.superseded).toEqual([strong.offer.offerId]);
  });

  it('reject: a second offer in a taken slot is refused and nothing changes', async () => {
    const live = await ledger.offers.issue(offerInput('c-1', { policy: 'reject' }), 'm');
    const before = await ctx.snapshot();
    const error = await rejects(
      ledger.offers.issue(offerInput('c-1', { policy: 'reject', priority: 99 }), 'm'),
      'conflict',
    );
    expect(error.details).toMatchObject({ conflicting: [live.offer.offerId] });
    expect(await ctx.snapshot()).toEqual(before);
  });

  it('queue: the newcomer waits and takes the slot when the live offer ends', async () => {
    await customer('c-1');
    const first = await ledger.offers.issue(offerInput('c-1'), 'm');
    const queued = await ledger.offers.issue(offerInput('c-1', { policy: 'queue', priority: 99 }), 'm');
    expect(queued.offer).toMatchObject({ state: 'pending', queued: true });
    expect(
      (await ledger.deliveries.claim({ offerId: queued.offer.offerId, channel: 'email', leaseMs: MINUTE }))
        .answer,
    ).toBe('hold');
    await ledger.offers.cancel(first.offer.offerId, { reason: 'ended by test', actor: 'support' });
    expect((await ledger.offers.getOffer(queued.offer.offerId))?.state).toBe('active');
    expect((await ledger.offers.currentOffer('c-1', 'promo')).offer?.offerId).toBe(queued.offer.offerId);
    const actions = (await ledger.customers.history('c-1'))
      .filter((e) => e.offer === queued.offer.offerId)
      .map((e) => e.action);
    expect(actions.slice(0, 4)).toEqual(['issued', 'queued', 'delivery_held', 'activated']);
  });

  it('prices of the same SKU must agree across slots', async () => {
    const promo = await ledger.offers.issue(offerInput('c-1', { slot: 'promo', priority: 5 }), 'm');
    const sameTerms = await ledger.offers.issue(offerInput('c-1', { slot: 'cart', priority: 1 }), 'm');
    expect(sameTerms.offer.state).toBe('active');
    const cheaper = await ledger.offers.issue(
      offerInput('c-1', { slot: 'email-only', priority: 10, discount: { kind: 'percent', value: 30 } }),
      'm',
    );
    expect(cheaper.offer.state).toBe('active');
    expect([...cheaper.superseded].sort()).toEqual([promo.offer.offerId, sameTerms.offer.offerId].sort());
    const otherSku = await ledger.offers.issue(
      offerInput('c-1', {
        slot: 'promo',
        sku: 'HAT-1',
        category: 'hats',
        discount: { kind: 'percent', value: 5 },
      }),
      'm',
    );
    expect(otherSku.offer.state).toBe('active');
  });
});

describe('time', () => {
  it('activates a future offer when validFrom comes', async () => {
    const now = await ledger.now();
    const { offer } = await ledger.offers.issue(
      offerInput('c-1', { validFrom: now + 10 * MINUTE, validUntil: now + 60 * MINUTE }),
      'm',
    );
    expect(offer.state).toBe('pending');
    expect(await outbox('c-1')).toEqual([]);
    const due = await ctx.redis.zrange(ledger.keys.customer('c-1').due, '0', '-1', 'WITHSCORES');
    expect(due).toEqual([
      `activate|${offer.offerId}`,
      String(offer.validFrom),
      `expire|${offer.offerId}`,
      String(offer.validUntil),
    ]);
    const hold = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE });
    expect(hold).toMatchObject({ answer: 'hold', reason: 'not_yet_valid', retryAt: offer.validFrom });

    expect((await ledger.offers.activate(offer.offerId)).offer.state).toBe('pending');
    const later = ledger.withClockSkew(11 * MINUTE);
    const activated = await later.offers.activate(offer.offerId);
    expect(activated.offer.state).toBe('active');
    expect((await outbox('c-1')).filter((e) => e['kind'] === 'deliver')).toHaveLength(2);
  });

  it('never shows an offer past validUntil, even before it is expired', async () => {
    await customer('c-1');
    const now = await ledger.now();
    const { offer } = await ledger.offers.issue(offerInput('c-1', { validUntil: now + 5 * MINUTE }), 'm');
    const later = ledger.withClockSkew(5 * MINUTE);
    expect((await later.offers.currentOffer('c-1', 'promo')).offer).toBeUndefined();
    expect((await ledger.offers.getOffer(offer.offerId))?.state).toBe('active');
    const claim = await later.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE });
    expect(claim).toMatchObject({ answer: 'skip', reason: 'delivery_cancelled' });
    const expired = await ledger.offers.getOffer(offer.offerId);
    expect(expired).toMatchObject({ state: 'expired', endReason: 'validity_ended' });
    expect(expired?.deliveries.push).toMatchObject({ state: 'cancelled', reason: 'offer_expired' });
  });

  it('expire leaves an offer alone until it is due', async () => {
    const now = await ledger.now();
    const { offer } = await ledger.offers.issue(offerInput('c-1', { validUntil: now + 5 * MINUTE }), 'm');
    expect((await ledger.offers.expire(offer.offerId)).offer.state).toBe('active');
    expect((await ledger.withClockSkew(6 * MINUTE).offers.expire(offer.offerId)).offer.state).toBe('expired');
    expect(await ledger.indexes.dueTransitions(ledger.keys.partitionOf('c-1'))).toEqual([]);
  });
});

describe('cancel and redeem', () => {
  it('cancel ends the offer everywhere; a replay changes nothing; ended offers refuse', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const cancelled = await ledger.offers.cancel(offer.offerId, {
      reason: 'wrong code',
      actor: 'support:ana',
    });
    expect(cancelled.changed).toBe(true);
    expect(cancelled.offer).toMatchObject({ state: 'cancelled', endReason: 'wrong code' });
    expect((await ledger.offers.currentOffer('c-1', 'promo')).offer).toBeUndefined();
    const before = await ctx.snapshot();
    expect(
      (await ledger.offers.cancel(offer.offerId, { reason: 'again', actor: 'support:ana' })).changed,
    ).toBe(false);
    expect(await ctx.snapshot()).toEqual(before);
    await rejects(ledger.offers.redeem(offer.offerId, { actor: 'shop' }), 'conflict');
    await rejects(
      ledger.offers.cancel('o03-01M8HMK2TQQR5SDX2VZ60F1ZHS', { reason: 'x', actor: 'y' }),
      'not_found',
    );
  });

  it('honours an expected version', async () => {
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    await rejects(
      ledger.offers.cancel(offer.offerId, { reason: 'x', actor: 'y', expectedVersion: 1 }),
      'conflict',
    );
    expect(
      (await ledger.offers.cancel(offer.offerId, { reason: 'x', actor: 'y', expectedVersion: offer.version }))
        .changed,
    ).toBe(true);
  });

  it('redeem needs an active offer', async () => {
    const now = await ledger.now();
    const future = await ledger.offers.issue(
      offerInput('c-1', { validFrom: now + MINUTE, slot: 'later' }),
      'm',
    );
    await rejects(ledger.offers.redeem(future.offer.offerId, { actor: 'shop' }), 'conflict');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    expect((await ledger.offers.redeem(offer.offerId, { actor: 'shop' })).offer.state).toBe('redeemed');
  });
});

describe('storage', () => {
  it('keeps open offers in the live document and moves an ended one to the offers hash', async () => {
    await customer('c-1');
    const keys = ledger.keys.customer('c-1');
    const first = await ledger.offers.issue(offerInput('c-1'), 'm');
    const second = await ledger.offers.issue(offerInput('c-1', { slot: 'footer' }), 'm');
    expect(await ctx.redis.type(keys.live)).toBe('string');
    expect(await ctx.redis.hlen(keys.offers)).toBe(0);

    await ledger.offers.cancel(first.offer.offerId, { reason: 'x', actor: 'y' });
    expect(await ctx.redis.hkeys(keys.offers)).toEqual([first.offer.offerId]);
    expect((await ledger.offers.getOffer(first.offer.offerId))?.state).toBe('cancelled');
    expect((await ledger.offers.getOffer(second.offer.offerId))?.state).toBe('active');
    expect((await ledger.offers.customerOffers('c-1')).map((offer) => offer.offerId)).toEqual([
      first.offer.offerId,
      second.offer.offerId,
    ]);

    await ledger.offers.cancel(second.offer.offerId, { reason: 'x', actor: 'y' });
    // No open offer left: no live document either.
    expect(await ctx.redis.exists(keys.live)).toBe(0);
    expect((await ledger.offers.getOffer(second.offer.offerId))?.deliveries.email?.state).toBe('cancelled');
  });

  it('still reads an ended offer stored as JSON', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    await ledger.offers.cancel(offer.offerId, { reason: 'x', actor: 'y' });
    const ended = await ledger.offers.getOffer(offer.offerId);
    await ctx.redis.hset(ledger.keys.customer('c-1').offers, offer.offerId, JSON.stringify(ended));
    expect(await ledger.offers.getOffer(offer.offerId)).toEqual(ended);
    expect(await ledger.offers.customerOffers('c-1')).toEqual([ended]);
  });

  it('stores an offer in a fraction of its JSON size', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const stored = await ctx.redis.getBuffer(ledger.keys.customer('c-1').live);
    expect(stored?.length).toBeLessThan(JSON.stringify(offer).length / 2);
  });
});

describe('claim and confirm', () => {
  it('gives one lease at a time and answers a resent claim the same way', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const go = await ledger.deliveries.claim({
      offerId: offer.offerId,
      channel: 'email',
      leaseMs: MINUTE,
      claimId: 'w1',
    });
    expect(go).toMatchObject({
      answer: 'go',
      token: 1,
      recipient: { address: 'c-1@example.com', timezone: 'Europe/Paris' },
    });
    expect(
      await ledger.deliveries.claim({
        offerId: offer.offerId,
        channel: 'email',
        leaseMs: MINUTE,
        claimId: 'w1',
      }),
    ).toMatchObject({
      answer: 'go',
      token: 1,
    });
    expect(
      await ledger.deliveries.claim({
        offerId: offer.offerId,
        channel: 'email',
        leaseMs: MINUTE,
        claimId: 'w2',
      }),
    ).toMatchObject({
      answer: 'hold',
      reason: 'in_flight',
    });
    expect(
      await ledger.deliveries.confirm({
        offerId: offer.offerId,
        channel: 'email',
        token: 2,
        outcome: 'sent',
      }),
    ).toMatchObject({
      result: 'stale',
    });
    expect(
      await ledger.deliveries.confirm({
        offerId: offer.offerId,
        channel: 'email',
        token: 1,
        outcome: 'sent',
      }),
    ).toMatchObject({
      result: 'confirmed',
      delivery: { state: 'sent', attempts: 1 },
    });
    expect(
      await ledger.deliveries.confirm({
        offerId: offer.offerId,
        channel: 'email',
        token: 1,
        outcome: 'sent',
      }),
    ).toMatchObject({
      result: 'unchanged',
    });
    expect(
      await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE }),
    ).toMatchObject({
      answer: 'skip',
      reason: 'already_sent',
    });
  });

  it('skips without consent, without an address, and with too little validity left', async () => {
    await customer('c-1', { email: false, push: true, web: true });
    await ledger.customers.upsertProfile('c-2', { consent: { push: true } }, { actor: 't', source: 't' });
    const now = await ledger.now();
    const a = await ledger.offers.issue(offerInput('c-1', { validUntil: now + 10 * MINUTE }), 'm');
    expect(
      await ledger.deliveries.claim({ offerId: a.offer.offerId, channel: 'email', leaseMs: MINUTE }),
    ).toMatchObject({
      answer: 'skip',
      reason: 'no_consent',
    });
    expect(
      await ledger.deliveries.claim({
        offerId: a.offer.offerId,
        channel: 'push',
        leaseMs: MINUTE,
        minRemainingMs: 15 * MINUTE,
      }),
    ).toMatchObject({ answer: 'skip', reason: 'too_little_validity_left' });
    const b = await ledger.offers.issue(offerInput('c-2'), 'm');
    expect(
      await ledger.deliveries.claim({ offerId: b.offer.offerId, channel: 'push', leaseMs: MINUTE }),
    ).toMatchObject({
      answer: 'skip',
      reason: 'no_address',
    });
    const stored = await ledger.offers.getOffer(a.offer.offerId);
    expect(stored?.deliveries.email).toMatchObject({ state: 'skipped', reason: 'no_consent' });
  });

  it('holds for quiet hours, a lagging feed and stale stock; skips out-of-stock and stale past the deadline', async () => {
    await customer('c-1');
    const now = await ledger.now();
    // Quiet hours from half an hour ago to half an hour ahead in the customer's zone, at any hour.
    const local = localMinute('Europe/Paris', now);
    const quietHours = { startMin: (local + 1410) % 1440, endMin: (local + 30) % 1440 };
    const guarded = (rules: Partial<GuardrailRules>) =>
      new Ledger(ctx.redis, {
        prefix: ctx.prefix,
        partitions: 16,
        limits: { guardrails: { ...GUARDRAILS_OFF, ...rules } },
      });
    const stock = (inStock: boolean, at: number, eventId: string) =>
      ledger.signals.recordStock({ type: 'stock', eventId, sku: 'SHOE-42', inStock, at, source: 'erp' });
    await stock(true, now - 10 * MINUTE, 's-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1', { validUntil: now + 60 * MINUTE }), 'm');
    const claim = (on: Ledger, channel: 'email' | 'push' = 'email', guards: ClaimGuards = {}) =>
      on.deliveries.claim({ offerId: offer.offerId, channel, leaseMs: MINUTE, waitRetryMs: MINUTE, guards });

    const quiet = await claim(guarded({ quietHours }));
    expect(quiet).toMatchObject({ answer: 'hold', reason: 'quiet_hours' });
    // The window's end, to the minute: half an hour ahead, less the seconds past the minute.
    if (quiet.answer !== 'hold') throw new Error('expected a hold');
    expect(quiet.retryAt).toBeGreaterThan(now + 29 * MINUTE);
    expect(quiet.retryAt).toBeLessThanOrEqual(now + 30 * MINUTE);
    expect(
      await claim(ledger, 'email', { watermarks: [{ feed: 'orders', at: now - 5 * MINUTE, needed: now }] }),
    ).toMatchObject({ answer: 'hold', reason: 'feed_behind' });
    expect(await claim(guarded({ stockMaxAgeMs: MINUTE }))).toMatchObject({
      answer: 'hold',
      reason: 'stock_unknown',
    });
    const held = await ledger.offers.getOffer(offer.offerId);
    expect(held?.deliveries.email).toMatchObject({ state: 'held', reason: 'stock_unknown' });
    await stock(false, now, 's-2');
    expect(await claim(ledger, 'push')).toMatchObject({ answer: 'skip', reason: 'out_of_stock' });
    await stock(true, now + 1, 's-3');
    // Still uncertain when the validity is nearly over: the send is given up, never guessed.
    const late = ledger.withClockSkew(59 * MINUTE + 30_000);
    expect(
      await claim(late, 'email', { facts: [{ name: 'profile', asOf: now, maxAge: MINUTE }] }),
    ).toMatchObject({ answer: 'skip', reason: 'uncertain:stale_data' });
    expect((await ledger.offers.getOffer(offer.offerId))?.deliveries.email).toMatchObject({
      state: 'skipped',
      reason: 'uncertain:stale_data',
    });
  });

  it('a send confirmed after a cancel asks for a retraction', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const go = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'push', leaseMs: MINUTE });
    if (go.answer !== 'go') throw new Error('expected GO');
    await ledger.offers.cancel(offer.offerId, { reason: 'mistake', actor: 'marketer' });
    const cancelled = await ledger.offers.getOffer(offer.offerId);
    expect(cancelled?.deliveries.push?.state).toBe('sending');
    expect(cancelled?.deliveries.email).toMatchObject({ state: 'cancelled', reason: 'offer_cancelled' });
    const confirmed = await ledger.deliveries.confirm({
      offerId: offer.offerId,
      channel: 'push',
      token: go.token,
      outcome: 'sent',
    });
    expect(confirmed.retract).toBe(true);
    expect((await outbox('c-1')).filter((e) => e['kind'] === 'retract').map((e) => e['channel'])).toEqual([
      'push',
    ]);
  });

  it('a sent push is retracted when its offer is superseded', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1', { priority: 1 }), 'm');
    await sendPush(offer.offerId);
    await ledger.offers.issue(offerInput('c-1', { priority: 2 }), 'm');
    expect((await ledger.offers.getOffer(offer.offerId))?.deliveries.push).toMatchObject({
      state: 'sent',
      retraction: 'due',
    });
    expect(
      (await outbox('c-1')).filter((e) => e['kind'] === 'retract' && e['offer'] === offer.offerId),
    ).toHaveLength(1);
  });

  it("takes the job's customer id as a hint only: a wrong one is looked up, never a skip", async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    let neighbour = 2;
    while (ledger.keys.partitionOf(`c-${neighbour}`) !== ledger.keys.partitionOf('c-1')) neighbour++;
    await customer(`c-${neighbour}`);
    await ledger.offers.issue(offerInput(`c-${neighbour}`), 'm');

    const fresh = () => ctx.ledger.withClockSkew(0); // no owners remembered yet
    for (const hint of [`c-${neighbour}`, 'c-nobody', '']) {
      const answer = await fresh().deliveries.claim({
        offerId: offer.offerId,
        channel: 'email',
        leaseMs: MINUTE,
        customerId: hint,
      });
      expect(answer).toMatchObject({ answer: 'go', offer: { customerId: 'c-1' } });
      await ledger.deliveries.hold({
        offerId: offer.offerId,
        channel: 'email',
        token: answer.answer === 'go' ? answer.token : 0,
        reason: 'quiet_hours',
        retryAt: 0,
      });
    }
    // The right hint needs no lookup: it works with the owners entry gone.
    await ctx.redis.hdel(ledger.keys.customer('c-1').owners, offer.offerId);
    const hinted = fresh();
    const go = await hinted.deliveries.claim({
      offerId: offer.offerId,
      channel: 'push',
      leaseMs: MINUTE,
      customerId: 'c-1',
    });
    expect(go).toMatchObject({ answer: 'go', offer: { offerId: offer.offerId } });
    if (go.answer !== 'go') throw new Error('expected GO');
    // ... and the confirm finds the owner the claim remembered.
    expect(
      (
        await hinted.deliveries.confirm({
          offerId: offer.offerId,
          channel: 'push',
          token: go.token,
          outcome: 'sent',
        })
      ).result,
    ).toBe('confirmed');
    expect(
      await fresh().deliveries.claim({
        offerId: offer.offerId,
        channel: 'email',
        leaseMs: MINUTE,
        customerId: 'c-2',
      }),
    ).toMatchObject({
      answer: 'skip',
      reason: 'unknown_offer',
    });
  });

  describe('a retraction and a newer push under the same collapse key', () => {
    async function supersededAfterPush() {
      await customer('c-1');
      const { offer: first } = await ledger.offers.issue(
        offerInput('c-1', { priority: 1, channels: ['push'] }),
        'm',
      );
      await sendPush(first.offerId);
      const { offer: second } = await ledger.offers.issue(
        offerInput('c-1', { priority: 2, channels: ['push'] }),
        'm',
      );
      return { first, second };
    }

    it('a newer push claimed while the retraction is being sent waits until it is confirmed', async () => {
      const { first, second } = await supersededAfterPush();
      const start = await ledger.deliveries.beginRetraction(first.offerId, 'push', { leaseMs: MINUTE });
      expect(start).toMatchObject({ answer: 'go', recipient: { address: 'https://push.example/c-1' } });
      if (start.answer !== 'go') throw new Error('expected GO');
      expect(start.offer).toMatchObject({ offerId: first.offerId, state: 'superseded' });

      const held = await ledger.deliveries.claim({
        offerId: second.offerId,
        channel: 'push',
        leaseMs: MINUTE,
      });
      expect(held).toMatchObject({ answer: 'hold', reason: 'retraction_in_flight' });
      if (held.answer !== 'hold') throw new Error('expected HOLD');
      expect(held.retryAt - held.now).toBeLessThanOrEqual(1_000);
      // Email and web do not share the push's collapse key.
      expect((await ledger.offers.getOffer(second.offerId))?.deliveries.push?.state).toBe('held');

      await ledger.deliveries.confirmRetraction(first.offerId, 'push', { outcome: 'done' });
      expect(
        await ledger.deliveries.claim({ offerId: second.offerId, channel: 'push', leaseMs: MINUTE }),
      ).toMatchObject({
        answer: 'go',
      });
      expect((await ledger.offers.getOffer(first.offerId))?.deliveries.push?.retraction).toBe('done');
    });

    it('a retraction begun after the newer push was claimed is done without a send', async () => {
      const { first, second } = await supersededAfterPush();
      const go = await ledger.deliveries.claim({ offerId: second.offerId, channel: 'push', leaseMs: MINUTE });
      expect(go.answer).toBe('go');
      expect(await ledger.deliveries.beginRetraction(first.offerId, 'push')).toMatchObject({
        answer: 'replaced',
        by: second.offerId,
      });
      expect((await ledger.offers.getOffer(first.offerId))?.deliveries.push?.retraction).toBe('done');
      const retracted = (await ledger.customers.history('c-1')).find(
        (e) => e.offer === first.offerId && e.action === 'retracted',
      );
      expect(retracted?.reason).toBe(`replaced_by:${second.offerId}`);
      expect(await ledger.deliveries.beginRetraction(first.offerId, 'push')).toMatchObject({
        answer: 'not_due',
      });
    });

    it('a retraction refused for now stops holding; one never confirmed holds until its lease ends', async () => {
      const { first, second } = await supersededAfterPush();
      expect(
        (await ledger.deliveries.beginRetraction(first.offerId, 'push', { leaseMs: MINUTE })).answer,
      ).toBe('go');
      await ledger.deliveries.confirmRetraction(first.offerId, 'push', { outcome: 'retry' });
      expect((await ledger.offers.getOffer(first.offerId))?.deliveries.push?.retraction).toBe('due');
      expect(
        (await ledger.deliveries.claim({ offerId: second.offerId, channel: 'push', leaseMs: MINUTE })).answer,
      ).toBe('go');

      // A retraction begun and never confirmed (its worker died, or the provider's answer was lost):
      // the next offer in the slot waits for it only as long as its lease.
      await ledger.deliveries.confirm({
        offerId: second.offerId,
        channel: 'push',
        token: 1,
        outcome: 'sent',
      });
      const { offer: third } = await ledger.offers.issue(
        offerInput('c-1', { priority: 3, channels: ['push'] }),
        'm',
      );
      expect(
        (await ledger.deliveries.beginRetraction(second.offerId, 'push', { leaseMs: 5_000 })).answer,
      ).toBe('go');
      expect(
        await ledger.deliveries.claim({ offerId: third.offerId, channel: 'push', leaseMs: MINUTE }),
      ).toMatchObject({
        answer: 'hold',
        reason: 'retraction_in_flight',
      });
      const later = ledger.withClockSkew(5_001);
      expect(
        (await later.deliveries.claim({ offerId: third.offerId, channel: 'push', leaseMs: MINUTE })).answer,
      ).toBe('go');
    });

    it('two retractions in flight in one slot: a newer push waits for both', async () => {
      const { first, second } = await supersededAfterPush();
      await sendPush(second.offerId);
      const { offer: third } = await ledger.offers.issue(
        offerInput('c-1', { priority: 3, channels: ['push'] }),
        'm',
      );
      expect((await ledger.deliveries.beginRetraction(first.offerId, 'push')).answer).toBe('go');
      expect((await ledger.deliveries.beginRetraction(second.offerId, 'push')).answer).toBe('go');
      const claimThird = () =>
        ledger.deliveries.claim({ offerId: third.offerId, channel: 'push', leaseMs: MINUTE });
      expect(await claimThird()).toMatchObject({ answer: 'hold', reason: 'retraction_in_flight' });
      await ledger.deliveries.confirmRetraction(second.offerId, 'push', { outcome: 'done' });
      expect(await claimThird()).toMatchObject({ answer: 'hold', reason: 'retraction_in_flight' });
      await ledger.deliveries.confirmRetraction(first.offerId, 'push', { outcome: 'done' });
      expect((await claimThird()).answer).toBe('go');
      expect(await ctx.redis.exists(ledger.keys.customer('c-1').retracting)).toBe(0);
    });

    it('a retraction with no address left to send to fails with the reason', async () => {
      const { first } = await supersededAfterPush();
      await ctx.redis.hdel(ledger.keys.customer('c-1').profile, 'pushEndpoint');
      expect(await ledger.deliveries.beginRetraction(first.offerId, 'push')).toMatchObject({
        answer: 'failed',
        reason: 'no_address',
      });
      expect((await ledger.offers.getOffer(first.offerId))?.deliveries.push?.retraction).toBe('failed');
    });
  });

  it('retry, failure and unknown outcomes', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const first = await ledger.deliveries.claim({
      offerId: offer.offerId,
      channel: 'email',
      leaseMs: MINUTE,
    });
    if (first.answer !== 'go') throw new Error('expected GO');
    const retry = await ledger.deliveries.confirm({
      offerId: offer.offerId,
      channel: 'email',
      token: first.token,
      outcome: 'retry',
      reason: 'smtp_451',
    });
    expect(retry.delivery).toMatchObject({ state: 'scheduled', reason: 'retry:smtp_451' });
    const second = await ledger.deliveries.claim({
      offerId: offer.offerId,
      channel: 'email',
      leaseMs: MINUTE,
    });
    expect(second).toMatchObject({ answer: 'go', token: 2 });
    if (second.answer !== 'go') throw new Error('expected GO');
    await ledger.deliveries.confirm({
      offerId: offer.offerId,
      channel: 'email',
      token: 2,
      outcome: 'unknown',
      reason: 'connection_lost_after_data',
    });
    expect(await ledger.indexes.unknownDeliveries()).toEqual([
      expect.objectContaining({ customerId: 'c-1', offerId: offer.offerId, channel: 'email' }),
    ]);
    expect(
      await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE }),
    ).toMatchObject({
      answer: 'skip',
      reason: 'delivery_unknown',
    });
    const push = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'push', leaseMs: MINUTE });
    if (push.answer !== 'go') throw new Error('expected GO');
    expect(
      await ledger.deliveries.confirm({
        offerId: offer.offerId,
        channel: 'push',
        token: push.token,
        outcome: 'failed',
        reason: 'push_410',
      }),
    ).toMatchObject({ delivery: { state: 'failed', reason: 'push_410' } });
  });

  it('a lost lease: email becomes unknown, push may be claimed again', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const email = await ledger.deliveries.claim({
      offerId: offer.offerId,
      channel: 'email',
      leaseMs: MINUTE,
    });
    const push = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'push', leaseMs: MINUTE });
    if (email.answer !== 'go' || push.answer !== 'go') throw new Error('expected GO');
    const later = ledger.withClockSkew(2 * MINUTE);
    expect(await later.indexes.expiredLeases(ledger.keys.partitionOf('c-1'))).toHaveLength(2);
    expect((await later.deliveries.expireLease(offer.offerId, 'email')).delivery).toMatchObject({
      state: 'unknown',
      reason: 'lease_expired',
    });
    const again = await later.deliveries.claim({ offerId: offer.offerId, channel: 'push', leaseMs: MINUTE });
    expect(again).toMatchObject({ answer: 'go', token: 2 });
    // The first worker wakes up late: its token is no longer the lease.
    expect(
      (await later.deliveries.confirm({ offerId: offer.offerId, channel: 'push', token: 1, outcome: 'sent' }))
        .result,
    ).toBe('stale');
    // A late but definite answer for the email settles the unknown.
    expect(
      (
        await later.deliveries.confirm({
          offerId: offer.offerId,
          channel: 'email',
          token: email.token,
          outcome: 'sent',
        })
      ).delivery.state,
    ).toBe('sent');
    expect(await ledger.indexes.unknownDeliveries()).toEqual([]);
  });

  it('hold gives a claimed delivery back; support resolves an unknown one', async () => {
    await customer('c-1');
    const { offer } = await ledger.offers.issue(offerInput('c-1'), 'm');
    const go = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE });
    if (go.answer !== 'go') throw new Error('expected GO');
    const now = await ledger.now();
    const held = await ledger.deliveries.hold({
      offerId: offer.offerId,
      channel: 'email',
      token: go.token,
      reason: 'lease_nearly_over',
      retryAt: now + MINUTE,
    });
    expect(held.delivery).toMatchObject({ state: 'held', reason: 'lease_nearly_over' });
    const next = await ledger.deliveries.claim({ offerId: offer.offerId, channel: 'email', leaseMs: MINUTE });
    if (next.answer !== 'go') throw new Error('expected GO');
    await ledger.deliveries.confirm({
      offerId: offer.offerId,
      channel: 'email',
      token: next.token,
      outcome: 'unknown',
      reason: 'push_timeout',
    });
    await rejects(
      ledger.deliveries.resolveDelivery(offer.offerId, 'push', { as: 'sent', actor: 'support' }),
      'conflict',
    );
    const resent = await ledger.deliveries.resolveDelivery(offer.offerId, 'email', {
      as: 'resend',
      actor: 'support:ana',
    });
    expect(resent.delivery.state).toBe('scheduled');
    expect(
      (await outbox('c-1')).filter((e) => e['kind'] === 'deliver' && e['channel'] === 'email'),
    ).toHaveLength(2);
  });
});

describe('profiles and history', () => {
  it('keeps consent with time and source, writes nothing on a replay, and keeps values out of history', async () => {
    const first = await ledger.customers.upsertProfile(
      'c-9',
      {
        email: 'nine@example.com',
        name: 'Nine',
        consent: { email: true, push: false },
        attributes: { tier: 'gold' },
      },
      { actor: 'ingest', source: 'signup-form' },
    );
    expect(first.changed.sort()).toEqual(['attributes', 'email', 'name']);
    const profile = await ledger.customers.getProfile('c-9');
    expect(profile).toMatchObject({
      email: 'nine@example.com',
      attributes: { tier: 'gold' },
      consent: { email: { granted: true, source: 'signup-form', at: first.now }, push: { granted: false } },
    });
    const before = await ctx.snapshot();
    await ledger.customers.upsertProfile(
      'c-9',
      { email: 'nine@example.com', consent: { email: true } },
      { actor: 'ingest', source: 'replay' },
    );
    expect(await ctx.snapshot()).toEqual(before);
    const history = await ledger.customers.history('c-9');
    expect(history.map((e) => e.action)).toEqual(['profile_updated', 'consent_granted', 'consent_revoked']);
    expect(JSON.stringify(history)).not.toContain('nine@example.com');
    await rejects(
      ledger.customers.upsertProfile('c-9', { timezone: 'Mars/Olympus' }, { actor: 'a', source: 's' }),
      'invalid_input',
    );
  });

  it('refuses text that is not valid Unicode before any script runs, and keeps a backslash as it is', async () => {
    const calls = ctx.calls.length;
    await rejects(
      ledger.customers.upsertProfile('c-8', { name: 'Jane \ud800' }, { actor: 'ingest', source: 'form' }),
      'invalid_input',
    );
    await rejects(
      ledger.offers.issue(offerInput('c-8', { title: 'Half \udc00 off' }), 'marketer'),
      'invalid_input',
    );
    expect(ctx.calls.length).toBe(calls);
    // The same characters written out as text are ordinary text.
    await ledger.customers.upsertProfile(
      'c-8',
      { name: 'C:\\ud800 Jane' },
      { actor: 'ingest', source: 'form' },
    );
    expect((await ledger.customers.getProfile('c-8'))?.name).toBe('C:\\ud800 Jane');
  });

  it('tells the story of an offer in ledger-time order', async () => {
    await customer('c-1');
    const a = await ledger.offers.issue(offerInput('c-1', { priority: 1 }), 'marketer:bob');
    const b = await ledger.offers.issue(offerInput('c-1', { priority: 2 }), 'marketer:bob');
    await ledger.offers.cancel(b.offer.offerId, { reason: 'typo in code', actor: 'support:ana' });
    const story = (await ledger.customers.history('c-1'))
      .filter((e) => e.offer !== undefined && !e.action.startsWith('delivery_'))
      .map((e) => `${e.action}:${e.offer === a.offer.offerId ? 'a' : 'b'}`);
    expect(story).toEqual([
      'issued:a',
      'activated:a',
      'issued:b',
      'superseded:a',
      'withdrawn:a',
      'activated:b',
      'cancelled:b',
      'withdrawn:b',
    ]);
    const history = await ledger.customers.history('c-1');
    const times = history.map((e) => e.at);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    const superseded = history.find((e) => e.action === 'superseded');
    expect(superseded).toMatchObject({
      reason: 'outranked',
      detail: { by: b.offer.offerId, priority: 1, winnerPriority: 2 },
    });
    expect(history.find((e) => e.action === 'cancelled')).toMatchObject({
      actor: 'support:ana',
      reason: 'typo in code',
    });
  });
});
