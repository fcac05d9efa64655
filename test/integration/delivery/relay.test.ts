import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobIds } from '../../../src/queue/names.ts';
import { closeQueues, openQueues, type Queues } from '../../../src/queue/queues.ts';
import { OutboxRelay, RELAY_GROUP } from '../../../src/queue/relay.ts';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';

const MINUTE = 60_000;
let ctx: LedgerContext;
let queues: Queues;

beforeEach(() => {
  ctx = ledgerContext();
  queues = openQueues(ctx.redis, ctx.prefix);
});
afterEach(async () => {
  await closeQueues(queues);
  await ctx.cleanup();
});

async function jobIdsOf(name: keyof Queues): Promise<string[]> {
  const jobs = await queues[name].getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.map((job) => job.id ?? '').sort();
}

describe('outbox relay', () => {
  it('turns effects into jobs with deterministic ids and delays, then empties the outbox', async () => {
    const { ledger } = ctx;
    const now = await ledger.now();
    const live = await ledger.offers.issue(offerInput('c-1', { validUntil: now + 60 * MINUTE }), 'm');
    const later = await ledger.offers.issue(
      offerInput('c-2', { validFrom: now + 10 * MINUTE, validUntil: now + 60 * MINUTE, channels: ['email'] }),
      'm',
    );
    // A timer effect as an earlier version wrote it, still running during a rolling deploy.
    const partition = ledger.keys.partitionOf('c-2');
    await ctx.redis.xadd(
      ledger.keys.partition(partition).outbox,
      '*',
      'kind',
      'activate-at',
      'offer',
      later.offer.offerId,
      'customer',
      'c-2',
      'channel',
      '',
      'version',
      '1',
      'attempt',
      '0',
      'at',
      String(later.offer.validFrom),
    );
    const relay = new OutboxRelay({ ledger, queues });
    await ledger.outbox.ensureGroup(RELAY_GROUP);
    expect(await relay.pass()).toBe(3);
    expect(await ledger.outbox.length()).toBe(0);

    expect(await jobIdsOf('email')).toEqual([jobIds.deliver(live.offer.offerId, 'email', 0)]);
    expect(await jobIdsOf('push')).toEqual([jobIds.deliver(live.offer.offerId, 'push', 0)]);
    expect((await queues.push.getJob(jobIds.deliver(live.offer.offerId, 'push', 0)))?.data).toEqual({
      offerId: live.offer.offerId,
      channel: 'push',
      customerId: 'c-1',
      sku: 'SHOE-42',
    });
    expect(await jobIdsOf('timers')).toEqual([
      jobIds.timer('activate', later.offer.offerId, later.offer.validFrom),
    ]);
    const activate = await queues.timers.getJob(
      jobIds.timer('activate', later.offer.offerId, later.offer.validFrom),
    );
    expect(activate?.data).toEqual({ offerId: later.offer.offerId, kind: 'activate' });
    expect(activate?.opts.delay).toBeGreaterThan(9 * MINUTE);
    expect(await activate?.getState()).toBe('delayed');
    expect(await relay.pass()).toBe(0);
  });

  it('a relay that died after adding its jobs but before acknowledging is taken over without duplicates', async () => {
    const { ledger } = ctx;
    await ledger.offers.issue(offerInput('c-1'), 'm');
    await ledger.outbox.ensureGroup(RELAY_GROUP);
    // The dead relay read every entry (so they are pending for it) and added one of their jobs.
    const partition = ledger.keys.partitionOf('c-1');
    const read = await ledger.outbox.read(partition, RELAY_GROUP, 'dead', 100);
    expect(read).toHaveLength(2);
    const first = read[0];
    if (!first || first.kind === 'unreadable') throw new Error('expected a readable entry');
    const offerId = first.offerId;
    await queues.email.add(
      'deliver',
      { offerId, channel: 'email' },
      { jobId: jobIds.deliver(offerId, 'email', 0) },
    );

    const survivor = new OutboxRelay({ ledger, queues, consumer: 'survivor', staleMs: 0 });
    expect(await survivor.pass()).toBe(2);
    expect(await ledger.outbox.length()).toBe(0);
    expect(await jobIdsOf('email')).toHaveLength(1);
    expect(await jobIdsOf('push')).toHaveLength(1);
  });

  it('forgets relays that are gone, never one that still holds entries', async () => {
    const { ledger } = ctx;
    await ledger.outbox.ensureGroup(RELAY_GROUP);
    await ledger.offers.issue(offerInput('c-1'), 'm');
    const partition = ledger.keys.partitionOf('c-1');
    expect(await ledger.outbox.read(partition, RELAY_GROUP, 'holding', 100)).toHaveLength(2);
    // A relay that read and acknowledged everything, then went away.
    await ledger.offers.issue(offerInput('c-1', { slot: 'other' }), 'm');
    const done = await ledger.outbox.read(partition, RELAY_GROUP, 'gone', 100);
    await ledger.outbox.ack(
      partition,
      RELAY_GROUP,
      done.map((entry) => entry.id),
    );
    expect(await ledger.outbox.pruneConsumers(RELAY_GROUP, 0)).toBe(1);
    const key = ledger.keys.partition(partition).outbox;
    const names = ((await ctx.redis.xinfo('CONSUMERS', key, RELAY_GROUP)) as unknown[][]).map(
      (fields) => fields[1],
    );
    expect(names).toEqual(['holding']);
  });

  it('carries the offer’s SKU from the outbox entry into the delivery job, and nothing for none', async () => {
    const { ledger } = ctx;
    await ledger.outbox.ensureGroup(RELAY_GROUP);
    const outbox = ledger.keys.partition(ledger.keys.partitionOf('c-1')).outbox;
    const withSku = 'o01-0000000000000000000000000A';
    const withoutSku = 'o01-0000000000000000000000000B';
    const entry = (offerId: string, ...sku: string[]) =>
      ctx.redis.xadd(
        outbox,
        '*',
        'kind',
        'deliver',
        'offer',
        offerId,
        'customer',
        'c-1',
        'channel',
        'email',
        'version',
        '1',
        'attempt',
        '0',
        'at',
        '0',
        ...sku,
      );
    await entry(withSku, 'sku', 'SHOE-42');
    await entry(withoutSku);
    const relay = new OutboxRelay({ ledger, queues });
    expect(await relay.pass()).toBe(2);
    expect((await queues.email.getJob(jobIds.deliver(withSku, 'email', 0)))?.data).toEqual({
      offerId: withSku,
      channel: 'email',
      customerId: 'c-1',
      sku: 'SHOE-42',
    });
    expect((await queues.email.getJob(jobIds.deliver(withoutSku, 'email', 0)))?.data).toEqual({
      offerId: withoutSku,
      channel: 'email',
      customerId: 'c-1',
    });
  });
});
