import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';

const MINUTE = 60_000;
let ctx: LedgerContext;

beforeEach(() => {
  ctx = ledgerContext();
});
afterEach(async () => {
  await ctx.cleanup();
});

/**
 * ioredis resends a command whose reply was lost in a reconnect. Every ledger script must then
 * change nothing the second time: the same call, byte for byte, is sent again right after it
 * ran, and the whole keyspace of the test is compared.
 */
async function thenReplay<T>(operation: () => Promise<T>): Promise<T> {
  const first = ctx.calls.length;
  const result = await operation();
  const made = ctx.calls.slice(first);
  expect(made.length).toBeGreaterThan(0);
  const after = await ctx.snapshot();
  for (const call of made) await ctx.replay(call);
  expect(await ctx.snapshot(), `replaying ${made.map((c) => c.script.name).join(', ')}`).toEqual(after);
  return result;
}

describe('a script call replayed with the same arguments changes nothing', () => {
  it('covers every transition', async () => {
    const { ledger } = ctx;
    const now = await ledger.now();
    await thenReplay(() =>
      ledger.customers.upsertProfile(
        'c-1',
        {
          email: 'c1@example.com',
          pushEndpoint: 'https://push.example/c1',
          consent: { email: true, push: true, web: true },
        },
        { actor: 'ingest', source: 'form' },
      ),
    );
    const a = await thenReplay(() =>
      ledger.offers.issue(offerInput('c-1', { priority: 1, validUntil: now + 60 * MINUTE }), 'm'),
    );
    const b = await thenReplay(() =>
      ledger.offers.issue(
        offerInput('c-1', { priority: 5, validUntil: now + 60 * MINUTE, idempotencyKey: 'k' }),
        'm',
      ),
    );
    expect(b.superseded).toEqual([a.offer.offerId]);
    await thenReplay(() =>
      ledger.offers.issue(
        offerInput('c-1', { slot: 'later', validFrom: now + 30 * MINUTE, validUntil: now + 60 * MINUTE }),
        'm',
      ),
    );

    const email = await thenReplay(() =>
      ledger.deliveries.claim({
        offerId: b.offer.offerId,
        channel: 'email',
        leaseMs: 5 * MINUTE,
        claimId: 'claim-1',
      }),
    );
    if (email.answer !== 'go') throw new Error('expected GO');
    await thenReplay(() =>
      ledger.deliveries.confirm({
        offerId: b.offer.offerId,
        channel: 'email',
        token: email.token,
        outcome: 'retry',
        reason: 'smtp_451',
      }),
    );
    const again = await thenReplay(() =>
      ledger.deliveries.claim({
        offerId: b.offer.offerId,
        channel: 'email',
        leaseMs: 5 * MINUTE,
        claimId: 'claim-2',
      }),
    );
    if (again.answer !== 'go') throw new Error('expected GO');
    await thenReplay(() =>
      ledger.deliveries.hold({
        offerId: b.offer.offerId,
        channel: 'email',
        token: again.token,
        reason: 'lease_nearly_over',
        retryAt: now + MINUTE,
      }),
    );
    const third = await thenReplay(() =>
      ledger.deliveries.claim({
        offerId: b.offer.offerId,
        channel: 'email',
        leaseMs: 5 * MINUTE,
        claimId: 'claim-3',
      }),
    );
    if (third.answer !== 'go') throw new Error('expected GO');
    await thenReplay(() =>
      ledger.deliveries.confirm({
        offerId: b.offer.offerId,
        channel: 'email',
        token: third.token,
        outcome: 'unknown',
        reason: 'push_timeout',
      }),
    );
    await thenReplay(() =>
      ledger.deliveries.resolveDelivery(b.offer.offerId, 'email', { as: 'sent', actor: 'support' }),
    );

    const push = await thenReplay(() =>
      ledger.deliveries.claim({
        offerId: b.offer.offerId,
        channel: 'push',
        leaseMs: MINUTE,
        claimId: 'claim-p',
      }),
    );
    if (push.answer !== 'go') throw new Error('expected GO');
    const later = ledger.withClockSkew(2 * MINUTE);
    await thenReplay(() => later.deliveries.expireLease(b.offer.offerId, 'push'));
    await thenReplay(() =>
      later.deliveries.claim({
        offerId: b.offer.offerId,
        channel: 'push',
        leaseMs: MINUTE,
        claimId: 'claim-p2',
      }),
    );

    await thenReplay(() => ledger.offers.activate(b.offer.offerId));
    await thenReplay(() => ledger.offers.expire(b.offer.offerId));
    await thenReplay(() =>
      ledger.offers.cancel(b.offer.offerId, { reason: 'replayed cancel', actor: 'support' }),
    );
    const c = await thenReplay(() =>
      ledger.offers.issue(offerInput('c-1', { validUntil: now + 60 * MINUTE }), 'm'),
    );
    await thenReplay(() => ledger.offers.redeem(c.offer.offerId, { actor: 'shop' }));
    await thenReplay(() => ledger.offers.currentOffer('c-1', 'promo'));

    // The comparison can fail: the same issue call with another offer id does write.
    const issueCall = ctx.calls.find((call) => call.script.name === 'issueOffer')!;
    const before = await ctx.snapshot();
    const request = JSON.parse(issueCall.arg) as { offer: { offerId: string } };
    request.offer.offerId = request.offer.offerId.slice(0, -4) + 'ZZZZ';
    await ctx.replay({ ...issueCall, arg: JSON.stringify(request) });
    expect(await ctx.snapshot()).not.toEqual(before);

    const covered = new Set(ctx.calls.map((call) => call.script.name));
    expect([...covered].sort()).toEqual(
      [
        'activateOffer',
        'cancelOffer',
        'claimDelivery',
        'confirmDelivery',
        'expireLease',
        'expireOffer',
        'holdDelivery',
        'issueOffer',
        'readLiveDocument',
        'redeemOffer',
        'resolveDelivery',
        'upsertProfile',
      ].sort(),
    );
  });
});
