import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, type QueueName } from './names.ts';

/** How long finished jobs are kept, so a relayed duplicate of a finished effect stays a no-op. */
const KEEP_FINISHED = { age: 24 * 3600, count: 100_000 };

/** Retry policy of every job: exponential backoff with jitter (see `backoff.ts`), then give up. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'concord' },
  removeOnComplete: KEEP_FINISHED,
  removeOnFail: KEEP_FINISHED,
};

/** The queues, opened as producers on one connection. */
export type Queues = Readonly<Record<QueueName, Queue>>;

/** BullMQ's key prefix for a deployment: queue keys live beside, not inside, the ledger's. */
export function queuePrefix(prefix: string): string {
  return `${prefix}-q`;
}

export function openQueues(
  connection: Redis,
  prefix: string,
  onError: (error: Error) => void = () => undefined,
): Queues {
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, {
      connection,
      prefix: queuePrefix(prefix),
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    // Without a listener, a connection error would be printed by the emitter, once per retry.
    queue.on('error', onError);
    return [name, queue] as const;
  });
  return Object.fromEntries(entries) as Record<QueueName, Queue>;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
