import type { LedgerLimits } from './settings.ts';
import { sortKeys } from './canonical.ts';
import { fieldRecord } from './canonical.ts';
import { parseInput, type ScriptRunner } from './runner.ts';
import {
  consentRecordSchema,
  profilePatchSchema,
  type ConsentRefusal,
  type Profile,
  type ProfilePatch,
} from './profile-schemas.ts';
import { storedCustomerIdSchema, type Channel, type QueuedChannel } from './schemas.ts';
import { historyEntrySchema, historyPageSchema, type HistoryEntry } from './stream-schemas.ts';

/** What erasing a customer did in the ledger. */
export interface ErasedCustomer {
  /** False when the ledger held nothing of the customer (never known, or erased before). */
  readonly erased: boolean;
  /** The offers deleted, with what names their jobs: the version and the attempts per channel. */
  readonly offers: readonly ErasedOffer[];
  /** Pushes that may be on a device and can no longer be retracted (the endpoint is gone). */
  readonly unretracted: number;
  readonly now: number;
}

export interface ErasedOffer {
  readonly offerId: string;
  readonly version: number;
  readonly attempts: Partial<Record<QueuedChannel, number>>;
}

/** What a profile change did: the fields changed, the consent changes not applied and why. */
export interface ProfileChange {
  readonly changed: string[];
  readonly kept: { channel: Channel; reason: ConsentRefusal }[];
  readonly now: number;
}

/** Customers: profiles and consent, the history of everything the ledger did, and erasure. */
export class Customers {
  constructor(
    private readonly runner: ScriptRunner,
    private readonly limits: Pick<LedgerLimits, 'historyRetentionMs'>,
  ) {}

  /**
   * Creates or updates a profile; consent changes keep their time (ledger clock) and source.
   * `byCustomer` marks the customer's own change (a one-click unsubscribe), which is final: an
   * operator's later grant of that channel is not applied and comes back in `kept`.
   * Takes ids stored by earlier versions (with `@`), so such a customer can still unsubscribe;
   * the faces refuse those ids for a new profile.
   */
  async upsertProfile(
    customerId: string,
    patch: ProfilePatch,
    options: { actor: string; source: string; byCustomer?: boolean },
  ): Promise<ProfileChange> {
    const id = parseInput(storedCustomerIdSchema, customerId);
    const { consent, attributes, sensitiveOptIns, ...plain } = parseInput(profilePatchSchema, patch);
    const set: Record<string, string> = Object.fromEntries(
      Object.entries(plain).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    if (attributes) set['attributes'] = JSON.stringify(sortKeys(attributes));
    if (sensitiveOptIns) set['sensitiveOptIns'] = JSON.stringify([...new Set(sensitiveOptIns)].sort());
    const by = options.byCustomer === true ? ('customer' as const) : ('operator' as const);
    const consentChanges = Object.fromEntries(
      Object.entries(consent ?? {})
        .filter((entry): entry is [string, boolean] => entry[1] !== undefined)
        .map(([channel, granted]) => [channel, { granted, source: options.source, by }]),
    );
    const reply = await this.runner.run('upsertProfile', id, {
      actor: options.actor,
      set,
      consent: consentChanges,
    });
    return { changed: reply.changed, kept: reply.kept, now: reply.now };
  }

  /**
   * Erases every ledger record of the customer: offers open and ended, history, profile,
   * signals, and the partition entries that name them or their offers (see eraseCustomer-16.lua).
   * Answers the offers it deleted (so their jobs can be found) and how many pushes that may be
   * on a device could no longer be taken back. Takes ids stored by earlier versions (with `@`);
   * erasing again answers `erased: false`.
   */
  async eraseCustomer(customerId: string): Promise<ErasedCustomer> {
    const id = parseInput(storedCustomerIdSchema, customerId);
    const reply = await this.runner.run('eraseCustomer', id, { customerId: id });
    return {
      erased: reply.result === 'erased',
      offers: reply.offers,
      unretracted: reply.unretracted,
      now: reply.now,
    };
  }

  /** The profile, or undefined when the customer has none. */
  async getProfile(customerId: string): Promise<Profile | undefined> {
    const { redis, keys } = this.runner;
    const raw = await this.runner.command(() => redis.hgetall(keys.customer(customerId).profile));
    if (Object.keys(raw).length === 0) return undefined;
    const consent: Profile['consent'] = {};
    for (const channel of ['email', 'push', 'web'] as const) {
      const value = raw[`consent.${channel}`];
      if (value !== undefined) consent[channel] = consentRecordSchema.parse(JSON.parse(value));
    }
    const profile: Profile = {
      customerId,
      attributes: raw['attributes'] ? (JSON.parse(raw['attributes']) as Profile['attributes']) : {},
      consent,
      sensitiveOptIns: raw['sensitiveOptIns'] ? (JSON.parse(raw['sensitiveOptIns']) as string[]) : [],
    };
    for (const field of ['email', 'pushEndpoint', 'timezone', 'locale', 'name'] as const) {
      const value = raw[field];
      if (value !== undefined) profile[field] = value;
    }
    if (raw['createdAt']) profile.createdAt = Number(raw['createdAt']);
    if (raw['updatedAt']) profile.updatedAt = Number(raw['updatedAt']);
    return profile;
  }

  /** The customer's history in ledger order. */
  async history(
    customerId: string,
    options: { count?: number; after?: string } = {},
  ): Promise<HistoryEntry[]> {
    const { redis, keys } = this.runner;
    const key = keys.customer(customerId).history;
    const start = options.after ? `(${options.after}` : '-';
    const entries = await this.runner.command(() =>
      options.count === undefined
        ? redis.xrange(key, start, '+')
        : redis.xrange(key, start, '+', 'COUNT', String(options.count)),
    );
    return entries.map(toHistoryEntry);
  }

  /**
   * One page of the customer's history, newest first: at most `limit` entries older than the
   * entry id `before` (from the newest when absent), within the retention at the ledger clock
   * (older entries not yet trimmed are never read). `next` is the `before` of the following page.
   */
  async historyPage(
    customerId: string,
    options: { limit: number; before?: string | undefined },
  ): Promise<{ entries: HistoryEntry[]; next?: string }> {
    parseInput(historyPageSchema, { limit: options.limit, before: options.before });
    const { redis, keys } = this.runner;
    const key = keys.customer(customerId).history;
    const oldest = Math.max(0, (await this.runner.now()) - this.limits.historyRetentionMs);
    const end = options.before === undefined ? '+' : `(${options.before}`;
    const raw = await this.runner.command(() =>
      redis.xrevrange(key, end, String(oldest), 'COUNT', String(options.limit + 1)),
    );
    const entries = raw.slice(0, options.limit).map(toHistoryEntry);
    const last = entries.at(-1);
    return raw.length > options.limit && last ? { entries, next: last.id } : { entries };
  }
}

function toHistoryEntry([id, fields]: [string, string[]]): HistoryEntry {
  return historyEntrySchema.parse(fieldRecord(fields, { id }));
}
