import type { Redis } from 'ioredis';
import { eraseFromCampaigns } from '../campaigns/erasure.ts';
import type { Ledger } from '../ledger/index.ts';
import { removeOfferJobs } from '../queue/erasure.ts';
import type { Queues } from '../queue/queues.ts';

/** What an erasure did; nothing in it is personal. */
export interface ErasureReport {
  /** False when nothing of the customer was left to erase (never known, or erased before). */
  readonly erased: boolean;
  /** Offers deleted, open and ended. */
  readonly offers: number;
  /** Campaign audiences the customer's place was tombstoned in. */
  readonly audienceErasures: number;
  /** Queued and finished jobs removed with their data. */
  readonly jobsRemoved: number;
  /**
   * Jobs a worker held at the time, which cannot be removed (their data is stripped to the
   * offer id): such a job may still send one message it had claimed before the erasure.
   */
  readonly jobsInFlight: number;
  /** Pushes that may be on a device and could not be taken back any more. */
  readonly pushesNotRetracted: number;
}

export interface ErasureDeps {
  readonly ledger: Ledger;
  readonly queues: Queues;
  /** The queues' connection, for their event streams. */
  readonly redis: Redis;
}

/**
 * Erases a customer everywhere Concord keeps them: campaign audiences and outcomes first (so a
 * run going on skips them from its next page), then every ledger record, then the jobs of their
 * offers. Safe to repeat, and worth repeating when `jobsInFlight` was not 0 or a campaign was
 * running: an offer a run was issuing to them at that very moment is caught by the second call.
 * A job the relay adds for an erased offer finds no offer and drops the customer id when it runs.
 */
export async function eraseCustomer(
  deps: ErasureDeps,
  customerId: string,
  actor: string,
): Promise<ErasureReport> {
  const audienceErasures = await eraseFromCampaigns(deps.ledger, customerId, actor);
  const ledger = await deps.ledger.customers.eraseCustomer(customerId);
  const jobs = await removeOfferJobs(deps.queues, deps.redis, ledger.offers);
  return {
    erased: ledger.erased || audienceErasures > 0 || jobs.removed > 0,
    offers: ledger.offers.length,
    audienceErasures,
    jobsRemoved: jobs.removed,
    jobsInFlight: jobs.inFlight,
    pushesNotRetracted: ledger.unretracted,
  };
}
