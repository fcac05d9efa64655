import type { ScriptRunner } from './runner.ts';
import type { Channel } from './schemas.ts';

/** A delivery named by the partition indexes (unknown outcomes, leases). */
export interface DeliveryRef {
  readonly customerId: string;
  readonly offerId: string;
  readonly channel: Channel;
  readonly at: number;
}

/** A time-driven transition that is due: an offer to activate or to expire. */
export interface DueTransition {
  readonly kind: 'activate' | 'expire';
  readonly offerId: string;
  readonly at: number;
}

/**
 * The partitions' indexes, read by the sweeper, the reactions and support: deliveries whose
 * outcome is unknown, leases that ran out, transitions that are due, open offers by SKU and by
 * campaign. The scripts keep them; this only reads.
 */
export class PartitionIndexes {
  constructor(private readonly runner: ScriptRunner) {}

  /** Deliveries whose outcome is unknown, across every partition, oldest first. */
  async unknownDeliveries(limit = 1000): Promise<DeliveryRef[]> {
    const found: DeliveryRef[] = [];
    for (let partition = 0; partition < this.runner.keys.partitions; partition++) {
      const key = this.runner.keys.partition(partition).unknown;
      const members = await this.runner.command(() =>
        this.runner.redis.zrangebyscore(key, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, limit),
      );
      found.push(...parseRefs(members));
    }
    return found.sort((a, b) => a.at - b.at).slice(0, limit);
  }

  /** Leases of one partition that ran out by the ledger clock (now, or `at` when given). */
  async expiredLeases(partition: number, limit = 500, at?: number): Promise<DeliveryRef[]> {
    return parseRefs(await this.dueBy(this.runner.keys.partition(partition).leases, limit, at));
  }

  /** Time-driven transitions of one partition that are due by the ledger clock (now, or `at`). */
  async dueTransitions(partition: number, limit = 500, at?: number): Promise<DueTransition[]> {
    const members = await this.dueBy(this.runner.keys.partition(partition).due, limit, at);
    const due: DueTransition[] = [];
    for (let i = 0; i + 1 < members.length; i += 2) {
      const parts = (members[i] ?? '').split('|');
      const [kind, offerId] = [parts[0], parts.at(-1)];
      if ((kind === 'activate' || kind === 'expire') && offerId) {
        due.push({ kind, offerId, at: Number(members[i + 1]) });
      }
    }
    return due;
  }

  /** Open offers of one partition for a SKU. */
  async offersForSku(partition: number, sku: string): Promise<{ offerId: string }[]> {
    return this.indexed(this.runner.keys.partition(partition).bySku, sku);
  }

  /** Open offers of a campaign in one partition (a campaign cancel walks the partitions). */
  async offersForCampaign(partition: number, campaignId: string): Promise<{ offerId: string }[]> {
    return this.indexed(this.runner.keys.partition(partition).byCampaign, campaignId);
  }

  /** Members of a sorted set scored at or before the ledger clock (now, or `at`), with their scores. */
  private async dueBy(key: string, limit: number, at: number | undefined): Promise<string[]> {
    const now = at ?? (await this.runner.now());
    return this.runner.command(() =>
      this.runner.redis.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit),
    );
  }

  /** The offer ids of a lexicographic index's members `<value>|<offerId>`. */
  private async indexed(key: string, value: string): Promise<{ offerId: string }[]> {
    const members = await this.runner.command(() =>
      this.runner.redis.zrangebylex(key, `[${value}|`, `[${value}|\xff`),
    );
    return members.flatMap((member) => {
      const offerId = member.slice(member.lastIndexOf('|') + 1);
      return offerId ? [{ offerId }] : [];
    });
  }
}

function parseRefs(members: string[]): DeliveryRef[] {
  const refs: DeliveryRef[] = [];
  for (let i = 0; i + 1 < members.length; i += 2) {
    const [customerId, offerId, channel] = (members[i] ?? '').split('|');
    if (customerId && offerId && (channel === 'email' || channel === 'push' || channel === 'web')) {
      refs.push({ customerId, offerId, channel, at: Number(members[i + 1]) });
    }
  }
  return refs;
}
