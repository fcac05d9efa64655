import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { deliver, type DeliveryDeps, type DeliveryOutcome } from '../src/delivery/deliver.ts';
import { TransientDeliveryError } from '../src/queue/backoff.ts';
import { deliverJobSchema } from '../src/queue/payloads.ts';

/** The email and push processor: parse, run one delivery attempt, map its outcome onto BullMQ. */
export function deliverProcessor(deps: DeliveryDeps): Processor<unknown, DeliveryOutcome> {
  return async (job: Job, token?: string) => {
    const payload = deliverJobSchema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`malformed deliver job: ${payload.error.message}`);
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await deliver(deps, { ...payload.data, finalAttempt });
    if (outcome.kind === 'held') {
      await job.moveToDelayed(outcome.retryAt, token);
      throw new DelayedError();
    }
    if (outcome.kind === 'retry') throw new TransientDeliveryError(outcome.reason, outcome.retryAfterMs);
    return outcome;
  };
}
