import { isConcordError } from '../errors.ts';
import type { Ledger } from '../ledger/index.ts';

export interface SweepReport {
  readonly transitions: number;
  readonly leases: number;
}

/**
 * Time-driven work: applies the transitions the partitions' due indexes say have come (an offer
 * activating at validFrom, expiring at validUntil), and ends leases whose worker died without a
 * confirm. Both are idempotent ledger calls, so sweepers in several processes may overlap.
 * Nothing is shown or sent late meanwhile: the banner read and the claim decide at the ledger
 * clock; the sweep makes the state, the retraction and the slot's next offer follow.
 */
export async function sweep(ledger: Ledger, limit = 500): Promise<SweepReport> {
  let transitions = 0;
  let leases = 0;
  // One clock reading per sweep: each transition decides again at its own ledger time.
  const now = await ledger.now();
  for (let partition = 0; partition < ledger.keys.partitions; partition++) {
    for (const due of await ledger.indexes.dueTransitions(partition, limit, now)) {
      await ignoreGone(due.kind === 'activate' ? ledger.offers.activate(due.offerId) : ledger.offers.expire(due.offerId));
      transitions++;
    }
    for (const lease of await ledger.indexes.expiredLeases(partition, limit, now)) {
      if (lease.channel === 'web') continue;
      await ignoreGone(ledger.deliveries.expireLease(lease.offerId, lease.channel));
      leases++;
    }
  }
  return { transitions, leases };
}

async function ignoreGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!isConcordError(error, 'not_found')) throw error;
  }
}

/** Runs {@link sweep} every `intervalMs` until stopped; errors are reported and the next run retries. */
export function startSweeper(
  ledger: Ledger,
  options: { intervalMs: number; onError?: (error: unknown) => void },
): { stop(): Promise<void> } {
  let stopped = false;
  let busy = false;
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    // A sweep slower than the interval is not run twice at once.
    if (stopped || busy) return;
    busy = true;
    current = sweep(ledger)
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
