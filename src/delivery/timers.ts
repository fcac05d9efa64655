import type { Ledger } from '../ledger/index.ts';

/** What a timer found: done, or not due yet (the job fired early: ask again at `at`). */
export type TimerOutcome =
  | { readonly kind: 'done'; readonly state: string }
  | { readonly kind: 'early'; readonly at: number; readonly now: number };

/**
 * Applies an activate-at or expire-at timer job, as an earlier version queued them (the sweeper
 * applies due transitions now). The ledger decides on its own clock, so a timer that fires early
 * changes nothing and says when to come back.
 */
export async function runTimer(
  ledger: Ledger,
  request: { offerId: string; kind: 'activate' | 'expire' },
): Promise<TimerOutcome> {
  const result =
    request.kind === 'activate'
      ? await ledger.offers.activate(request.offerId)
      : await ledger.offers.expire(request.offerId);
  const { offer, now } = result;
  if (request.kind === 'activate' && offer.state === 'pending' && !offer.queued && offer.validFrom > now) {
    return { kind: 'early', at: offer.validFrom, now };
  }
  if (
    request.kind === 'expire' &&
    (offer.state === 'active' || offer.state === 'pending') &&
    offer.validUntil > now
  ) {
    return { kind: 'early', at: offer.validUntil, now };
  }
  return { kind: 'done', state: offer.state };
}
