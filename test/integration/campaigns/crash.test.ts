import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Campaigns } from '../../../src/campaigns/service.ts';
import { closeQueues, openQueues, type Queues } from '../../../src/queue/queues.ts';
import { ledgerContext, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import { startSinks, workerEnv, type Sinks } from '../../support/pipeline.ts';
import { seededRandom } from '../../support/random.ts';
import { waitFor } from '../../support/redis-server.ts';
import { spawnWorker, type WorkerProcess } from '../../support/worker-process.ts';

const AUDIENCE = 3_000;
const KILLS = 6;

let ctx: LedgerContext;
let sinks: Sinks;
let queues: Queues;
let worker: WorkerProcess | undefined;

beforeEach(async () => {
  ctx = ledgerContext();
  sinks = await startSinks();
  queues = openQueues(ctx.redis, ctx.prefix);
});
afterEach(async () => {
  await worker?.kill('SIGKILL');
  worker = undefined;
  await closeQueues(queues);
  await sinks.close();
  await ctx.cleanup();
});

describe('a campaign run whose worker process is killed with SIGKILL', () => {
  it(`${KILLS} times: the run goes on from its cursor, and every customer is issued and counted once`, async () => {
    const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    // A killed worker's job is found stalled and run again after about CONCORD_JOB_LOCK_MS.
    const env = workerEnv(sinks, redisUrl(), ctx.prefix, { CONCORD_JOB_LOCK_MS: '1000' });
    const campaigns = new Campaigns({
      ledger: ctx.ledger,
      queue: queues.campaigns,
    });
    const customerIds = Array.from({ length: AUDIENCE }, (_, i) => `crash-${i}`);
    // A run issues only to customers the ledger holds a profile for.
    for (let i = 0; i < customerIds.length; i += 200) {
      await Promise.all(
        customerIds
          .slice(i, i + 200)
          .map((id) =>
            ctx.ledger.customers.upsertProfile(
              id,
              { consent: { web: true } },
              { actor: 'test', source: 'fixture' },
            ),
          ),
      );
    }
    const { id } = await campaigns.create(
      {
        name: 'Crash',
        offer: { title: 'Ten off', discount: { kind: 'percent', value: 10 }, validFor: 'P1D' },
        channels: ['web'],
        audience: { customerIds },
      },
      'test:author',
    );
    await campaigns.approve(id, 'test:approver');
    await campaigns.schedule(id, {}, 'test:author');

    const kills: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        worker = spawnWorker(env);
        await worker.ready;
        const from = (await campaigns.get(id)).progress.processed;
        // Killed once it has made progress, at a random moment after that.
        await waitFor(
          async () => (await campaigns.get(id)).progress.processed > from,
          30_000,
          `progress after kill ${kill}`,
        );
        const until = Date.now() + Math.floor(random() * 150);
        await waitFor(() => Date.now() >= until, 5_000, 'the random moment');
        kills.push((await campaigns.get(id)).progress.processed);
        await worker.kill('SIGKILL');
        if ((await campaigns.get(id)).state === 'completed') break;
      }
      worker = spawnWorker(env);
      await worker.ready;
      await waitFor(
        async () => (await campaigns.get(id)).state === 'completed',
        60_000,
        'the run to complete',
      );

      const done = await campaigns.get(id);
      expect(done.progress).toMatchObject({
        audience: AUDIENCE,
        processed: AUDIENCE,
        issued: AUDIENCE,
        runs: 1,
      });
      for (const customerId of customerIds) {
        const offers = (await ctx.ledger.offers.customerOffers(customerId)).filter(
          (offer) => offer.campaignId === id,
        );
        expect(offers, customerId).toHaveLength(1);
        expect(offers[0]!.state).toBe('active');
      }
      console.log(`campaign crash test: seed ${seed}, killed at processed = ${kills.join(', ')}`);
    } catch (error) {
      console.error(`campaign crash test failed with seed ${seed} (TEST_SEED=${seed} replays it)`);
      throw error;
    }
  }, 240_000);
});
