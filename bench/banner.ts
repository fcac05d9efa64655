import autocannon from 'autocannon';
import { WEB_KEY, type BenchContext } from './lib/context.ts';
import { startCpu } from './lib/cpu.ts';
import { startChild } from './lib/procs.ts';
import { customerIds, type IdRange, type NoCommands } from './lib/protocol.ts';

/** One server under autocannon. */
export interface ReadRun {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Answers other than 200 (a live offer), timeouts and errors: 0 for a valid run. */
  readonly failures: number;
  /** CPU seconds per 1,000 requests, by process role. */
  readonly cpuPer1000: Readonly<Record<string, number>>;
  readonly otherLoad: number;
}

export interface BannerResult {
  readonly customers: number;
  readonly connections: number;
  readonly seconds: number;
  readonly concord: ReadRun;
  readonly bare: ReadRun;
}

/**
 * The banner read: Concord's API (GET /v1/customers/:id/offers/current, the `readLiveDocument`
 * script) and a bare Node server doing one HGETALL per request, on the same Redis and the same
 * random working set of customers with a live offer, each under autocannon after a warm-up.
 */
export async function runBanner(
  ctx: BenchContext,
  options: { customers: number; connections: number; seconds: number },
): Promise<BannerResult> {
  const ids: IdRange = { prefix: 'b-', from: 0, count: options.customers };
  await ctx.reset();
  await ctx.producer.call('profiles', { ids });
  await ctx.producer.call('issue', { ids, concurrency: 64 });
  await ctx.producer.call('seedBare', { ids });
  const list = customerIds(ids);
  const api = await startChild<NoCommands>('api', ctx.env, { nodeArgs: ctx.nodeArgs });
  const bare = await startChild<NoCommands>('bare', ctx.env, { nodeArgs: ctx.nodeArgs });
  try {
    const load = async (url: string, pid: number, seconds: number): Promise<ReadRun> => {
      const stopCpu = startCpu({ server: [pid], redis: [ctx.redisPid], autocannon: [process.pid] });
      const result = await autocannon({
        url,
        connections: options.connections,
        duration: seconds,
        headers: { authorization: `Bearer ${WEB_KEY}` },
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({
              ...request,
              path: `/v1/customers/${list[Math.floor(Math.random() * list.length)]!}/offers/current`,
            }),
          },
        ],
      });
      const cpu = stopCpu();
      const total = result.requests.total;
      const ok = result.statusCodeStats['200']?.count ?? 0;
      return {
        requestsPerSecond: total / result.duration,
        p50: result.latency.p50,
        p99: result.latency.p99,
        failures: total - ok + result.errors + result.timeouts,
        cpuPer1000: Object.fromEntries(
          Object.entries(cpu.byRole).map(([role, used]) => [role, (used / Math.max(1, total)) * 1000]),
        ),
        otherLoad: cpu.others / cpu.wallSeconds,
      };
    };
    const apiUrl = String(api.info['url']);
    const bareUrl = String(bare.info['url']);
    // Warm-up: JIT, connection pools and Redis's script cache, not measured.
    await load(bareUrl, bare.pid, 2);
    await load(apiUrl, api.pid, 2);
    const bareRun = await load(bareUrl, bare.pid, options.seconds);
    const concordRun = await load(apiUrl, api.pid, options.seconds);
    return {
      customers: options.customers,
      connections: options.connections,
      seconds: options.seconds,
      concord: concordRun,
      bare: bareRun,
    };
  } finally {
    await Promise.all([api.stop(), bare.stop()]);
  }
}
