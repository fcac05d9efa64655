import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConcordError } from '../../../src/errors.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { offerInput } from '../../support/ledger-context.ts';
import { emailsFor, pushesFor, startPipeline, startSinks, type Sinks } from '../../support/pipeline.ts';
import { startRedisServer, waitFor, type RedisServer } from '../../support/redis-server.ts';

const PREFIX = 'outage';
let server: RedisServer;
let sinks: Sinks;
let runtime: WorkerRuntime | undefined;
let client: Redis;
let ledger: Ledger;

beforeEach(async () => {
  // A server of its own, with AOF as in production, so it can be stopped and started again.
  server = await startRedisServer({ appendOnly: true });
  sinks = await startSinks();
  client = new Redis(server.url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => 100,
  });
  client.on('error', () => undefined);
  ledger = new Ledger(client, { prefix: PREFIX, partitions: 16 });
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  client.disconnect();
  await sinks.close();
  await server.destroy();
});

describe('Redis stopped for 10 s in the middle of a stream of offers', () => {
  it('sends nothing without a claim, resumes by itself, and the counts reconcile', async () => {
    runtime = await startPipeline(sinks, { redisUrl: server.url, prefix: PREFIX, jobLockMs: 5_000 });
    const issued: string[] = [];
    let refused = 0;
    // Issues refused while Redis went away: one whose answer was lost with the connection may have
    // been written all the same, so its offer may be sent (once, like any other).
    const uncertain = new Set<string>();
    const control = { stop: false };
    let n = 0;
    // A shop keeps issuing offers, outage or not; the ones refused while Redis is away are not lost
    // (the caller knows), the others must all arrive.
    const stream = (async () => {
      while (!control.stop) {
        const customerId = `c-${n++}`;
        try {
          await ledger.customers.upsertProfile(
            customerId,
            {
              email: `${customerId}@example.com`,
              pushEndpoint: `device-${customerId}`,
              consent: { email: true, push: true, web: true },
            },
            { actor: 'test', source: 'fixture' },
          );
          const { offer } = await ledger.offers.issue(offerInput(customerId), 'marketer');
          issued.push(offer.offerId);
        } catch (error) {
          if (!isConcordError(error, 'ledger_unavailable')) throw error;
          uncertain.add(`${customerId}@example.com`);
          refused++;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await waitFor(() => sinks.smtp.messages.length >= 20, 30_000, 'the stream to flow');
    await server.stop();
    const stoppedAt = Date.now();
    const sentBeforeStop = { email: sinks.smtp.received.length, push: sinks.push.deliveries.length };
    await waitFor(() => Date.now() - stoppedAt >= 10_000, 15_000, 'ten seconds of outage');
    // Sends claimed just before the stop may finish; nothing new is claimed while Redis is away.
    const sentDuringOutage = {
      email: sinks.smtp.received.length - sentBeforeStop.email,
      push: sinks.push.deliveries.length - sentBeforeStop.push,
    };
    await server.start();
    await waitFor(() => refused > 0 && issued.length > 0, 30_000, 'issuing to resume');
    const issuedAfter = issued.length;
    await waitFor(() => issued.length >= issuedAfter + 20, 30_000, 'more offers after the outage');
    control.stop = true;
    await stream;

    await waitFor(
      async () => {
        for (const offerId of issued) {
          const offer = await ledger.offers.getOffer(offerId);
          if (!offer) return false;
          for (const channel of ['email', 'push'] as const) {
            if (!['sent', 'unknown'].includes(offer.deliveries[channel]!.state)) return false;
          }
        }
        return true;
      },
      90_000,
      'every issued offer to be delivered after the outage',
    );

    let unknown = 0;
    for (const offerId of issued) {
      const offer = (await ledger.offers.getOffer(offerId))!;
      // Nothing went out that the ledger did not claim, and nothing went out twice.
      expect(emailsFor(sinks, offerId).length).toBeLessThanOrEqual(1);
      expect(pushesFor(sinks, offerId)).toHaveLength(offer.deliveries.push!.state === 'sent' ? 1 : 0);
      if (offer.deliveries.email!.state === 'sent') expect(emailsFor(sinks, offerId)).toHaveLength(1);
      else unknown++;
      expect(offer.deliveries.email!.attempts).toBeGreaterThanOrEqual(1);
    }
    // An email for an offer the stream did not see issued is only for an issue whose answer was lost.
    const foreign = sinks.smtp.messages.filter(
      (m) => !issued.includes(m.headers['x-concord-offer'] ?? '') && !uncertain.has(m.headers['to'] ?? ''),
    );
    expect(foreign).toEqual([]);
    for (const address of uncertain) {
      expect(sinks.smtp.messages.filter((m) => m.headers['to'] === address).length).toBeLessThanOrEqual(1);
    }
    console.log(
      `outage test: ${issued.length} offers issued, ${refused} refused while Redis was down,`,
      `sends during the outage ${JSON.stringify(sentDuringOutage)}, unknown emails ${unknown}`,
    );
    expect(sentDuringOutage.email + sentDuringOutage.push).toBeLessThanOrEqual(32);
  }, 240_000);
});
