import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { runTimer, type TimerOutcome } from '../src/delivery/timers.ts';
import type { Ledger } from '../src/ledger/index.ts';
import { timerJobSchema } from '../src/queue/payloads.ts';

/** The activate-at / expire-at processor; a timer that fired early waits again. */
export function timerProcessor(ledger: Ledger): Processor<unknown, TimerOutcome> {
  return async (job: Job, token?: string) => {
    const payload = timerJobSchema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`malformed timer job: ${payload.error.message}`);
    const outcome = await runTimer(ledger, payload.data);
    if (outcome.kind === 'early') {
      // `at` is ledger time; BullMQ counts on this process's clock.
      await job.moveToDelayed(Date.now() + Math.max(0, outcome.at - outcome.now), token);
      throw new DelayedError();
    }
    return outcome;
  };
}
