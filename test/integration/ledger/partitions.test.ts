import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';
import { seededRandom } from '../../support/random.ts';

const PARTITIONS = 64;
let ctx: LedgerContext;

beforeEach(() => {
  ctx = ledgerContext({ partitions: PARTITIONS });
});
afterEach(async () => {
  await ctx.cleanup();
});

describe('partitions', () => {
  it('no script call touches keys of two partitions, across a workload spread over all of them', async () => {
    const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const { ledger } = ctx;
    const customers = Array.from({ length: 400 }, (_, i) => `cust-${i}`);
    const offers: string[] = [];
    for (const customerId of customers) {
      await ledger.customers.upsertProfile(
        customerId,
        {
          email: `${customerId}@example.com`,
          pushEndpoint: `https://push.example/${customerId}`,
          consent: { email: true, push: true, web: true },
        },
        { actor: 'ingest', source: 'test' },
      );
      const { offer } = await ledger.offers.issue(
        offerInput(customerId, { priority: Math.floor(random() * 3) }),
        'm',
      );
      offers.push(offer.offerId);
    }
    for (const offerId of offers) {
      const pick = random();
      if (pick < 0.3) {
        await ledger.offers.cancel(offerId, { reason: 'test', actor: 'support' });
      } else if (pick < 0.6) {
        const go = await ledger.deliveries.claim({ offerId, channel: 'email', leaseMs: 60_000 });
        if (go.answer === 'go')
          await ledger.deliveries.confirm({ offerId, channel: 'email', token: go.token, outcome: 'sent' });
      } else if (pick < 0.8) {
        await ledger.offers.redeem(offerId, { actor: 'shop' });
      }
    }
    for (const customerId of customers.slice(0, 50)) await ledger.offers.currentOffer(customerId, 'promo');

    expect(ctx.crossPartition, `seed ${seed}`).toEqual([]);
    const tags = new Set(ctx.calls.map((call) => /\{([^}]*)\}/.exec(call.keys[0]!)?.[1]));
    expect(tags.size).toBe(PARTITIONS);
    // Offer ids name the partition of their keys.
    for (const call of ctx.calls.filter((c) => c.script.name === 'claimDelivery')) {
      const { offerId } = JSON.parse(call.arg) as { offerId: string };
      expect(call.keys[0]).toContain(`{p${offerId.slice(1, 3)}}`);
    }
    const keys = await ctx.keyNames();
    expect(keys.every((key) => /^t[0-9a-f]+:\{p\d{2}\}:/.test(key))).toBe(true);
  });
});
