import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ErasedOffer } from '../ledger/index.ts';
import { jobIds } from './names.ts';
import { erasedJobData } from './payloads.ts';
import type { Queues } from './queues.ts';

/** What removing an erased customer's jobs did. */
export interface ErasedJobs {
  /** Jobs removed with their data (waiting, delayed, prioritized, completed, failed). */
  readonly removed: number;
  /**
   * Jobs a worker holds right now: they cannot be removed. Their data is stripped to the offer
   * id; the attempt finds the offer gone (or, if it claimed before the erasure, may still send
   * one message), and the finished job is kept for BullMQ's usual 24 hours.
   */
  readonly inFlight: number;
}

const EVENTS_PAGE = 1000;

/**
 * Removes the jobs of the given (erased) offers from every queue, with their data, answers and
 * failure reasons, and the queue event-stream entries that name them. The job ids are derived,
 * not searched (`redis` is the queues' connection): a delivery's are `deliver.<offer>.<channel>.<attempt>` for each attempt the
 * ledger counted, a retraction's `retract.<offer>.push.<version>` for each version. Safe to repeat.
 */
export async function removeOfferJobs(
  queues: Queues,
  redis: Redis,
  offers: readonly ErasedOffer[],
): Promise<ErasedJobs> {
  const candidates: { queue: Queue; id: string }[] = [];
  for (const offer of offers) {
    for (const channel of ['email', 'push'] as const) {
      const attempts = offer.attempts[channel];
      if (attempts === undefined) continue;
      for (let attempt = 0; attempt <= attempts; attempt++) {
        candidates.push({ queue: queues[channel], id: jobIds.deliver(offer.offerId, channel, attempt) });
      }
      if (channel === 'push') {
        for (let version = 1; version <= offer.version; version++) {
          candidates.push({ queue: queues.retract, id: jobIds.retract(offer.offerId, channel, version) });
        }
      }
    }
  }
  let removed = 0;
  let inFlight = 0;
  for (const { queue, id } of candidates) {
    const job = (await queue.getJob(id)) as Job | undefined;
    if (!job) continue;
    if (await removeOrStrip(job)) removed++;
    else inFlight++;
  }
  const ids = new Set(candidates.map((candidate) => candidate.id));
  for (const queue of new Set(candidates.map((candidate) => candidate.queue))) {
    await dropEvents(redis, queue, ids);
  }
  return { removed, inFlight };
}

/** True when the job was removed; false when a worker holds it (its data is stripped instead). */
async function removeOrStrip(job: Job): Promise<boolean> {
  if ((await job.getState()) !== 'active') {
    try {
      await job.remove();
      return true;
    } catch (error) {
      // Taken by a worker between the look and the removal: handled as in flight below.
      if (!(error instanceof Error && /locked|active/i.test(error.message))) throw error;
    }
  }
  await job.updateData(erasedJobData(job.data));
  return false;
}

/**
 * Deletes the entries of a queue's event stream that name one of the jobs (`added`, `completed`
 * with the job's answer, `failed` with its reason …), a page at a time.
 */
async function dropEvents(client: Redis, queue: Queue, jobIds: ReadonlySet<string>): Promise<void> {
  const key = queue.keys['events'];
  if (key === undefined) return;
  let from = '-';
  for (;;) {
    const entries = await client.xrange(key, from, '+', 'COUNT', EVENTS_PAGE);
    const doomed = entries
      .filter(([, fields]) => {
        const at = fields.indexOf('jobId');
        return at >= 0 && at % 2 === 0 && jobIds.has(fields[at + 1] ?? '');
      })
      .map(([id]) => id);
    if (doomed.length > 0) await client.xdel(key, ...doomed);
    const last = entries.at(-1);
    if (entries.length < EVENTS_PAGE || !last) return;
    from = `(${last[0]}`;
  }
}
