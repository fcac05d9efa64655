import type { SinkCounts, SinkRecord } from './sinks.ts';
import type { Percentiles } from './stats.ts';
import { EXAMPLE_OFFER } from '../../test/support/example-offer.ts';

/** A block of benchmark customers: `<prefix><7-digit index>` for index in [from, from + count). */
export interface IdRange {
  readonly prefix: string;
  readonly from: number;
  readonly count: number;
}

export function customerIds(range: IdRange): string[] {
  return Array.from(
    { length: range.count },
    (_, i) => `${range.prefix}${String(range.from + i).padStart(7, '0')}`,
  );
}

/** The sinks process (bench/proc/sinks.ts). */
export interface SinksCommands {
  counts: { args: null; result: SinkCounts };
  records: { args: null; result: readonly SinkRecord[] };
  reset: { args: null; result: null };
  slow: { args: { ms: number }; result: null };
}

/** When a pipeline issued its offers and how long each delivery took to be sent. */
export interface SendTimes {
  /** Deliveries (email + push) recorded as sent so far. */
  readonly sent: number;
  /** The last send, epoch ms (the ledger's clock for Concord, the worker's for raw; one machine). */
  readonly lastSentAt: number;
  /** Issue to sent, per delivery, in ms. */
  readonly latency: Percentiles;
}

/** Bytes of Redis memory (MEMORY USAGE) by kind of ledger key, and what they hold. */
export interface LedgerMemory {
  readonly bytes: Readonly<Record<string, number>>;
  readonly keys: Readonly<Record<string, number>>;
  readonly offers: number;
  readonly historyEntries: number;
}

/** The producer process (bench/proc/producer.ts): the API's work without HTTP, plus the raw pipeline's. */
export interface ProducerCommands {
  profiles: { args: { ids: IdRange }; result: null };
  issue: {
    args: { ids: IdRange; concurrency: number; returnIds?: boolean };
    result: { startedAt: number; endedAt: number; offerIds: string[] };
  };
  concordTimes: { args: { ids: IdRange }; result: SendTimes };
  deliveryStates: { args: { ids: IdRange }; result: Record<string, number> };
  cancelAudit: {
    args: { ids: IdRange };
    result: {
      /** Claims recorded in history after the offer's cancel entry, per offer and channel. */
      claimsAfterCancel: number;
      /** (offer, channel) pairs whose claim came before the cancel, as `offerId|channel`. */
      claimedBeforeCancel: string[];
      /** Deliveries still scheduled, held or sending. */
      open: number;
      retractionsDue: number;
      retractionsDone: number;
    };
  };
  ledgerMemory: { args: null; result: LedgerMemory };
  seedBare: { args: { ids: IdRange }; result: null };
  rawIssue: { args: { ids: IdRange; batch: number }; result: { startedAt: number; endedAt: number } };
  rawTimes: { args: { ids: IdRange }; result: SendTimes };
}

/** Processes that only start, serve and stop (workers, API, bare server). */
export interface NoCommands {
  errors: { args: null; result: string[] };
}

/** The benchmark's fixed offer: the example offer of docs/API.md. */
export const OFFER = EXAMPLE_OFFER;

export const VALID_FOR_MS = 7 * 24 * 3_600_000;

/** The contact details every benchmark customer has, all channels consented. */
export function profileOf(customerId: string) {
  return {
    email: `${customerId}@example.com`,
    pushEndpoint: `https://push.example.com/device/${customerId}`,
    timezone: 'Europe/Paris',
    locale: 'en-GB',
  };
}
