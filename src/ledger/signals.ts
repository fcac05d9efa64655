import { throwIfScriptError } from './errors.ts';
import { stockStateSchema } from './replies.ts';
import type { ScriptRunner } from './runner.ts';
import type { LedgerLimits } from './settings.ts';
import type { ConsentRefusal } from './profile-schemas.ts';
import type { CustomerEvent, StockEvent } from './stream-schemas.ts';

/** What recording a customer's event did. */
export interface RecordedEvent {
  readonly duplicate: boolean;
  /** Offers the event ended (a purchase or return of their SKU). */
  readonly cancelled: string[];
  /** For a consent event: whether it changed consent, or why not. */
  readonly consent?: 'applied' | 'unchanged' | ConsentRefusal | undefined;
  readonly now: number;
}

/** A SKU's stock state, with the time it is true as of. */
export interface StockState {
  readonly inStock: boolean;
  readonly quantity?: number | undefined;
  readonly at: number;
}

/**
 * Signals from outside: customers' events (with the reactions they trigger in the same step),
 * stock per SKU, and each feed's watermark. Each event is recorded once by its id.
 */
export class Signals {
  constructor(
    private readonly runner: ScriptRunner,
    private readonly limits: Pick<LedgerLimits, 'eventMaxAheadMs' | 'eventDedupeTtlMs'>,
  ) {}

  /**
   * Records a customer's event once (by `eventId`, within the dedupe TTL) and applies its reactions in the same step:
   * a purchase or return of a SKU ends the customer's open offers for it; consent sets consent.
   */
  async recordEvent(event: CustomerEvent): Promise<RecordedEvent> {
    const reply = await this.runner.run('recordEvent', event.customerId, {
      event,
      maxAheadMs: this.limits.eventMaxAheadMs,
      dedupeMs: this.limits.eventDedupeTtlMs,
    });
    throwIfScriptError(reply);
    return {
      duplicate: reply.result === 'duplicate',
      cancelled: reply.cancelled,
      consent: reply.consent,
      now: reply.now,
    };
  }

  /** Records a stock event once (by `eventId`, within the dedupe TTL); `changed` says whether the SKU's stock state flipped. */
  async recordStock(event: StockEvent): Promise<{ duplicate: boolean; changed: boolean; now: number }> {
    const reply = await this.runner.run('recordStock', undefined, {
      event,
      maxAheadMs: this.limits.eventMaxAheadMs,
      dedupeMs: this.limits.eventDedupeTtlMs,
    });
    throwIfScriptError(reply);
    return { duplicate: reply.result === 'duplicate', changed: reply.changed, now: reply.now };
  }

  /** The SKU's latest stock state, with the time it is true as of. */
  async stockOf(sku: string): Promise<StockState | undefined> {
    const { redis, keys } = this.runner;
    const raw = await this.runner.command(() => redis.hget(keys.global().stock, sku));
    if (raw === null) return undefined;
    return stockStateSchema.parse(JSON.parse(raw));
  }

  /** Moves a feed's watermark forward (never back); answers the watermark now. */
  async advanceWatermark(source: string, at: number): Promise<number> {
    const reply = await this.runner.run('advanceWatermark', undefined, {
      source,
      at,
      maxAheadMs: this.limits.eventMaxAheadMs,
    });
    throwIfScriptError(reply);
    return reply.watermark;
  }

  /** Every feed's watermark (epoch ms of the latest event seen from it). */
  async watermarks(): Promise<Record<string, number>> {
    const { redis, keys } = this.runner;
    const raw = await this.runner.command(() => redis.hgetall(keys.global().watermarks));
    return Object.fromEntries(Object.entries(raw).map(([source, at]) => [source, Number(at)]));
  }
}
