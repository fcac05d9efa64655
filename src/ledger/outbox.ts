import { fieldRecord } from './canonical.ts';
import type { ScriptRunner } from './runner.ts';
import { outboxEntrySchema, type OutboxEntry } from './stream-schemas.ts';

/**
 * The partitions' outboxes as the relay reads them: one consumer group per relay deployment,
 * entries read, taken over from a dead consumer, and acknowledged (then deleted). Only the
 * relay is handed this; everything else writes effects through the ledger's transitions.
 */
export class OutboxReader {
  constructor(private readonly runner: ScriptRunner) {}

  /** Creates the relay's consumer group on every partition's outbox (idempotent). */
  async ensureGroup(group: string): Promise<void> {
    for (let partition = 0; partition < this.runner.keys.partitions; partition++) {
      await this.runner.run('ensureOutboxGroup', partition, { group });
    }
  }

  /**
   * Removes consumers of the group that hold no pending entries and were idle for `idleMs`
   * (relays that were stopped or died and whose entries were taken over); answers how many.
   */
  async pruneConsumers(group: string, idleMs: number): Promise<number> {
    let removed = 0;
    for (let partition = 0; partition < this.runner.keys.partitions; partition++) {
      removed += (await this.runner.run('pruneOutboxConsumers', partition, { group, idleMs })).removed;
    }
    return removed;
  }

  /**
   * New effects of one partition for a consumer of the group (read, not yet acknowledged). The
   * read is the consumer group's own command: it only records which consumer holds the entry.
   */
  async read(
    partition: number,
    group: string,
    consumer: string,
    count: number,
    options: { ownPending?: boolean } = {},
  ): Promise<OutboxEntry[]> {
    const key = this.runner.keys.partition(partition).outbox;
    // `0` re-reads what this consumer read but did not acknowledge; `>` reads new entries.
    const from = options.ownPending ? '0' : '>';
    const reply = (await this.runner.command(() =>
      this.runner.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, from),
    )) as [string, [string, string[]][]][] | null;
    return parseOutbox(reply?.[0]?.[1] ?? []);
  }

  /** Effects another consumer read but did not acknowledge within `minIdleMs` (it died), taken over. */
  async claimStale(
    partition: number,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<OutboxEntry[]> {
    const key = this.runner.keys.partition(partition).outbox;
    const reply = (await this.runner.command(() =>
      this.runner.redis.xautoclaim(key, group, consumer, minIdleMs, '0-0', 'COUNT', count),
    )) as [string, [string, string[] | null][]];
    return parseOutbox(reply[1].filter((entry): entry is [string, string[]] => entry[1] !== null));
  }

  /** Acknowledges handled effects and removes them from the outbox. */
  async ack(partition: number, group: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.runner.run('ackOutbox', partition, { group, ids: [...ids] });
  }

  /** How many effects wait in every outbox (for metrics and tests). */
  async length(): Promise<number> {
    let total = 0;
    for (let partition = 0; partition < this.runner.keys.partitions; partition++) {
      const key = this.runner.keys.partition(partition).outbox;
      total += await this.runner.command(() => this.runner.redis.xlen(key));
    }
    return total;
  }
}

/** Outbox entries; one this version cannot read (a newer writer's kind) comes back as `unreadable`. */
function parseOutbox(entries: [string, string[]][]): OutboxEntry[] {
  return entries.map(([id, fields]) => {
    const record = fieldRecord(fields, { id });
    const parsed = outboxEntrySchema.safeParse({
      ...record,
      offerId: record['offer'],
      customerId: record['customer'],
    });
    return parsed.success ? parsed.data : { kind: 'unreadable', id, fields: record };
  });
}
