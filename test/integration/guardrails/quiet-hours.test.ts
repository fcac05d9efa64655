import { afterEach, describe, expect, it } from 'vitest';
import { formatQuietHours, type QuietHoursRule } from '../../../src/config/guardrails.ts';
import type { QueuedChannel } from '../../../src/ledger/index.ts';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import {
  guardrailLimits,
  historyOf,
  localMinute,
  MINUTE_MS,
  reachableCustomer,
  timelineOf,
  zoneAtLocalHour,
} from '../../support/guardrails.ts';
import { ledgerContext, offerInput, redisUrl } from '../../support/ledger-context.ts';
import {
  emailsFor,
  pushesFor,
  startPipeline,
  startSinks,
  waitForDelivery,
  type Sinks,
} from '../../support/pipeline.ts';

let ctx: ApiContext | undefined;
let sinks: Sinks | undefined;
let runtime: WorkerRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await sinks?.close();
  sinks = undefined;
  await ctx?.close();
  ctx = undefined;
});

/** The ledger clock, read before the ledger under test exists (its rules are chosen from it). */
async function ledgerClock(): Promise<number> {
  const probe = ledgerContext();
  try {
    return await probe.ledger.now();
  } finally {
    await probe.cleanup();
  }
}

/**
 * A window around the customer's local time now, from an hour ago to a minute or two ahead: the
 * machine's clock may be at any hour, so the window is moved to it. It ends 30 to 90 seconds from
 * `now` (a whole local minute), long enough to see the sends held, short enough to wait for.
 */
function windowAroundNow(zone: string, now: number): { rule: QuietHoursRule; endsAt: number } {
  const minute = localMinute(zone, now);
  const intoMinute = now % MINUTE_MS;
  const ahead = intoMinute > 30_000 ? 2 : 1;
  return {
    rule: { startMin: (minute + 1440 - 60) % 1440, endMin: (minute + ahead) % 1440 },
    endsAt: now - intoMinute + ahead * MINUTE_MS,
  };
}

describe('quiet hours', () => {
  it("a push and an email at 03:00 in the customer's zone are held until the window ends, then sent once; the banner shows the offer meanwhile", async () => {
    const now = await ledgerClock();
    const zone = zoneAtLocalHour(3, now);
    const { rule, endsAt } = windowAroundNow(zone, now);
    const where = `zone ${zone}, local minute ${localMinute(zone, now)}, quiet hours ${formatQuietHours(rule)}`;
    ctx = await apiContext({}, {}, { limits: guardrailLimits({ quietHours: rule }) });
    const { ledger } = ctx;
    await reachableCustomer(ledger, 'c-night', { timezone: zone, locale: 'en-GB' });
    // The same window, but no time zone in the profile: nothing to be quiet about.
    await reachableCustomer(ledger, 'c-no-zone');
    sinks = await startSinks();
    runtime = await startPipeline(sinks, {
      redisUrl: redisUrl(),
      prefix: ctx.prefix,
      limits: guardrailLimits({ quietHours: rule }),
    });

    const night = (await ledger.offers.issue(offerInput('c-night', {}, now), 'marketer')).offer;
    const noZone = (await ledger.offers.issue(offerInput('c-no-zone', {}, now), 'marketer')).offer;
    const channels: QueuedChannel[] = ['email', 'push'];
    for (const channel of channels) await waitForDelivery(ledger, night.offerId, channel, ['held']);
    for (const channel of channels) await waitForDelivery(ledger, noZone.offerId, channel, ['sent']);
    expect(await ledger.now(), `still inside the window (${where})`).toBeLessThan(endsAt);

    const held = await ledger.offers.getOffer(night.offerId);
    for (const channel of channels) {
      const delivery = held?.deliveries[channel];
      expect(delivery, `${channel} (${where})`).toMatchObject({ state: 'held', reason: 'quiet_hours' });
      expect(Math.abs((delivery?.retryAt ?? 0) - endsAt), `${channel} retryAt (${where})`).toBeLessThan(
        1_000,
      );
    }
    const holds = (await historyOf(ledger, 'c-night', 'delivery_held')).filter(
      (entry) => entry.reason === 'quiet_hours',
    );
    expect(holds.map((entry) => entry.channel).sort()).toEqual(['email', 'push']);
    for (const entry of holds) {
      expect(entry.detail, where).toMatchObject({ timezone: zone });
      const retryAt = (entry.detail as { retryAt?: number }).retryAt ?? 0;
      expect(Math.abs(retryAt - endsAt), where).toBeLessThan(1_000);
    }
    const timeline = await timelineOf(ctx, 'c-night');
    for (const channel of channels) {
      const line = `${channel} of offer ${night.offerId}: held: quiet hours in ${zone} until `;
      expect(
        timeline.some((text) => text.startsWith(line)),
        `${line}… in ${JSON.stringify(timeline)}`,
      ).toBe(true);
    }
    expect(emailsFor(sinks, night.offerId)).toEqual([]);
    expect(pushesFor(sinks, night.offerId)).toEqual([]);

    // The banner is not held: the website shows the offer through the quiet hours.
    expect((await ledger.offers.currentOffer('c-night', 'promo')).offer?.offerId).toBe(night.offerId);
    const banner = await ctx.api.inject({
      method: 'GET',
      url: `/v1/banner?customer=c-night&slot=promo&token=${ctx.links.bannerToken('c-night')}`,
    });
    expect(banner.statusCode).toBe(200);
    expect(banner.json<{ offer: { offerId: string } }>().offer.offerId).toBe(night.offerId);

    // The window ends on the ledger clock; the held jobs come back and send, once each.
    const patience = endsAt - (await ledger.now()) + 60_000;
    for (const channel of channels) await waitForDelivery(ledger, night.offerId, channel, ['sent'], patience);
    expect(emailsFor(sinks, night.offerId)).toHaveLength(1);
    expect(pushesFor(sinks, night.offerId)).toHaveLength(1);
    // (The banner's web delivery was published at issue: it is not held.)
    const sent = (await historyOf(ledger, 'c-night', 'delivery_sent')).filter(
      (entry) => entry.offer === night.offerId && entry.channel !== 'web',
    );
    expect(sent.map((entry) => entry.channel).sort()).toEqual(['email', 'push']);
    for (const entry of sent)
      expect(entry.at, `${entry.channel} sent at (${where})`).toBeGreaterThanOrEqual(endsAt);
    expect(emailsFor(sinks, noZone.offerId)).toHaveLength(1);
    expect(pushesFor(sinks, noZone.offerId)).toHaveLength(1);
  }, 180_000);
});
