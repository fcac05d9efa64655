import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConcordError } from '../../../src/errors.ts';
import { Ledger, type IssueResult, type SlotPolicy } from '../../../src/ledger/index.ts';
import { ledgerContext, offerInput, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import { seededRandom } from '../../support/random.ts';

const CLIENTS = 50;

let ctx: LedgerContext;
let clients: Redis[];

beforeEach(() => {
  ctx = ledgerContext();
  clients = [];
});
afterEach(async () => {
  for (const client of clients) client.disconnect();
  await ctx.cleanup();
});

/** 50 separate connections issue an offer for the same customer and slot at the same moment. */
async function issueAtOnce(policy: SlotPolicy, priorities: number[]) {
  const validUntil = (await ctx.ledger.now()) + 3_600_000;
  const ledgers = priorities.map(() => {
    const client = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    clients.push(client);
    return new Ledger(client, { prefix: ctx.prefix, partitions: 16 });
  });
  await Promise.all(clients.map((client) => client.ping()));
  const results = await Promise.allSettled(
    ledgers.map((ledger, i) =>
      ledger.offers.issue(
        offerInput('c-1', { policy, priority: priorities[i], title: `offer ${i}`, validUntil }),
        `client-${i}`,
      ),
    ),
  );
  return results;
}

function issued(results: PromiseSettledResult<IssueResult>[]): IssueResult[] {
  return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

describe('50 clients issue conflicting offers for one customer and slot at once', () => {
  it('replace: exactly one is live, the strongest; every other is superseded, and history agrees', async () => {
    const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const priorities = Array.from({ length: CLIENTS }, () => Math.floor(random() * 5));
    const results = await issueAtOnce('replace', priorities);
    expect(
      results.every((r) => r.status === 'fulfilled'),
      `seed ${seed}`,
    ).toBe(true);

    const offers = await ctx.ledger.offers.customerOffers('c-1');
    expect(offers).toHaveLength(CLIENTS);
    const live = offers.filter((offer) => offer.state === 'active');
    expect(live, `seed ${seed}`).toHaveLength(1);
    const winner = live[0]!;
    const top = Math.max(...priorities);
    expect(winner.priority).toBe(top);
    // A tie goes to the newer: no other offer of the top priority was issued after the winner.
    const rivals = offers.filter((offer) => offer.priority === top && offer.offerId !== winner.offerId);
    for (const rival of rivals) {
      const older =
        rival.createdAt < winner.createdAt ||
        (rival.createdAt === winner.createdAt && rival.offerId < winner.offerId);
      expect(older, `seed ${seed}`).toBe(true);
    }

    for (const offer of offers) {
      if (offer === winner) continue;
      expect(offer.state).toBe('superseded');
      expect(offer.endReason).toBe('outranked');
      expect(offer.supersededBy).toBeDefined();
    }

    const history = await ctx.ledger.customers.history('c-1');
    for (const offer of offers) {
      const story = history.filter(
        (e) => e.offer === offer.offerId && ['issued', 'activated', 'superseded'].includes(e.action),
      );
      const last = story.at(-1);
      expect(story[0]?.action).toBe('issued');
      expect(last?.action).toBe(offer.state === 'active' ? 'activated' : 'superseded');
      expect(last?.version).toBe(offer.version);
    }
    // Replaying the history in order never shows two live offers.
    const liveNow = new Set<string>();
    for (const entry of history) {
      if (entry.action === 'activated' && entry.offer) liveNow.add(entry.offer);
      if (entry.action === 'superseded' && entry.offer) liveNow.delete(entry.offer);
      expect(liveNow.size).toBeLessThanOrEqual(1);
    }
    expect([...liveNow]).toEqual([winner.offerId]);
  });

  it('reject: exactly one is issued, 49 are refused with the live offer named, nothing else is stored', async () => {
    const results = await issueAtOnce(
      'reject',
      Array.from({ length: CLIENTS }, () => 1),
    );
    const accepted = issued(results);
    expect(accepted).toHaveLength(1);
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(refusals).toHaveLength(CLIENTS - 1);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(ConcordError);
      expect((refusal as ConcordError).code).toBe('conflict');
      expect((refusal as ConcordError).details).toMatchObject({ conflicting: [accepted[0]!.offer.offerId] });
    }
    expect(await ctx.ledger.offers.customerOffers('c-1')).toHaveLength(1);
  });

  it('queue: one is live and the other 49 wait their turn, in priority order', async () => {
    const priorities = Array.from({ length: CLIENTS }, (_, i) => i % 7);
    await issueAtOnce('queue', priorities);
    const offers = await ctx.ledger.offers.customerOffers('c-1');
    expect(offers.filter((o) => o.state === 'active')).toHaveLength(1);
    expect(offers.filter((o) => o.state === 'pending' && o.queued)).toHaveLength(CLIENTS - 1);
    // Ending the live one hands the slot to the strongest waiting offer.
    const live = offers.find((o) => o.state === 'active')!;
    await ctx.ledger.offers.cancel(live.offerId, { reason: 'next', actor: 'test' });
    const next = (await ctx.ledger.offers.customerOffers('c-1')).filter((o) => o.state === 'active');
    expect(next).toHaveLength(1);
    const waiting = offers.filter((o) => o.offerId !== live.offerId);
    expect(next[0]!.priority).toBe(Math.max(...waiting.map((o) => o.priority)));
  });
});
