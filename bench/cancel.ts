import { MARKETER_KEY, WEB_KEY, type BenchContext } from './lib/context.ts';
import type { IdRange } from './lib/protocol.ts';
import { startChild } from './lib/procs.ts';
import type { NoCommands } from './lib/protocol.ts';
import { percentiles, pool, sleep, until, type Percentiles } from './lib/stats.ts';

export interface CancelResult {
  readonly offers: number;
  /** Delivery states (`channel:state`) the moment the cancels began. */
  readonly atCancel: Readonly<Record<string, number>>;
  /** Sends that reached a sink after their offer's cancel returned and were not claimed before it. */
  readonly sendsAfterCancel: number;
  /** Sends claimed before the cancel whose message reached the sink after it returned (in flight). */
  readonly inFlightAtCancel: number;
  /** Cancels after which the very next banner read was empty (204). */
  readonly bannerEmptyOnReturn: number;
  /** The cancel call (POST /v1/offers/:id/cancel), ms. */
  readonly cancelCall: Percentiles;
  /** From the start of the cancel call to the banner read that found nothing, ms. */
  readonly cancelToBannerEmpty: Percentiles;
  /** Retractions the ledger asked for, and those the push sink received. */
  readonly retractionsExpected: number;
  readonly retractionsReceived: number;
  /** From the cancel's return to the retraction push at the sink, ms. */
  readonly retraction: Percentiles;
}

/** How long the sinks hold their answer to an offer send, so that some sends are in flight. */
const SLOW_MS = 300;

/**
 * Cancels offers while their deliveries are in every state: a quarter of the customers are in
 * quiet hours (held), the sinks answer slowly (sending), most jobs still wait (scheduled), some
 * pushes went out (sent, so a retraction is due). Cancels go through the HTTP API; each is
 * followed at once by a banner read. Then every send the sinks saw is checked against the
 * ledger's history: a send claimed after its cancel, or arriving after it without an earlier
 * claim, is a send after cancel.
 */
export async function runCancel(ctx: BenchContext, options: { offers: number }): Promise<CancelResult> {
  const quiet: IdRange = { prefix: 'q-', from: 0, count: Math.floor(options.offers / 4) };
  const normal: IdRange = { prefix: 'x-', from: 0, count: options.offers - quiet.count };
  await ctx.reset();
  await Promise.all([ctx.producer.call('profiles', { ids: quiet }), ctx.producer.call('profiles', { ids: normal })]);
  await ctx.sinks.call('slow', { ms: SLOW_MS });
  const [workers] = await ctx.startWorkers('workers', 1, { BENCH_QUIET_PREFIX: quiet.prefix });
  const api = await startChild<NoCommands>('api', ctx.env, { nodeArgs: ctx.nodeArgs });
  try {
    const issued = await Promise.all([
      ctx.producer.call('issue', { ids: normal, concurrency: 16, returnIds: true }),
      ctx.producer.call('issue', { ids: quiet, concurrency: 16, returnIds: true }),
    ]);
    const offerIds = issued.flatMap((batch) => batch.offerIds);
    // Let some pushes go out (and get retracted later) before cancelling.
    const wantSent = Math.min(100, Math.floor(normal.count / 4));
    await until(async () => (await ctx.sinks.call('counts', null)).push >= wantSent, 'the first pushes', 60_000, 20);
    const states = async () => {
      const [a, b] = await Promise.all([
        ctx.producer.call('deliveryStates', { ids: normal }),
        ctx.producer.call('deliveryStates', { ids: quiet }),
      ]);
      const merged: Record<string, number> = { ...a };
      for (const [key, count] of Object.entries(b)) merged[key] = (merged[key] ?? 0) + count;
      return merged;
    };
    const atCancel = await states();

    const apiUrl = String(api.info['url']);
    const returned = new Map<string, number>();
    const cancelCall: number[] = [];
    const toEmpty: number[] = [];
    let bannerEmptyOnReturn = 0;
    await pool(offerIds.length, 8, async (i) => {
      const offerId = offerIds[i]!;
      const started = Date.now();
      const response = await fetch(`${apiUrl}/v1/offers/${offerId}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MARKETER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'bench: cancel propagation' }),
      });
      const body = (await response.json()) as { offer?: { customerId?: string } };
      const done = Date.now();
      if (!response.ok || body.offer?.customerId === undefined) {
        throw new Error(`cancel ${offerId} answered ${response.status}`);
      }
      returned.set(offerId, done);
      cancelCall.push(done - started);
      const banner = await fetch(`${apiUrl}/v1/customers/${body.offer.customerId}/offers/current`, {
        headers: { authorization: `Bearer ${WEB_KEY}` },
      });
      await banner.arrayBuffer();
      if (banner.status === 204) {
        bannerEmptyOnReturn++;
        toEmpty.push(Date.now() - started);
      }
    });

    const audit = async () => {
      const [a, b] = await Promise.all([
        ctx.producer.call('cancelAudit', { ids: normal }),
        ctx.producer.call('cancelAudit', { ids: quiet }),
      ]);
      return {
        claimsAfterCancel: a.claimsAfterCancel + b.claimsAfterCancel,
        claimedBeforeCancel: new Set([...a.claimedBeforeCancel, ...b.claimedBeforeCancel]),
        open: a.open + b.open,
        retractionsDue: a.retractionsDue + b.retractionsDue,
        retractionsDone: a.retractionsDone + b.retractionsDone,
      };
    };
    let final = await audit();
    await until(
      async () => {
        final = await audit();
        return final.open === 0 && final.retractionsDue === 0;
      },
      'every delivery ended and every retraction sent',
      60_000,
      200,
    );
    // Anything still on its way to a sink would arrive within the slow answer's time.
    await sleep(SLOW_MS * 2);

    let sendsAfterCancel = final.claimsAfterCancel;
    let inFlightAtCancel = 0;
    const retraction: number[] = [];
    for (const record of await ctx.sinks.call('records', null)) {
      const cancelled = returned.get(record.offerId);
      if (cancelled === undefined) continue;
      if (record.kind === 'retract') {
        retraction.push(record.at - cancelled);
      } else if (record.at > cancelled) {
        if (final.claimedBeforeCancel.has(`${record.offerId}|${record.channel}`)) inFlightAtCancel++;
        else sendsAfterCancel++;
      }
    }
    return {
      offers: offerIds.length,
      atCancel,
      sendsAfterCancel,
      inFlightAtCancel,
      bannerEmptyOnReturn,
      cancelCall: percentiles(cancelCall),
      cancelToBannerEmpty: percentiles(toEmpty),
      retractionsExpected: final.retractionsDone,
      retractionsReceived: retraction.length,
      retraction: percentiles(retraction),
    };
  } finally {
    await ctx.sinks.call('slow', { ms: 0 });
    await Promise.all([workers?.stop(), api.stop()]);
  }
}
