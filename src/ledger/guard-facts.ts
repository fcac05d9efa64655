import type { z } from 'zod';
import type { ScriptRunner } from './runner.ts';
import type { Signals } from './signals.ts';
import type { stockFactSchema, zoneFactSchema } from './script-table.ts';
import { zoneOffsets } from './zones.ts';

export type StockFact = z.input<typeof stockFactSchema>;
export type ZoneFact = z.input<typeof zoneFactSchema>;

/**
 * The facts the guardrails need from outside a customer's partition, read just before a script
 * and handed to it with their times, so the script compares them with the ledger clock: a SKU's
 * latest stock event (deployment-wide, under its own hash tag) and the customer's time zone with
 * its UTC offsets (the script has no time-zone database).
 */
export class GuardFacts {
  constructor(
    private readonly runner: ScriptRunner,
    private readonly signals: Pick<Signals, 'stockOf'>,
  ) {}

  /** The SKU's latest stock event, or `latest: null` when it has none. */
  async stock(sku: string): Promise<StockFact> {
    const state = await this.signals.stockOf(sku);
    return { sku, latest: state === undefined ? null : { inStock: state.inStock, at: state.at } };
  }

  /** The customer's time zone as the profile holds it now, with its offsets around the ledger clock. */
  async zone(customerId: string): Promise<ZoneFact> {
    const { redis, keys } = this.runner;
    const timezone = await this.runner.command(() =>
      redis.hget(keys.customer(customerId).profile, 'timezone'),
    );
    return this.zoneOf(timezone);
  }

  /**
   * A time zone's offsets around the ledger clock (this process's clock, shifted as the ledger's
   * is; the steps cover a day before and two after, far more than any drift). A zone this runtime
   * does not know gives no steps, and the claim holds rather than guess the customer's hour.
   */
  zoneOf(timezone: string | null): ZoneFact {
    if (timezone === null) return { timezone: null, offsets: [] };
    try {
      return { timezone, offsets: zoneOffsets(timezone, Date.now() + this.runner.options.clockSkewMs) };
    } catch {
      return { timezone, offsets: [] };
    }
  }
}
