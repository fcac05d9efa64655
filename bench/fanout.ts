import { usedMemory, type BenchContext } from './lib/context.ts';
import { startCpu } from './lib/cpu.ts';
import type { Child } from './lib/procs.ts';
import type { IdRange, LedgerMemory, NoCommands, SendTimes } from './lib/protocol.ts';
import { until, type Percentiles } from './lib/stats.ts';

/** One fan-out of N offers to email + push + web through one pipeline. */
export interface FanoutResult {
  readonly pipeline: 'concord' | 'raw';
  readonly n: number;
  readonly workers: number;
  /** From the first issue to the last send, in seconds. */
  readonly seconds: number;
  readonly offersPerSecond: number;
  /** Email and push sends per second (the banner is published by the issue itself). */
  readonly deliveriesPerSecond: number;
  /** Time the producer took to issue every offer, in seconds. */
  readonly issueSeconds: number;
  readonly latency: Percentiles;
  /** CPU seconds per 1,000 offers, by process role. */
  readonly cpuPer1000: Readonly<Record<string, number>>;
  /** Cores' worth of CPU other processes on the machine used during the run (noise). */
  readonly otherLoad: number;
  /** Redis used_memory grown per offer over the run (ledger, queues, finished jobs), bytes. */
  readonly usedMemoryPerOffer: number;
  readonly ledgerMemory?: LedgerMemory;
  readonly errors: readonly string[];
  /** Which of the raw and Concord pairs this run belongs to, with `--rounds`. */
  readonly round?: number;
}

/** How a pipeline issues its offers and reads back when each delivery was sent. */
export interface PipelineDriver {
  readonly pipeline: 'concord' | 'raw';
  readonly workerScript: 'workers' | 'raw-workers';
  issue(ctx: BenchContext, ids: IdRange): Promise<{ startedAt: number; endedAt: number }>;
  times(ctx: BenchContext, ids: IdRange): Promise<SendTimes>;
}

/**
 * Runs one fan-out from an empty Redis: profiles first (not measured), then the workers, then
 * every offer is issued at once while the workers drain. The run ends when the sinks have every
 * email and push; CPU is read from /proc for each process over exactly that window.
 */
export async function runFanout(
  ctx: BenchContext,
  driver: PipelineDriver,
  options: { n: number; workers: number; measureLedger: boolean },
): Promise<FanoutResult> {
  const { n } = options;
  const ids: IdRange = { prefix: 'c-', from: 0, count: n };
  await ctx.reset();
  await ctx.producer.call('profiles', { ids });
  const workers: Child<NoCommands>[] = await ctx.startWorkers(driver.workerScript, options.workers);
  try {
    const memoryBefore = await usedMemory(ctx.redis);
    const stopCpu = startCpu({
      producer: [ctx.producer.pid],
      workers: workers.map((worker) => worker.pid),
      redis: [ctx.redisPid],
      sinks: [ctx.sinks.pid],
    });
    const issued = driver.issue(ctx, ids);
    // Generous: a stuck pipeline fails the run instead of hanging it.
    const timeoutMs = 120_000 + n * 20;
    await until(
      async () => {
        const counts = await ctx.sinks.call('counts', null);
        return counts.email >= n && counts.push >= n;
      },
      `${n} emails and ${n} pushes at the sinks`,
      timeoutMs,
      50,
    );
    const cpu = stopCpu();
    const { startedAt, endedAt } = await issued;
    let times = await driver.times(ctx, ids);
    // The sink has the message a moment before the worker records the send.
    await until(
      async () => {
        times = await driver.times(ctx, ids);
        return times.sent >= 2 * n;
      },
      'every send recorded',
      30_000,
      100,
    );
    const memoryAfter = await usedMemory(ctx.redis);
    const seconds = (times.lastSentAt - startedAt) / 1000;
    const errors = (await Promise.all(workers.map((worker) => worker.call('errors', null)))).flat();
    return {
      pipeline: driver.pipeline,
      n,
      workers: options.workers,
      seconds,
      offersPerSecond: n / seconds,
      deliveriesPerSecond: (2 * n) / seconds,
      issueSeconds: (endedAt - startedAt) / 1000,
      latency: times.latency,
      cpuPer1000: Object.fromEntries(
        Object.entries(cpu.byRole).map(([role, used]) => [role, (used / n) * 1000]),
      ),
      otherLoad: cpu.others / cpu.wallSeconds,
      usedMemoryPerOffer: (memoryAfter - memoryBefore) / n,
      ...(options.measureLedger ? { ledgerMemory: await ctx.producer.call('ledgerMemory', null) } : {}),
      errors,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

/** Concord: one ledger `issue` per offer; the relay, claims and confirms do the rest. */
export const concordDriver: PipelineDriver = {
  pipeline: 'concord',
  workerScript: 'workers',
  issue: (ctx, ids) => ctx.producer.call('issue', { ids, concurrency: 64 }),
  times: (ctx, ids) => ctx.producer.call('concordTimes', { ids }),
};
