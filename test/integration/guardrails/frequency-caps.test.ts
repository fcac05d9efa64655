import { afterEach, describe, expect, it } from 'vitest';
import type { CapRule } from '../../../src/config/guardrails.ts';
import type { QueuedChannel } from '../../../src/ledger/index.ts';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { DAY_MS, guardrailLimits, historyOf, reachableCustomer } from '../../support/guardrails.ts';
import { ledgerContext, offerInput, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import {
  emailsFor,
  pushesFor,
  startPipeline,
  startSinks,
  waitForDelivery,
  type Sinks,
} from '../../support/pipeline.ts';
import { seededRandom } from '../../support/random.ts';

const CLAIMS = 50;
const ROUNDS = 4;

let ctx: LedgerContext | undefined;
let sinks: Sinks | undefined;
let runtime: WorkerRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await sinks?.close();
  sinks = undefined;
  await ctx?.cleanup();
  ctx = undefined;
});

describe('frequency caps', () => {
  it('one push a day: two offers in two slots send one push, the other is skipped frequency_cap (email is not capped)', async () => {
    const caps: CapRule[] = [{ scope: 'push', count: 1, windowMs: DAY_MS }];
    ctx = ledgerContext({ limits: guardrailLimits({ caps }) });
    const { ledger } = ctx;
    await reachableCustomer(ledger, 'c-1');
    const now = await ledger.now();
    const first = (await ledger.offers.issue(offerInput('c-1', { slot: 'promo' }, now), 'marketer')).offer;
    const second = (
      await ledger.offers.issue(offerInput('c-1', { slot: 'news', code: 'NEWS-5' }, now), 'marketer')
    ).offer;
    sinks = await startSinks();
    runtime = await startPipeline(sinks, {
      redisUrl: redisUrl(),
      prefix: ctx.prefix,
      limits: guardrailLimits({ caps }),
    });

    const offers = [first.offerId, second.offerId];
    for (const offerId of offers) {
      await waitForDelivery(ledger, offerId, 'push', ['sent', 'skipped']);
      await waitForDelivery(ledger, offerId, 'email', ['sent', 'skipped']);
    }
    const records = await Promise.all(offers.map((offerId) => ledger.offers.getOffer(offerId)));
    const pushStates = records.map((offer) => offer?.deliveries.push);
    expect(pushStates.filter((push) => push?.state === 'sent')).toHaveLength(1);
    const capped = records.find((offer) => offer?.deliveries.push?.state !== 'sent');
    expect(capped?.deliveries.push).toMatchObject({ state: 'skipped', reason: 'frequency_cap' });
    expect(sinks.push.deliveries).toHaveLength(1);
    expect(pushesFor(sinks, capped!.offerId)).toEqual([]);
    // Only push is capped: both emails go.
    for (const offerId of offers) expect(emailsFor(sinks, offerId)).toHaveLength(1);

    const skips = (await historyOf(ledger, 'c-1', 'delivery_skipped')).filter(
      (entry) => entry.reason === 'frequency_cap',
    );
    expect(skips).toHaveLength(1);
    expect(skips[0]).toMatchObject({ offer: capped!.offerId, channel: 'push' });
    expect(skips[0]?.detail).toMatchObject({ scope: 'push', count: 1, windowMs: DAY_MS });
  });

  /**
   * 50 claims at once for one customer (50 offers in 50 slots), in a seeded random order and
   * channel mix, never pass more GOs than the caps allow, and every refusal says frequency_cap.
   */
  async function concurrentClaims(
    caps: CapRule[],
    expectedGo: (claims: Record<QueuedChannel, number>) => number,
  ) {
    ctx = ledgerContext({ limits: { ...guardrailLimits({ caps }), maxOpenOffers: CLAIMS } });
    const { ledger } = ctx;
    const base = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    for (let round = 0; round < ROUNDS; round++) {
      const seed = base + round;
      const where = `caps ${JSON.stringify(caps)}, round ${round}, seed ${seed} (TEST_SEED=${base} replays it)`;
      try {
        const random = seededRandom(seed);
        const customerId = `c-round-${round}`;
        await reachableCustomer(ledger, customerId);
        const now = await ledger.now();
        const offers = await Promise.all(
          Array.from({ length: CLAIMS }, async (_, i) => {
            const { offer } = await ledger.offers.issue(
              offerInput(customerId, { slot: `slot-${i}`, channels: ['email', 'push'] }, now),
              'marketer',
            );
            return offer.offerId;
          }),
        );
        const claims = offers.map((offerId) => {
          const channel: QueuedChannel = random() < 0.5 ? 'email' : 'push';
          return { offerId, channel, order: random() };
        });
        claims.sort((a, b) => a.order - b.order);
        const answers = await Promise.all(
          claims.map(async (claim) => ({
            ...claim,
            answer: await ledger.deliveries.claim({
              offerId: claim.offerId,
              channel: claim.channel,
              leaseMs: 30_000,
              customerId,
            }),
          })),
        );
        const asked = { email: 0, push: 0 };
        const go = { email: 0, push: 0 };
        for (const { channel, answer } of answers) {
          asked[channel]++;
          if (answer.answer === 'go') go[channel]++;
          else expect(answer, where).toMatchObject({ answer: 'skip', reason: 'frequency_cap' });
        }
        for (const cap of caps) {
          const counted = cap.scope === 'any' ? go.email + go.push : go[cap.scope];
          expect(counted, `${cap.scope} GOs, ${where}`).toBeLessThanOrEqual(cap.count);
        }
        expect(go.email + go.push, `GOs for ${JSON.stringify(asked)} claims, ${where}`).toBe(
          expectedGo(asked),
        );
        // The ledger agrees with the answers: as many deliveries sending as GOs, the rest skipped.
        const records = await ledger.offers.customerOffers(customerId);
        const states = answers.map(
          ({ offerId, channel }) =>
            records.find((offer) => offer.offerId === offerId)?.deliveries[channel]?.state,
        );
        expect(
          states.filter((state) => state === 'sending'),
          where,
        ).toHaveLength(go.email + go.push);
        expect(
          states.filter((state) => state === 'skipped'),
          where,
        ).toHaveLength(CLAIMS - go.email - go.push);
      } catch (error) {
        console.error(`concurrent claims failed: ${where}`);
        throw error;
      }
    }
  }

  it(`${CLAIMS} concurrent claims for one customer never exceed a cap of one push a day (seeded, ${ROUNDS} rounds)`, async () => {
    await concurrentClaims(
      [{ scope: 'push', count: 1, windowMs: DAY_MS }],
      (asked) => asked.email + Math.min(1, asked.push),
    );
  });

  it(`${CLAIMS} concurrent claims never exceed caps per channel and across email and push (any)`, async () => {
    const caps: CapRule[] = [
      { scope: 'email', count: 2, windowMs: DAY_MS },
      { scope: 'push', count: 2, windowMs: DAY_MS },
      { scope: 'any', count: 3, windowMs: 7 * DAY_MS },
    ];
    await concurrentClaims(caps, (asked) => Math.min(3, Math.min(2, asked.email) + Math.min(2, asked.push)));
  });
});
