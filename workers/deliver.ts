import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { deliver, type DeliveryDeps, type DeliveryOutcome } from '../src/delivery/deliver.ts';
import { TransientDeliveryError } from '../src/queue/backoff.ts';
import { deliverJobSchema, erasedJobData } from '../src/queue/payloads.ts';

const GIVE_UP_NEVER_RETRY_MS = 10 * 60_000;

/** The email and push processor: parse, run one delivery attempt, map its outcome onto BullMQ. */
export function deliverProcessor(deps: DeliveryDeps): Processor<unknown, DeliveryOutcome> {
  return async (job: Job, token?: string) => {
    const payload = deliverJobSchema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`malformed deliver job: ${payload.error.message}`);
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    let outcome: DeliveryOutcome;
    try {
      const { sku, ...request } = payload.data;
      outcome = await deliver(deps, { ...request, skuHint: sku, finalAttempt });
    } catch (error) {
      // Not a provider's answer (the ledger or a guard failed): on the last attempt the job is
      // kept for later instead of failing, so the delivery is never left without a job.
      if (!finalAttempt) throw error;
      await job.moveToDelayed(Date.now() + GIVE_UP_NEVER_RETRY_MS, token);
      throw new DelayedError();
    }
    if (
      outcome.kind === 'skipped' &&
      outcome.reason === 'unknown_offer' &&
      payload.data.customerId !== undefined
    ) {
      // The offer is gone — erased, most likely, with this job added by a relay pass that raced
      // the erasure. The job outlives it in BullMQ's history; it must not keep the customer's id.
      await job.updateData(erasedJobData(payload.data));
    }
    if (outcome.kind === 'held') {
      // retryAt is ledger time; BullMQ counts on this process's clock.
      await job.moveToDelayed(Date.now() + Math.max(0, outcome.retryAt - outcome.now), token);
      throw new DelayedError();
    }
    if (outcome.kind === 'retry') throw new TransientDeliveryError(outcome.reason, outcome.retryAfterMs);
    return outcome;
  };
}
