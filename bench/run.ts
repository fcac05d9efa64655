/**
 * `npm run bench`: what consistency costs, measured against the raw pipeline in the same run.
 * Starts its own redis-server, sinks, producer, workers and servers on 127.0.0.1, prints the
 * table, writes bench/results/<date>.json and .md, and stops every process it started.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBanner, type BannerResult } from './banner.ts';
import { runCancel, type CancelResult } from './cancel.ts';
import { concordDriver, runFanout, type FanoutResult } from './fanout.ts';
import { memoryFigures, runGrowth, type GrowthResult, type MemoryFigures } from './growth.ts';
import { startContext } from './lib/context.ts';
import { stopAll } from './lib/procs.ts';
import { markdown, rows, textTable, type BenchResults } from './lib/report.ts';
import { rawDriver } from './raw.ts';
import { join } from 'node:path';

const PARTS = ['fanout', 'banner', 'cancel', 'growth'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `npm run bench -- [options]

  --n <N>               offers in the fan-out (default 20000)
  --workers <list>      worker process counts for the fan-out (default 1,2)
  --rounds <k>          raw and Concord fan-out pairs per process count, alternating; the table
                        shows the median pair and every round's ratio (default 1)
  --only <parts>        any of ${PARTS.join(',')} (default fanout,banner,cancel)
  --growth              add the growth part: fan-out at 2000, 20000 and 200000
  --growth-sizes <list> the growth part's N values (default 2000,20000,200000)
  --growth-workers <k>  worker processes in the growth part (default 2)
  --banner-customers <N>, --banner-seconds <s>, --connections <c>   (default 10000, 10, 50)
  --cancel-offers <N>   offers cancelled in the cancel part (default 1000)
  --profile             write node --cpu-prof profiles of every Node process to bench/results/profiles/
  --out <dir>           where results go (default bench/results)
`;

function fail(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) fail(`--${name} must be a positive integer`);
  return number;
}

function list(name: string, value: string | undefined, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  return value.split(',').map((item) => positive(name, item.trim(), 0));
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        n: { type: 'string' },
        workers: { type: 'string' },
        rounds: { type: 'string' },
        only: { type: 'string' },
        growth: { type: 'boolean' },
        'growth-sizes': { type: 'string' },
        'growth-workers': { type: 'string' },
        'banner-customers': { type: 'string' },
        'banner-seconds': { type: 'string' },
        connections: { type: 'string' },
        'cancel-offers': { type: 'string' },
        profile: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
})();
if (values.help === true) {
  console.log(USAGE);
  process.exit(0);
}

const n = positive('n', values.n, 20_000);
const workerCounts = list('workers', values.workers, [1, 2]);
const rounds = positive('rounds', values.rounds, 1);
const parts: Part[] = values.only
  ? values.only.split(',').map((part) => {
      const name = part.trim();
      if (!(PARTS as readonly string[]).includes(name)) fail(`--only: unknown part ${name}`);
      return name as Part;
    })
  : ['fanout', 'banner', 'cancel', ...(values.growth === true ? (['growth'] as const) : [])];
if (values.growth === true && !parts.includes('growth')) parts.push('growth');
const growthSizes = list('growth-sizes', values['growth-sizes'], [2_000, 20_000, 200_000]);
const growthWorkers = positive('growth-workers', values['growth-workers'], 2);
const bannerCustomers = positive('banner-customers', values['banner-customers'], 10_000);
const bannerSeconds = positive('banner-seconds', values['banner-seconds'], 10);
const connections = positive('connections', values.connections, 50);
const cancelOffers = positive('cancel-offers', values['cancel-offers'], 1_000);
const outDir = values.out ?? fileURLToPath(new URL('./results/', import.meta.url));

const today = (() => {
  const now = new Date();
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
})();
const isDefault =
  n === 20_000 &&
  parts.join(',') === 'fanout,banner,cancel' &&
  workerCounts.join(',') === '1,2' &&
  rounds === 1;
const label = isDefault
  ? today
  : `${today}-${parts.join('-')}${n === 20_000 ? '' : `-n${n}`}${rounds === 1 ? '' : `-r${rounds}`}`;

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`\nbench: ${signal}, stopping every process it started…`);
  void stopAll().then(() => process.exit(130));
};
process.on('SIGINT', () => {
  stop('interrupted');
});
process.on('SIGTERM', () => {
  stop('terminated');
});

const log = (message: string) => {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
};

const started = Date.now();
const loadBefore = loadavg()[0] ?? 0;
const ctx = await startContext(
  values.profile === true ? { profileDir: join(outDir, 'profiles', label) } : {},
).catch(async (error: unknown) => {
  await stopAll();
  throw error;
});
let exitCode = 0;
try {
  const redisVersion = /redis_version:(\S+)/.exec(await ctx.redis.info('server'))?.[1] ?? 'unknown';
  const fanout: FanoutResult[] = [];
  let memory: MemoryFigures | undefined;
  let banner: BannerResult | undefined;
  let cancel: CancelResult | undefined;
  let growth: GrowthResult | undefined;
  const brief = (run: FanoutResult) =>
    `${run.pipeline} ${run.workers}w N=${run.n}: ${run.offersPerSecond.toFixed(0)} offers/s, ` +
    `p99 ${run.latency.p99.toFixed(0)} ms, other load ${run.otherLoad.toFixed(2)} cores`;

  if (parts.includes('fanout')) {
    for (const workers of workerCounts) {
      // Raw first, then Concord, per process count and round: drift on a shared machine hits
      // both alike, and rounds show how far the machine moves the ratio from one pair to the next.
      for (let round = 1; round <= rounds; round++) {
        const of = rounds === 1 ? '' : `, round ${round} of ${rounds}`;
        log(`fan-out: raw, ${workers} worker process(es), N=${n}${of}`);
        const raw = await runFanout(ctx, rawDriver, { n, workers, measureLedger: false });
        log(brief(raw));
        fanout.push({ ...raw, round });
        log(`fan-out: Concord, ${workers} worker process(es), N=${n}${of}`);
        const concord = await runFanout(ctx, concordDriver, {
          n,
          workers,
          measureLedger: memory === undefined,
        });
        log(brief(concord));
        fanout.push({ ...concord, round });
        if (concord.ledgerMemory) memory = memoryFigures(concord.ledgerMemory);
      }
    }
  }
  if (parts.includes('banner')) {
    log(`banner: ${bannerCustomers} customers, ${connections} connections, ${bannerSeconds} s each`);
    banner = await runBanner(ctx, { customers: bannerCustomers, connections, seconds: bannerSeconds });
    log(
      `banner: Concord ${banner.concord.requestsPerSecond.toFixed(0)} req/s, bare ${banner.bare.requestsPerSecond.toFixed(0)} req/s`,
    );
  }
  if (parts.includes('cancel')) {
    log(`cancel: ${cancelOffers} offers`);
    cancel = await runCancel(ctx, { offers: cancelOffers });
    log(`cancel: ${cancel.sendsAfterCancel} sends after cancel, retraction p99 ${cancel.retraction.p99} ms`);
  }
  if (parts.includes('growth')) {
    log(`growth: N=${growthSizes.join(', ')}, ${growthWorkers} worker process(es)`);
    growth = await runGrowth(ctx, {
      sizes: growthSizes,
      workers: growthWorkers,
      onRun: (run) => {
        log(brief(run));
      },
    });
  }

  const results: BenchResults = {
    date: today,
    machine: { cpus: availableParallelism(), node: process.versions.node, redis: redisVersion, loadBefore },
    options: { n, workers: workerCounts, parts, rounds },
    fanout,
    ...(memory === undefined ? {} : { memory }),
    ...(banner === undefined ? {} : { banner }),
    ...(cancel === undefined ? {} : { cancel }),
    ...(growth === undefined ? {} : { growth }),
    seconds: (Date.now() - started) / 1000,
  };
  const table = rows(results);
  console.log(`\n${textTable(table)}\n`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${label}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, `${label}.md`), markdown(results, table));
  log(`wrote ${join(outDir, label)}.json and ${label}.md (${Math.round(results.seconds)} s)`);
} catch (error) {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  ctx.redis.disconnect();
  await stopAll();
}
process.exit(exitCode);
