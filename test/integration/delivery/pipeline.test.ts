import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderBanner } from '../../../src/channels/index.ts';
import type { ClaimGuards, QueuedChannel } from '../../../src/ledger/index.ts';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { decodeEntities } from '../../support/channel-context.ts';
import { ledgerContext, offerInput, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import {
  emailsFor,
  pushesFor,
  startPipeline,
  startSinks,
  waitForDelivery,
  type Sinks,
} from '../../support/pipeline.ts';
import { waitFor } from '../../support/redis-server.ts';
import { push } from '../../support/push-sink.ts';
import { smtp } from '../../support/smtp-sink.ts';

const MINUTE = 60_000;
let ctx: LedgerContext;
let sinks: Sinks;
let runtime: WorkerRuntime | undefined;
const quiet = new Set<string>();

beforeEach(async () => {
  ctx = ledgerContext();
  sinks = await startSinks();
  quiet.clear();
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await sinks.close();
  await ctx.cleanup();
});

const guards = async (offerId: string): Promise<ClaimGuards | undefined> => {
  if (quiet.size === 0) return undefined;
  const customerId = await ctx.ledger.owners.customerOf(offerId);
  // A feed the decision waits for, ten minutes behind: the delivery is held until it catches up.
  const now = await ctx.ledger.now();
  return quiet.has(customerId)
    ? { watermarks: [{ feed: 'orders', at: now - 10 * MINUTE, needed: now }] }
    : undefined;
};

async function start(
  options: { policy?: Partial<Record<QueuedChannel, { leaseMs: number; minRemainingMs: number }>> } = {},
) {
  runtime = await startPipeline(sinks, { redisUrl: redisUrl(), prefix: ctx.prefix, guards, ...options });
  return runtime;
}

async function customer(customerId: string) {
  await ctx.ledger.customers.upsertProfile(
    customerId,
    {
      email: `${customerId}@example.com`,
      pushEndpoint: `device-${customerId}`,
      timezone: 'Europe/Paris',
      locale: 'en-GB',
      consent: { email: true, push: true, web: true },
    },
    { actor: 'test', source: 'fixture' },
  );
}

describe('delivery pipeline', () => {
  it('one offer on email, push and web: one email, one push, the banner shows the same offer', async () => {
    await customer('c-1');
    await start();
    const { offer } = await ctx.ledger.offers.issue(offerInput('c-1'), 'marketer');
    await waitForDelivery(ctx.ledger, offer.offerId, 'email', ['sent']);
    await waitForDelivery(ctx.ledger, offer.offerId, 'push', ['sent']);

    const [email] = emailsFor(sinks, offer.offerId);
    expect(emailsFor(sinks, offer.offerId)).toHaveLength(1);
    expect(email?.text).toContain('RUN20-7QX');
    expect(email?.html).toContain('RUN20-7QX');
    expect(email?.headers['message-id']).toBe(`<${offer.offerId}.email.${offer.version}@example.com>`);
    expect(email?.headers['list-unsubscribe']).toContain('/v1/unsubscribe?c=c-1&ch=email&sig=');
    expect(email?.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(decodeEntities(email?.html ?? '')).toContain(`/o/${offer.offerId}?sig=`);

    const pushes = pushesFor(sinks, offer.offerId);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.headers['idempotency-key']).toBe(`${offer.offerId}:push:${offer.version}`);
    expect(pushes[0]?.json).toMatchObject({
      to: 'device-c-1',
      offerId: offer.offerId,
      collapseKey: 'c-1:promo',
      kind: 'offer',
    });

    const live = await ctx.ledger.offers.currentOffer('c-1', 'promo');
    expect(live.offer?.offerId).toBe(offer.offerId);
    expect(live.offer?.code).toBe('RUN20-7QX');
    const banner = renderBanner({
      offer: live.offer!,
      recipient: { address: 'web' },
      links: {
        offerUrl: sinks.links.offerUrl(offer.offerId),
        unsubscribeUrl: sinks.links.unsubscribeUrl('c-1', 'web'),
      },
    });
    expect(banner).toContain('RUN20-7QX');
  });

  it('cancel: held sends never go out, a push already sent is retracted', async () => {
    await customer('c-sent');
    await customer('c-held');
    quiet.add('c-held');
    await start();
    const sent = await ctx.ledger.offers.issue(offerInput('c-sent'), 'm');
    const held = await ctx.ledger.offers.issue(offerInput('c-held'), 'm');
    await waitForDelivery(ctx.ledger, sent.offer.offerId, 'push', ['sent']);
    // The sent offer's email too: one still on its way at the cancel would be counted after it.
    await waitForDelivery(ctx.ledger, sent.offer.offerId, 'email', ['sent']);
    await waitForDelivery(ctx.ledger, held.offer.offerId, 'email', ['held']);
    await waitForDelivery(ctx.ledger, held.offer.offerId, 'push', ['held']);

    await ctx.ledger.offers.cancel(held.offer.offerId, { reason: 'campaign stopped', actor: 'marketer' });
    await ctx.ledger.offers.cancel(sent.offer.offerId, { reason: 'campaign stopped', actor: 'marketer' });
    const emailsAtCancel = sinks.smtp.messages.length;
    expect((await ctx.ledger.offers.currentOffer('c-sent', 'promo')).offer).toBeUndefined();

    await waitFor(
      () => pushesFor(sinks, sent.offer.offerId, 'retract').length === 1,
      30_000,
      'the retraction',
    );
    const retraction = pushesFor(sinks, sent.offer.offerId, 'retract')[0]!;
    expect(retraction.json).toMatchObject({ collapseKey: 'c-sent:promo', kind: 'retract' });
    await waitFor(
      async () =>
        (await ctx.ledger.offers.getOffer(sent.offer.offerId))?.deliveries.push?.retraction === 'done',
    );

    // The held jobs come back, find the offer cancelled, and send nothing.
    quiet.clear();
    const heldOffer = await ctx.ledger.offers.getOffer(held.offer.offerId);
    expect(heldOffer?.deliveries.email).toMatchObject({ state: 'cancelled', reason: 'offer_cancelled' });
    expect(heldOffer?.deliveries.push).toMatchObject({ state: 'cancelled', reason: 'offer_cancelled' });
    expect(emailsFor(sinks, held.offer.offerId)).toEqual([]);
    expect(pushesFor(sinks, held.offer.offerId)).toEqual([]);
    expect(sinks.smtp.messages.length).toBe(emailsAtCancel);
  });

  it('an offer whose validity ends while the workers are stopped: the banner empties on time, nothing is sent later', async () => {
    await customer('c-1');
    const now = await ctx.ledger.now();
    const { offer } = await ctx.ledger.offers.issue(offerInput('c-1', { validUntil: now + 2_000 }), 'm');
    expect((await ctx.ledger.offers.currentOffer('c-1', 'promo')).offer?.offerId).toBe(offer.offerId);
    await waitFor(async () => (await ctx.ledger.now()) >= offer.validUntil, 10_000, 'validUntil');
    expect((await ctx.ledger.offers.currentOffer('c-1', 'promo')).offer).toBeUndefined();

    await start();
    await waitForDelivery(ctx.ledger, offer.offerId, 'email', ['cancelled']);
    await waitForDelivery(ctx.ledger, offer.offerId, 'push', ['cancelled']);
    expect((await ctx.ledger.offers.getOffer(offer.offerId))?.state).toBe('expired');
    expect(emailsFor(sinks, offer.offerId)).toEqual([]);
    expect(pushesFor(sinks, offer.offerId)).toEqual([]);
  });

  it('time alone activates a scheduled offer and expires it: sent when it starts, retracted when it ends', async () => {
    await customer('c-1');
    await start();
    const now = await ctx.ledger.now();
    const { offer } = await ctx.ledger.offers.issue(
      // Long enough for a claim's lease (never past validUntil) to leave room to send.
      offerInput('c-1', { validFrom: now + 1_500, validUntil: now + 10_000, channels: ['push', 'web'] }),
      'm',
    );
    expect(offer.state).toBe('pending');
    // Nothing but the sweeper's reading of the due index moves it on.
    await waitForDelivery(ctx.ledger, offer.offerId, 'push', ['sent']);
    const sent = await ctx.ledger.offers.getOffer(offer.offerId);
    expect(sent?.activatedAt).toBeGreaterThanOrEqual(offer.validFrom);
    await waitFor(
      async () => (await ctx.ledger.offers.getOffer(offer.offerId))?.deliveries.push?.retraction === 'done',
      15_000,
      'the retraction after expiry',
    );
    const ended = await ctx.ledger.offers.getOffer(offer.offerId);
    expect(ended).toMatchObject({ state: 'expired' });
    expect(ended?.endedAt).toBeGreaterThanOrEqual(offer.validUntil);
    expect(pushesFor(sinks, offer.offerId, 'retract')).toHaveLength(1);
    expect((await ctx.ledger.offers.currentOffer('c-1', 'promo')).offer).toBeUndefined();
  });

  it('a second offer supersedes the first: its pending sends are cancelled, the banner shows the second', async () => {
    await customer('c-1');
    const first = await ctx.ledger.offers.issue(offerInput('c-1', { priority: 1, code: 'FIRST-10' }), 'm');
    const second = await ctx.ledger.offers.issue(offerInput('c-1', { priority: 2, code: 'SECOND-20' }), 'm');
    expect(second.superseded).toEqual([first.offer.offerId]);
    await start();
    await waitForDelivery(ctx.ledger, second.offer.offerId, 'email', ['sent']);
    await waitForDelivery(ctx.ledger, second.offer.offerId, 'push', ['sent']);
    expect(emailsFor(sinks, first.offer.offerId)).toEqual([]);
    expect(pushesFor(sinks, first.offer.offerId)).toEqual([]);
    expect((await ctx.ledger.offers.getOffer(first.offer.offerId))?.deliveries.email).toMatchObject({
      state: 'cancelled',
      reason: 'offer_superseded',
    });
    expect((await ctx.ledger.offers.currentOffer('c-1', 'promo')).offer?.code).toBe('SECOND-20');
  });

  it('the same delivery enqueued 100 times, also after the first job was removed, is sent once', async () => {
    await customer('c-1');
    const { offer } = await ctx.ledger.offers.issue(offerInput('c-1', { channels: ['email'] }), 'm');
    const rt = await start();
    await waitForDelivery(ctx.ledger, offer.offerId, 'email', ['sent']);
    await waitFor(async () => (await rt.queues.email.getCompletedCount()) >= 1);
    await rt.queues.email.clean(0, 1000, 'completed');
    await rt.queues.email.addBulk(
      Array.from({ length: 100 }, (_, i) => ({
        name: 'deliver',
        data: { offerId: offer.offerId, channel: 'email' },
        opts: { jobId: `duplicate.${i}` },
      })),
    );
    await waitFor(
      async () => (await rt.queues.email.getCompletedCount()) >= 100,
      30_000,
      '100 duplicate jobs',
    );
    expect(emailsFor(sinks, offer.offerId)).toHaveLength(1);
    expect((await ctx.ledger.offers.getOffer(offer.offerId))?.deliveries.email).toMatchObject({
      state: 'sent',
      attempts: 1,
    });
  });

  it('a job for an offer that is gone (erased) keeps no customer id once it has run', async () => {
    const rt = await start();
    const offerId = 'o00-01M8VJRN2NQY8A1DYWR019BPCK';
    await rt.queues.email.add(
      'deliver',
      { offerId, channel: 'email', customerId: 'c-erased' },
      { jobId: 'late' },
    );
    await waitFor(
      async () => (await rt.queues.email.getJob('late'))?.finishedOn !== undefined,
      30_000,
      'the job',
    );
    const job = await rt.queues.email.getJob('late');
    expect(job?.data).toEqual({ offerId, channel: 'email' });
    expect(job?.returnvalue).toEqual({ kind: 'skipped', reason: 'unknown_offer' });
  });

  it('SMTP 421 then 451 then 250: sent once after retries', async () => {
    await customer('c-1');
    sinks.smtp.script(smtp.reject(421, 'try later'), smtp.reject(451, 'greylisted'));
    await start();
    const { offer } = await ctx.ledger.offers.issue(offerInput('c-1', { channels: ['email'] }), 'm');
    await waitForDelivery(ctx.ledger, offer.offerId, 'email', ['sent'], 30_000);
    expect(emailsFor(sinks, offer.offerId)).toHaveLength(1);
    expect((await ctx.ledger.offers.getOffer(offer.offerId))?.deliveries.email?.attempts).toBe(3);
    const reasons = (await ctx.ledger.customers.history('c-1'))
      .filter((e) => e.action === 'delivery_retry')
      .map((e) => e.reason);
    expect(reasons).toEqual(['retry:smtp_421', 'retry:smtp_451']);
  });

  it('SMTP 550: the delivery fails with the reason; dropped after DATA: unknown', async () => {
    await customer('c-1');
    await customer('c-2');
    sinks.smtp.script(smtp.reject(550, 'mailbox unavailable'));
    await start();
    const refused = await ctx.ledger.offers.issue(offerInput('c-1', { channels: ['email'] }), 'm');
    await waitForDelivery(ctx.ledger, refused.offer.offerId, 'email', ['failed']);
    expect((await ctx.ledger.offers.getOffer(refused.offer.offerId))?.deliveries.email?.reason).toMatch(
      /^smtp_550/,
    );

    sinks.smtp.script(smtp.dropAfterData);
    const dropped = await ctx.ledger.offers.issue(offerInput('c-2', { channels: ['email'] }), 'm');
    await waitForDelivery(ctx.ledger, dropped.offer.offerId, 'email', ['unknown']);
    expect(await ctx.ledger.indexes.unknownDeliveries()).toEqual([
      expect.objectContaining({ offerId: dropped.offer.offerId, channel: 'email' }),
    ]);
    expect(
      sinks.smtp.received.filter((m) => m.headers['x-concord-offer'] === dropped.offer.offerId),
    ).toHaveLength(1);
  });

  /**
   * A push sent, then a stronger offer in the slot: both the first one's retraction and the
   * second one's push go out under `c-1:promo`, and the device must end on the second offer.
   */
  async function supersedeASentPush(beforeTheSecond: () => void = () => undefined) {
    await customer('c-1');
    await start();
    const first = await ctx.ledger.offers.issue(
      offerInput('c-1', { priority: 1, code: 'FIRST-10', channels: ['push'] }),
      'm',
    );
    await waitForDelivery(ctx.ledger, first.offer.offerId, 'push', ['sent']);
    beforeTheSecond();
    const second = await ctx.ledger.offers.issue(
      offerInput('c-1', { priority: 2, code: 'SECOND-20', channels: ['push'] }),
      'm',
    );
    await waitForDelivery(ctx.ledger, second.offer.offerId, 'push', ['sent']);
    await waitFor(
      async () =>
        (await ctx.ledger.offers.getOffer(first.offer.offerId))?.deliveries.push?.retraction === 'done',
    );
    const onDevice = sinks.push.deliveries.filter(
      (request) => (request.json as { collapseKey?: string }).collapseKey === 'c-1:promo',
    );
    expect(onDevice.at(-1)?.json as { offerId: string; kind: string }).toMatchObject({
      offerId: second.offer.offerId,
      kind: 'offer',
    });
    return { first: first.offer.offerId, second: second.offer.offerId };
  }

  it('a superseded push is never left on top of its successor under the shared collapse key', async () => {
    await supersedeASentPush();
  });

  it('a slow provider: the retraction and the newer push still reach the device in that order', async () => {
    // Whichever of the two reaches the provider first is handed on to the device late, so the
    // other would overtake it unless the ledger orders them.
    const { first, second } = await supersedeASentPush(() => {
      sinks.push.script(push.slow(2_000));
    });
    // The retraction went first and the newer push waited for it, or the newer push went first and
    // the retraction was found replaced (or, on a slow machine, one was done before the other began).
    const history = await ctx.ledger.customers.history('c-1');
    const waited = history.some((e) => e.offer === second && e.reason === 'retraction_in_flight');
    const replaced = history.some((e) => e.offer === first && e.reason === `replaced_by:${second}`);
    expect(waited && replaced).toBe(false);
  });
});
