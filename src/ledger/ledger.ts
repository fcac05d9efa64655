import type { Redis } from 'ioredis';
import { CampaignStore } from './campaign-store.ts';
import { Customers } from './customers.ts';
import { Deliveries } from './deliveries.ts';
import { GuardFacts } from './guard-facts.ts';
import { PartitionIndexes } from './indexes.ts';
import type { LedgerKeys } from './keys.ts';
import { Offers } from './offers.ts';
import { OutboxReader } from './outbox.ts';
import { OfferOwners } from './owners.ts';
import { ScriptRunner } from './runner.ts';
import type { SlotPolicy } from './schemas.ts';
import { DEFAULT_LEDGER_LIMITS, type LedgerLimits } from './settings.ts';
import { Signals } from './signals.ts';

/** How a deployment runs its ledger. */
export interface LedgerOptions {
  readonly prefix: string;
  readonly partitions: number;
  /** Policy per slot; a slot not named here uses `replace`. An offer may name its own. */
  readonly slotPolicies?: Readonly<Record<string, SlotPolicy>>;
  /**
   * Shifts the ledger clock (Redis TIME) by this many milliseconds, for simulations that ask
   * "what would the ledger decide at time T". Leave it 0 in production.
   */
  readonly clockSkewMs?: number;
  /** What the ledger keeps and accepts; the environment's defaults when not given. */
  readonly limits?: Partial<LedgerLimits>;
  /** Told how long each script took and whether it answered (for latency metrics). */
  readonly onScript?: (script: string, seconds: number, ok: boolean) => void;
}

/**
 * The offer ledger: the one truth about which offer is live for a customer and slot, and the
 * only code that writes ledger keys. Every write is one atomic Lua script that decides on the
 * Redis clock; every reply is parsed with zod. Its parts serve different callers: offers,
 * deliveries, customers, signals, campaigns, the partition indexes, and the outbox (the relay's).
 */
export class Ledger {
  readonly keys: LedgerKeys;
  /** The deployment's bounds (history retention, open offers, event dates and dedupe). */
  readonly limits: LedgerLimits;
  readonly offers: Offers;
  readonly deliveries: Deliveries;
  readonly customers: Customers;
  readonly signals: Signals;
  readonly campaigns: CampaignStore;
  readonly indexes: PartitionIndexes;
  readonly outbox: OutboxReader;
  readonly owners: OfferOwners;
  private readonly runner: ScriptRunner;

  constructor(
    redis: Redis,
    private readonly options: LedgerOptions,
  ) {
    this.limits = { ...DEFAULT_LEDGER_LIMITS, ...options.limits };
    this.runner = new ScriptRunner(redis, {
      prefix: options.prefix,
      partitions: options.partitions,
      clockSkewMs: options.clockSkewMs ?? 0,
      historyRetentionMs: this.limits.historyRetentionMs,
      onScript: options.onScript,
    });
    this.keys = this.runner.keys;
    this.owners = new OfferOwners(this.runner);
    this.signals = new Signals(this.runner, this.limits);
    const facts = new GuardFacts(this.runner, this.signals);
    this.offers = new Offers(
      this.runner,
      this.owners,
      {
        slotPolicies: options.slotPolicies ?? {},
        maxOpenOffers: this.limits.maxOpenOffers,
        guardrails: this.limits.guardrails,
      },
      facts,
    );
    this.deliveries = new Deliveries(this.runner, this.owners, this.limits.guardrails, facts);
    this.customers = new Customers(this.runner, this.limits);
    this.campaigns = new CampaignStore(this.runner);
    this.indexes = new PartitionIndexes(this.runner);
    this.outbox = new OutboxReader(this.runner);
  }

  /** The ledger clock: Redis TIME in epoch milliseconds. */
  now(): Promise<number> {
    return this.runner.now();
  }

  /** The same ledger seen at a clock shifted by `skewMs` more (simulations and tests). */
  withClockSkew(skewMs: number): Ledger {
    return new Ledger(this.runner.redis, {
      ...this.options,
      clockSkewMs: (this.options.clockSkewMs ?? 0) + skewMs,
      limits: this.limits,
    });
  }
}
