import { concordDriver, runFanout, type FanoutResult } from './fanout.ts';
import type { BenchContext } from './lib/context.ts';
import type { LedgerMemory } from './lib/protocol.ts';

/** Redis bytes per live offer and per history entry, from MEMORY USAGE of every ledger key. */
export interface MemoryFigures {
  readonly offers: number;
  /** Offer document, open set, owner entry, due and index entries, outbox, leases: history and profile apart. */
  readonly perLiveOffer: number;
  readonly perHistoryEntry: number;
  readonly historyEntriesPerOffer: number;
  /** The customer's profile (contact, consent), per customer. */
  readonly perProfile: number;
  /** Bytes per offer by key kind, for the note. */
  readonly breakdown: Readonly<Record<string, number>>;
}

const NOT_PER_OFFER = new Set(['history', 'profile']);

export function memoryFigures(memory: LedgerMemory): MemoryFigures {
  const offers = Math.max(1, memory.offers);
  const perOffer = Object.entries(memory.bytes).filter(([kind]) => !NOT_PER_OFFER.has(kind));
  return {
    offers: memory.offers,
    perLiveOffer: perOffer.reduce((sum, [, bytes]) => sum + bytes, 0) / offers,
    perHistoryEntry: (memory.bytes['history'] ?? 0) / Math.max(1, memory.historyEntries),
    historyEntriesPerOffer: memory.historyEntries / offers,
    perProfile: (memory.bytes['profile'] ?? 0) / Math.max(1, memory.keys['profile'] ?? 0),
    breakdown: Object.fromEntries(Object.entries(memory.bytes).map(([kind, bytes]) => [kind, bytes / offers])),
  };
}

export interface GrowthResult {
  readonly workers: number;
  readonly runs: readonly (FanoutResult & { readonly memory: MemoryFigures })[];
}

/** Concord's fan-out at growing N, from an empty Redis each time, with the ledger's memory after each. */
export async function runGrowth(
  ctx: BenchContext,
  options: { sizes: readonly number[]; workers: number; onRun?: (run: FanoutResult) => void },
): Promise<GrowthResult> {
  const runs: GrowthResult['runs'][number][] = [];
  for (const n of options.sizes) {
    const run = await runFanout(ctx, concordDriver, { n, workers: options.workers, measureLedger: true });
    options.onRun?.(run);
    runs.push({ ...run, memory: memoryFigures(run.ledgerMemory ?? { bytes: {}, keys: {}, offers: 0, historyEntries: 0 }) });
  }
  return { workers: options.workers, runs };
}
