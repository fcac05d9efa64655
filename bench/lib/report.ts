import type { BannerResult } from '../banner.ts';
import type { CancelResult } from '../cancel.ts';
import type { FanoutResult } from '../fanout.ts';
import type { GrowthResult, MemoryFigures } from '../growth.ts';
import type { Percentiles } from './stats.ts';

/** Everything one `npm run bench` measured, as written to bench/results/<date>.json. */
export interface BenchResults {
  readonly date: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly redis: string;
    readonly loadBefore: number;
  };
  readonly options: {
    readonly n: number;
    readonly workers: readonly number[];
    readonly parts: readonly string[];
    readonly rounds?: number;
  };
  readonly fanout: readonly FanoutResult[];
  readonly memory?: MemoryFigures;
  readonly banner?: BannerResult;
  readonly cancel?: CancelResult;
  readonly growth?: GrowthResult;
  readonly seconds: number;
}

/** One line of the table: a figure, Concord's value, the baseline's, their ratio, the target. */
export interface Row {
  readonly figure: string;
  readonly concord: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  /** `pass`, `miss`, or empty for a figure without a target. */
  readonly result: 'pass' | 'miss' | '';
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);
const ms = (p: Percentiles) => `${fixed(p.p50)} / ${fixed(p.p99)}`;
const verdict = (ok: boolean): Row['result'] => (ok ? 'pass' : 'miss');
const ROLES = ['producer', 'workers', 'redis', 'sinks'] as const;

function cpu(run: FanoutResult): string {
  return ROLES.map((role) => fixed(run.cpuPer1000[role] ?? 0, 2)).join(' / ');
}

function cpuTotal(run: FanoutResult): number {
  return ROLES.reduce((sum, role) => sum + (run.cpuPer1000[role] ?? 0), 0);
}

interface FanoutPair {
  readonly raw: FanoutResult;
  readonly concord: FanoutResult;
  readonly ratio: number;
}

/** The raw and Concord runs of each round for a process count, by ratio (lowest first). */
function fanoutPairs(runs: readonly FanoutResult[], workers: number): FanoutPair[] {
  const pairs: FanoutPair[] = [];
  for (const concord of runs.filter((run) => run.pipeline === 'concord' && run.workers === workers)) {
    const raw = runs.find(
      (run) => run.pipeline === 'raw' && run.workers === workers && run.round === concord.round,
    );
    if (raw) pairs.push({ raw, concord, ratio: concord.offersPerSecond / raw.offersPerSecond });
  }
  return pairs.sort((a, b) => a.ratio - b.ratio);
}

function fanoutRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  for (const workers of results.options.workers) {
    const pairs = fanoutPairs(results.fanout, workers);
    // The median pair by ratio (the lower one of an even count), so one lucky or unlucky
    // round does not decide the figure.
    const median = pairs[Math.floor((pairs.length - 1) / 2)];
    if (!median) continue;
    const { concord, raw, ratio } = median;
    const label = `${workers} worker process${workers === 1 ? '' : 'es'}`;
    if (pairs.length > 1) {
      rows.push({
        figure: `fan-out ratio in each of ${pairs.length} rounds, ${label} (median below)`,
        concord: pairs.map((pair) => fixed(pair.ratio, 2)).join(' '),
        baseline: '',
        ratio: '',
        target: '',
        result: '',
      });
    }
    rows.push(
      {
        figure: `fan-out offers/s, ${label} (N=${concord.n})`,
        concord: fixed(concord.offersPerSecond),
        baseline: fixed(raw.offersPerSecond),
        ratio: fixed(ratio, 2),
        target: '>= 0.75 x raw',
        result: verdict(ratio >= 0.75),
      },
      {
        figure: `  deliveries/s (email + push sent)`,
        concord: fixed(concord.deliveriesPerSecond),
        baseline: fixed(raw.deliveriesPerSecond),
        ratio: fixed(concord.deliveriesPerSecond / raw.deliveriesPerSecond, 2),
        target: '',
        result: '',
      },
      {
        figure: `  issue -> sent p50 / p99, ms`,
        concord: ms(concord.latency),
        baseline: ms(raw.latency),
        ratio: '',
        target: '',
        result: '',
      },
      {
        figure: `  CPU s / 1,000 offers: producer/workers/redis/sinks`,
        concord: cpu(concord),
        baseline: cpu(raw),
        ratio: fixed(cpuTotal(concord) / cpuTotal(raw), 2),
        target: '',
        result: '',
      },
      {
        figure: `  other processes' load during the run, cores`,
        concord: fixed(concord.otherLoad, 2),
        baseline: fixed(raw.otherLoad, 2),
        ratio: '',
        target: '',
        result: '',
      },
    );
  }
  return rows;
}

function bannerRows(banner: BannerResult): Row[] {
  const ratio = banner.concord.requestsPerSecond / banner.bare.requestsPerSecond;
  return [
    {
      figure: `banner read req/s (${banner.connections} conns, ${banner.seconds} s, ${banner.customers} customers)`,
      concord: fixed(banner.concord.requestsPerSecond),
      baseline: fixed(banner.bare.requestsPerSecond),
      ratio: fixed(ratio, 2),
      target: '>= 0.7 x bare',
      result: verdict(ratio >= 0.7),
    },
    {
      figure: '  latency p50 / p99, ms',
      concord: `${fixed(banner.concord.p50, 1)} / ${fixed(banner.concord.p99, 1)}`,
      baseline: `${fixed(banner.bare.p50, 1)} / ${fixed(banner.bare.p99, 1)}`,
      ratio: '',
      target: 'p99 <= 10 ms',
      result: verdict(banner.concord.p99 <= 10),
    },
    {
      figure: '  answers other than 200, errors, timeouts',
      concord: String(banner.concord.failures),
      baseline: String(banner.bare.failures),
      ratio: '',
      target: '0',
      result: verdict(banner.concord.failures === 0 && banner.bare.failures === 0),
    },
  ];
}

function cancelRows(cancel: CancelResult): Row[] {
  const all = cancel.retractionsReceived >= cancel.retractionsExpected;
  return [
    {
      figure: `cancel ${cancel.offers} offers: sends after cancel returned`,
      concord: `${cancel.sendsAfterCancel} (${cancel.inFlightAtCancel} in flight, claimed before)`,
      baseline: '',
      ratio: '',
      target: '0',
      result: verdict(cancel.sendsAfterCancel === 0),
    },
    {
      figure: '  banner empty at the first read after cancel returned',
      concord: `${cancel.bannerEmptyOnReturn} / ${cancel.offers}`,
      baseline: '',
      ratio: '',
      target: 'all',
      result: verdict(cancel.bannerEmptyOnReturn === cancel.offers),
    },
    {
      figure: '  cancel call / cancel -> banner empty p99, ms',
      concord: `${fixed(cancel.cancelCall.p99, 1)} / ${fixed(cancel.cancelToBannerEmpty.p99, 1)}`,
      baseline: '',
      ratio: '',
      target: '',
      result: '',
    },
    {
      figure: `  push retraction after cancel p50 / p99, ms (${cancel.retractionsReceived}/${cancel.retractionsExpected})`,
      concord: ms(cancel.retraction),
      baseline: '',
      ratio: '',
      target: 'p99 < 1000, all',
      result: verdict(all && cancel.retraction.p99 < 1000),
    },
  ];
}

function memoryRows(memory: MemoryFigures, n: number): Row[] {
  return [
    {
      figure: `Redis bytes per live offer + 3 deliveries, history apart (N=${n})`,
      concord: fixed(memory.perLiveOffer),
      baseline: '',
      ratio: '',
      target: '<= 1024',
      result: verdict(memory.perLiveOffer <= 1024),
    },
    {
      figure: `  per history entry (${fixed(memory.historyEntriesPerOffer, 1)} entries per offer)`,
      concord: fixed(memory.perHistoryEntry),
      baseline: '',
      ratio: '',
      target: '',
      result: '',
    },
  ];
}

function growthRows(growth: GrowthResult): Row[] {
  const rows: Row[] = growth.runs.map((run) => ({
    figure: `growth N=${run.n}: offers/s, ${growth.workers} worker process(es)`,
    concord: fixed(run.offersPerSecond),
    baseline: '',
    ratio: '',
    target: '',
    result: '',
  }));
  const sorted = [...growth.runs].sort((a, b) => a.n - b.n);
  const largest = sorted[sorted.length - 1];
  const reference = sorted.find((run) => run.n === 20_000) ?? sorted[sorted.length - 2];
  if (largest && reference && largest !== reference) {
    const ratio = largest.offersPerSecond / reference.offersPerSecond;
    rows.push({
      figure: `  offers/s at N=${largest.n} / at N=${reference.n}`,
      concord: fixed(ratio, 2),
      baseline: '',
      ratio: fixed(ratio, 2),
      target: '>= 0.85',
      result: verdict(ratio >= 0.85),
    });
  }
  for (const run of growth.runs) {
    rows.push({
      figure: `  N=${run.n}: bytes per live offer / per history entry`,
      concord: `${fixed(run.memory.perLiveOffer)} / ${fixed(run.memory.perHistoryEntry)}`,
      baseline: '',
      ratio: '',
      target: '<= 1024 per offer',
      result: verdict(run.memory.perLiveOffer <= 1024),
    });
  }
  return rows;
}

/** The table's rows, in the order of the issue: fan-out, banner, cancel, memory, growth. */
export function rows(results: BenchResults): Row[] {
  return [
    ...fanoutRows(results),
    ...(results.banner ? bannerRows(results.banner) : []),
    ...(results.cancel ? cancelRows(results.cancel) : []),
    ...(results.memory ? memoryRows(results.memory, results.options.n) : []),
    ...(results.growth ? growthRows(results.growth) : []),
  ];
}

const HEADER: Row = {
  figure: 'figure',
  concord: 'Concord',
  baseline: 'raw/bare',
  ratio: 'ratio',
  target: 'target',
  result: '',
};
const COLUMNS = ['figure', 'concord', 'baseline', 'ratio', 'target', 'result'] as const;

/** The table as fixed-width text for the terminal. */
export function textTable(table: readonly Row[]): string {
  const all = [HEADER, ...table];
  const widths = COLUMNS.map((column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row: Row) =>
    COLUMNS.map((column, i) => (i === 0 ? row[column].padEnd(widths[i]!) : row[column].padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(HEADER), widths.map((width) => '-'.repeat(width)).join('  '), ...table.map(line)].join('\n');
}

/** The summary written beside the JSON: the table, the conditions, and what each part did. */
export function markdown(results: BenchResults, table: readonly Row[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    `# Concord benchmark, ${results.date}`,
    '',
    `${results.machine.cpus} cores, Node ${results.machine.node}, redis-server ${results.machine.redis}; ` +
      `N=${results.options.n}, worker processes ${results.options.workers.join(' and ')}, parts ${results.options.parts.join(', ')}; ` +
      `load average before the run ${results.machine.loadBefore.toFixed(2)}; took ${Math.round(results.seconds)} s.`,
    '',
    '| figure | Concord | raw / bare | ratio | target | result |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...table.map(
      (row) =>
        `| ${cell(row.figure.trim())} | ${cell(row.concord)} | ${cell(row.baseline)} | ${row.ratio} | ${cell(row.target)} | ${row.result} |`,
    ),
    '',
    'How each figure is measured: [bench/README.md](../README.md). Raw numbers: the JSON beside this file.',
  ];
  if (results.cancel) {
    lines.push(
      '',
      `Delivery states when the cancels began: ${Object.entries(results.cancel.atCancel)
        .map(([state, count]) => `${state} ${count}`)
        .join(', ')}.`,
    );
  }
  if (results.memory) {
    lines.push(
      '',
      `Redis bytes per offer by key kind: ${Object.entries(results.memory.breakdown)
        .map(([kind, bytes]) => `${kind} ${bytes.toFixed(0)}`)
        .join(', ')}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
