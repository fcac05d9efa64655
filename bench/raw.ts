import type { PipelineDriver } from './fanout.ts';

/**
 * The raw baseline (bench/lib/raw-pipeline.ts): one HSET per offer, jobs added with addBulk in
 * batches of 500 offers, workers that send and mark the hash. Measured by the same `runFanout`.
 */
export const rawDriver: PipelineDriver = {
  pipeline: 'raw',
  workerScript: 'raw-workers',
  issue: (ctx, ids) => ctx.producer.call('rawIssue', { ids, batch: 500 }),
  times: (ctx, ids) => ctx.producer.call('rawTimes', { ids }),
};
