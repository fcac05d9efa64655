import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';

describe('ledger smoke', () => {
  let ctx: LedgerContext;
  beforeEach(async () => {
    ctx = await ledgerContext();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  it('issues, claims, confirms and cancels', async () => {
    const { ledger } = ctx;
    await ledger.upsertProfile(
      'c-1',
      { email: 'a@example.com', consent: { email: true, web: true } },
      { actor: 't', source: 'test' },
    );
    const issued = await ledger.issue(offerInput('c-1'), 'tester');
    console.log(JSON.stringify(issued, null, 1));
    const claim = await ledger.claim({ offerId: issued.offer.offerId, channel: 'email', leaseMs: 10_000 });
    console.log(claim);
    if (claim.answer === 'go') {
      console.log(
        await ledger.confirm({
          offerId: issued.offer.offerId,
          channel: 'email',
          token: claim.token,
          outcome: 'sent',
        }),
      );
    }
    console.log(await ledger.currentOffer('c-1', 'promo'));
    console.log(await ledger.cancel(issued.offer.offerId, { reason: 'oops', actor: 'support' }));
    console.log(await ledger.history('c-1'));
    expect(true).toBe(true);
  });
});
