import { ConcordError } from '../errors.ts';
import type { ScriptRunner } from './runner.ts';

const OWNER_CACHE_LIMIT = 100_000;

/**
 * Which customer owns an offer id, from the partition's owners hash, remembered in memory: an
 * offer never changes owner, so a remembered answer stays true (erasure deletes the offer, and
 * a transition under the old owner then finds nothing).
 */
export class OfferOwners {
  private readonly owners = new Map<string, string>();

  constructor(private readonly runner: ScriptRunner) {}

  /** The customer that owns an offer id; throws `not_found` for an id the ledger does not hold. */
  async customerOf(offerId: string): Promise<string> {
    const cached = this.owners.get(offerId);
    if (cached !== undefined) return cached;
    const { keys, redis } = this.runner;
    const partition = keys.partitionOfOffer(offerId);
    const owner = await this.runner.command(() => redis.hget(keys.partition(partition).owners, offerId));
    if (owner === null) throw new ConcordError('not_found', `no offer ${offerId}`);
    this.remember(offerId, owner);
    return owner;
  }

  /** The customer that owns an offer id, or undefined for an id the ledger does not hold. */
  async ownerIfKnown(offerId: string): Promise<string | undefined> {
    try {
      return await this.customerOf(offerId);
    } catch (error) {
      if (error instanceof ConcordError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  /** Remembers an owner a script has just proved (the cache is bounded: it starts over when full). */
  remember(offerId: string, customerId: string): void {
    if (this.owners.size >= OWNER_CACHE_LIMIT) this.owners.clear();
    this.owners.set(offerId, customerId);
  }
}
