import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OfferRecord } from '../../../src/ledger/index.ts';
import { ledgerContext, offerInput, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import { emailsFor, pushesFor, startSinks, workerEnv, type Sinks } from '../../support/pipeline.ts';
import { seededRandom } from '../../support/random.ts';
import { waitFor } from '../../support/redis-server.ts';
import { spawnWorker, type WorkerProcess } from '../../support/worker-process.ts';

const KILLS = Number(process.env['CRASH_KILLS'] ?? 50);
const OFFERS_PER_KILL = 3;

let ctx: LedgerContext;
let sinks: Sinks;
let worker: WorkerProcess | undefined;

beforeEach(async () => {
  ctx = ledgerContext();
  sinks = await startSinks();
});
afterEach(async () => {
  await worker?.kill('SIGKILL');
  worker = undefined;
  await sinks.close();
  await ctx.cleanup();
});

const ENDED = ['sent', 'skipped', 'cancelled', 'failed', 'unknown'];

describe('a worker process killed with SIGKILL at random points', () => {
  it(`${KILLS} times during a stream of offers: nothing sent twice, nothing lost, the ambiguous ones unknown`, async () => {
    const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const env = workerEnv(sinks, redisUrl(), ctx.prefix, {
      PUBLIC_URL: 'http://127.0.0.1:3999',
      CONCORD_LEASE_MS: '2000',
      CONCORD_JOB_LOCK_MS: '1500',
    });
    const offers: string[] = [];
    let next = 0;
    const issueSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const customerId = `c-${next++}`;
        await ctx.ledger.customers.upsertProfile(
          customerId,
          {
            email: `${customerId}@example.com`,
            pushEndpoint: `device-${customerId}`,
            consent: { email: true, push: true, web: true },
          },
          { actor: 'test', source: 'fixture' },
        );
        const { offer } = await ctx.ledger.offers.issue(offerInput(customerId), 'marketer');
        offers.push(offer.offerId);
      }
    };

    for (let kill = 0; kill < KILLS; kill++) {
      worker = spawnWorker(env);
      await worker.ready;
      await issueSome(OFFERS_PER_KILL);
      // Let it work for a random while, then kill it wherever it is.
      const until = Date.now() + Math.floor(random() * 400);
      await waitFor(() => Date.now() >= until, 5_000, 'the random moment');
      await worker.kill('SIGKILL');
    }

    worker = spawnWorker(env);
    await worker.ready;
    const finalStates = async (): Promise<OfferRecord[]> =>
      Promise.all(offers.map(async (offerId) => (await ctx.ledger.offers.getOffer(offerId))!));
    await waitFor(
      async () =>
        (await finalStates()).every((offer) =>
          (['email', 'push'] as const).every((channel) => ENDED.includes(offer.deliveries[channel]!.state)),
        ),
      120_000,
      `every delivery to end (seed ${seed})`,
    );

    const records = await finalStates();
    const unknown = new Set(
      (await ctx.ledger.indexes.unknownDeliveries()).map((ref) => `${ref.offerId}:${ref.channel}`),
    );
    const tally: Record<string, number> = {};
    for (const offer of records) {
      for (const channel of ['email', 'push'] as const) {
        const delivery = offer.deliveries[channel]!;
        tally[`${channel}:${delivery.state}`] = (tally[`${channel}:${delivery.state}`] ?? 0) + 1;
        if (delivery.state !== 'sent')
          expect(delivery.reason, `${offer.offerId} ${channel} (seed ${seed})`).toBeTruthy();
        expect(unknown.has(`${offer.offerId}:${channel}`)).toBe(delivery.state === 'unknown');
      }
      const emails = sinks.smtp.received.filter((m) => m.headers['x-concord-offer'] === offer.offerId);
      const accepted = emailsFor(sinks, offer.offerId);
      const pushes = pushesFor(sinks, offer.offerId);
      const where = `${offer.offerId} (seed ${seed})`;
      // Never twice.
      expect(emails.length, where).toBeLessThanOrEqual(1);
      expect(pushes.length, where).toBeLessThanOrEqual(1);
      // What the ledger says was sent, was sent; what reached a sink is sent or honestly unknown.
      if (offer.deliveries.email!.state === 'sent') expect(accepted.length, where).toBe(1);
      if (accepted.length === 1) expect(['sent', 'unknown'], where).toContain(offer.deliveries.email!.state);
      if (offer.deliveries.push!.state === 'sent') expect(pushes.length, where).toBe(1);
      if (pushes.length === 1) expect(offer.deliveries.push!.state, where).toBe('sent');
    }
    const unknownThatArrived = records.filter(
      (offer) => offer.deliveries.email!.state === 'unknown' && emailsFor(sinks, offer.offerId).length === 1,
    ).length;
    console.log(
      `crash test (seed ${seed}): ${records.length} offers, ${KILLS} kills:`,
      tally,
      `unknown emails that had in fact arrived: ${unknownThatArrived}`,
    );
    expect(tally['email:sent'] ?? 0).toBeGreaterThan(0);
    await worker.kill('SIGTERM');
  }, 300_000);

  it('SIGTERM lets the sends in flight finish: nothing is left unknown', async () => {
    const env = workerEnv(sinks, redisUrl(), ctx.prefix, { CONCORD_LEASE_MS: '5000' });
    const offers: string[] = [];
    for (let i = 0; i < 40; i++) {
      const customerId = `t-${i}`;
      await ctx.ledger.customers.upsertProfile(
        customerId,
        {
          email: `${customerId}@example.com`,
          pushEndpoint: `device-${customerId}`,
          consent: { email: true, push: true },
        },
        { actor: 'test', source: 'fixture' },
      );
      offers.push(
        (await ctx.ledger.offers.issue(offerInput(customerId, { channels: ['email', 'push'] }), 'm')).offer
          .offerId,
      );
    }
    worker = spawnWorker(env);
    await worker.ready;
    await waitFor(() => sinks.smtp.messages.length >= 1, 30_000, 'the first email');
    expect(await worker.kill('SIGTERM')).toBe(0);
    worker = spawnWorker(env);
    await worker.ready;
    await waitFor(
      async () => {
        const records = await Promise.all(offers.map((offerId) => ctx.ledger.offers.getOffer(offerId)));
        return records.every(
          (offer) => offer?.deliveries.email?.state === 'sent' && offer.deliveries.push?.state === 'sent',
        );
      },
      60_000,
      'every delivery to be sent',
    );
    expect(await ctx.ledger.indexes.unknownDeliveries()).toEqual([]);
    for (const offerId of offers) expect(emailsFor(sinks, offerId)).toHaveLength(1);
  }, 120_000);
});
