import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import { retract, type RetractionDeps, type RetractionOutcome } from '../src/delivery/retract.ts';
import { TransientDeliveryError } from '../src/queue/backoff.ts';
import { retractJobSchema } from '../src/queue/payloads.ts';

/** The retraction processor: a push replacement for an offer that ended after it was sent. */
export function retractProcessor(deps: RetractionDeps): Processor<unknown, RetractionOutcome> {
  return async (job: Job) => {
    const payload = retractJobSchema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`malformed retract job: ${payload.error.message}`);
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await retract(deps, { ...payload.data, finalAttempt });
    if (outcome.kind === 'retry') throw new TransientDeliveryError(outcome.reason, outcome.retryAfterMs);
    return outcome;
  };
}
