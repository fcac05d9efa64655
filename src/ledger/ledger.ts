import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import { ConcordError, invalidInput } from '../errors.ts';
import { throwIfScriptError, toLedgerError } from './errors.ts';
import { LedgerKeys } from './keys.ts';
import {
  claimReplySchema,
  consentRecordSchema,
  deliveryReplySchema,
  historyEntrySchema,
  issueOfferInputSchema,
  issueReplySchema,
  liveReplySchema,
  offersReplySchema,
  offerReplySchema,
  outboxEntrySchema,
  profilePatchSchema,
  profileReplySchema,
  retractionStartSchema,
  type Channel,
  type ClaimAnswer,
  type DeliveryReply,
  type HistoryEntry,
  type IssueOfferInput,
  type OfferRecord,
  type OutboxEntry,
  type Profile,
  type RetractionStart,
  type CustomerEvent,
  type StockEvent,
  luaList,
  scriptErrorSchema,
  consentRefusalSchema,
  type ConsentRefusal,
  type ProfilePatch,
  type QueuedChannel,
  type SlotPolicy,
  campaignIdSchema,
  campaignReplySchema,
  type CampaignAction,
  type CampaignReply,
  historyPageSchema,
  QUEUED_CHANNELS,
  storedCustomerIdSchema,
} from './schemas.ts';
import { DEFAULT_LEDGER_LIMITS, type LedgerLimits } from './settings.ts';
import { defineScripts, loadScripts, runScript, type LedgerScript } from './scripts.ts';
import { decodeLiveDocument, liveOfferAt, type LiveOfferChoice } from './live-document.ts';

/** Whether a channel's provider deduplicates a resend (so a lost lease may be claimed again). */
export const CHANNEL_DEDUPES: Readonly<Record<QueuedChannel, boolean>> = { email: false, push: true };

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

/** What issuing an offer did. */
export interface IssueResult {
  readonly offer: OfferRecord;
  /** Offers that lost their slot to this one. */
  readonly superseded: readonly string[];
  /** True when the same idempotency key or offer id had already been issued: nothing changed. */
  readonly duplicate: boolean;
  readonly now: number;
}

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

/** What ending or settling an offer did. */
export interface OfferResult {
  readonly offer: OfferRecord;
  readonly changed: boolean;
  readonly superseded: readonly string[];
  readonly now: number;
}

/** Facts read outside the partition before a claim, each with the time it is true as of. */
export interface ClaimGuards {
  /** End of the customer's quiet hours, if they are on now (epoch ms). */
  readonly quietUntil?: number;
  /** Event feeds the decision depends on: the feed's watermark must have reached `needed`. */
  readonly watermarks?: readonly { feed: string; at: number; needed: number }[];
  /** Data the decision used, which must be no older than `maxAge` ms at the ledger clock. */
  readonly facts?: readonly { name: string; asOf: number; maxAge: number }[];
  readonly stock?: { sku: string; inStock: boolean; asOf: number; maxAge: number };
}

export interface ClaimRequest {
  readonly offerId: string;
  readonly channel: QueuedChannel;
  /** How long the claimer may take to send and confirm. */
  readonly leaseMs: number;
  /** Identifies this claim attempt, so a resent claim gets the same answer. */
  readonly claimId?: string;
  readonly minRemainingMs?: number;
  /** When to ask again for a transient reason that has no time of its own. */
  readonly waitRetryMs?: number;
  readonly guards?: ClaimGuards;
  readonly actor?: string;
  /**
   * The offer's customer, as the job that asks names it: spares the owner lookup. Only a hint:
   * when the offer is not found under it, the owner is looked up and the claim asked again.
   */
  readonly customerId?: string;
}

export type ConfirmOutcome =
  | { readonly outcome: 'sent'; readonly providerRef?: string }
  | { readonly outcome: 'failed'; readonly reason: string; readonly providerRef?: string }
  | { readonly outcome: 'retry'; readonly reason: string; readonly retryAt?: number }
  | { readonly outcome: 'unknown'; readonly reason: string };

export type ConfirmRequest = ConfirmOutcome & {
  readonly offerId: string;
  readonly channel: QueuedChannel;
  readonly token: number;
  readonly actor?: string;
};

/** A delivery named by the partition indexes (unknown outcomes, leases). */
export interface DeliveryRef {
  readonly customerId: string;
  readonly offerId: string;
  readonly channel: Channel;
  readonly at: number;
}

const OWNER_CACHE_LIMIT = 100_000;
const durationMs = z
  .number()
  .int()
  .positive()
  .max(30 * 24 * 3_600_000);
const durationOrZeroMs = durationMs.or(z.literal(0));
// Replies of the scripts with small answers. Every schema here is built once: zod compiles a
// parser on a schema's first use, so a schema built per call is compiled per call.
const eraseReplySchema = z.object({
  result: z.enum(['erased', 'unchanged']),
  offers: luaList(
    z.object({
      offerId: z.string(),
      version: z.number(),
      attempts: z.preprocess(
        (value) => (Array.isArray(value) && value.length === 0 ? {} : value),
        z.partialRecord(z.enum(QUEUED_CHANNELS), z.number()),
      ),
    }),
  ),
  unretracted: z.number(),
  now: z.number(),
});
const campaignEraseReplySchema = z.object({
  result: z.enum(['ok', 'changed', 'not_found']),
  replaced: z.boolean(),
  outcomes: z.number(),
});
const eventReplySchema = z.union([
  z.object({
    result: z.enum(['stored', 'duplicate']),
    cancelled: luaList(z.string()),
    consent: z.enum(['applied', 'unchanged']).or(consentRefusalSchema).optional(),
    now: z.number(),
  }),
  scriptErrorSchema,
]);
const stockReplySchema = z.union([
  z.object({
    result: z.enum(['stored', 'duplicate']),
    changed: z.boolean(),
    now: z.number(),
  }),
  scriptErrorSchema,
]);
const stockStateSchema = z.object({ inStock: z.boolean(), quantity: z.number().optional(), at: z.number() });
const watermarkReplySchema = z.union([
  z.object({ watermark: z.number(), now: z.number() }),
  scriptErrorSchema,
]);

/**
 * The offer ledger: the one truth about which offer is live for a customer and slot, and the
 * only code that writes ledger keys. Every transition is one atomic Lua script that decides on
 * the Redis clock; every reply is parsed with zod.
 */
export class Ledger {
  readonly keys: LedgerKeys;
  private readonly scripts: ReadonlyMap<string, LedgerScript>;
  private readonly slotPolicies: Readonly<Record<string, SlotPolicy>>;
  private readonly skew: number;
  /** The deployment's bounds (history retention, open offers, event dates and dedupe). */
  readonly limits: LedgerLimits;
  private readonly onScript: ((script: string, seconds: number, ok: boolean) => void) | undefined;
  private readonly owners = new Map<string, string>();
  private readonly nextUlid = monotonicFactory();

  constructor(
    private readonly redis: Redis,
    options: LedgerOptions,
  ) {
    this.keys = new LedgerKeys(options);
    this.scripts = loadScripts();
    this.slotPolicies = options.slotPolicies ?? {};
    this.skew = options.clockSkewMs ?? 0;
    this.limits = { ...DEFAULT_LEDGER_LIMITS, ...options.limits };
    this.onScript = options.onScript;
    defineScripts(redis, this.scripts);
  }

  /** The same ledger seen at a clock shifted by `skewMs` more (simulations and tests). */
  withClockSkew(skewMs: number): Ledger {
    return new Ledger(this.redis, {
      prefix: this.keys.prefix,
      partitions: this.keys.partitions,
      slotPolicies: this.slotPolicies,
      clockSkewMs: this.skew + skewMs,
      limits: this.limits,
      ...(this.onScript === undefined ? {} : { onScript: this.onScript }),
    });
  }

  /** The policy a slot uses when an offer names none. */
  policyFor(slot: string): SlotPolicy {
    return (Object.hasOwn(this.slotPolicies, slot) ? this.slotPolicies[slot] : undefined) ?? 'replace';
  }

  /** The ledger clock: Redis TIME in epoch milliseconds. */
  async now(): Promise<number> {
    try {
      const [seconds, micros] = await this.redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + this.skew;
    } catch (error) {
      throw toLedgerError(error);
    }
  }

  /**
   * Issues an offer and settles its slot in the same step. Throws `conflict` when the slot's
   * policy is `reject` and a contradicting offer is live, or when the idempotency key was used
   * for a different offer; `open_offer_limit` when the customer holds the most open offers
   * allowed; `invalid_input` for a bad offer or a validity that already ended.
   */
  async issue(input: IssueOfferInput, actor: string): Promise<IssueResult> {
    const parsed = parseInput(issueOfferInputSchema, input);
    const { idempotencyKey, ...offer } = parsed;
    const policy =
      offer.policy ??
      (Object.hasOwn(this.slotPolicies, offer.slot) ? this.slotPolicies[offer.slot] : undefined) ??
      'replace';
    const request = {
      actor,
      offer: { ...offer, policy, offerId: this.keys.offerIdFor(offer.customerId, this.nextUlid()) },
      idempotencyKey,
      maxOpenOffers: this.limits.maxOpenOffers,
      // The validity window is left out: a retry of "valid for 7 days" computes a new window, and
      // it is still the same request.
      fingerprint: fingerprint({
        ...offer,
        policy,
        validFrom: undefined,
        validUntil: undefined,
        holdDeadline: undefined,
      }),
    };
    const reply = await this.run(
      'issueOffer',
      this.keys.transitionKeys(offer.customerId),
      request,
      issueReplySchema,
    );
    throwIfScriptError(reply);
    if (reply.result === 'rejected') {
      throw new ConcordError(
        'conflict',
        `slot ${offer.slot} already has a live offer (${reply.conflicting.join(', ')})`,
        {
          details: { conflicting: reply.conflicting, ledgerNow: reply.now },
        },
      );
    }
    return {
      offer: reply.offer,
      superseded: reply.superseded,
      duplicate: reply.result === 'duplicate',
      now: reply.now,
    };
  }

  /** Cancels an open offer on every channel; cancelling a cancelled offer again changes nothing. */
  cancel(
    offerId: string,
    options: { reason: string; actor: string; expectedVersion?: number | undefined },
  ): Promise<OfferResult> {
    return this.offerTransition('cancelOffer', offerId, options);
  }

  /** Marks an active offer redeemed; it ends on every channel. */
  redeem(
    offerId: string,
    options: { actor: string; reason?: string | undefined; expectedVersion?: number | undefined },
  ): Promise<OfferResult> {
    return this.offerTransition('redeemOffer', offerId, options);
  }

  /** Activates the offer if its validFrom has come and its slot allows it (idempotent). */
  activate(offerId: string): Promise<OfferResult> {
    return this.offerTransition('activateOffer', offerId, { actor: 'ledger' });
  }

  /** Expires the offer if its validUntil has passed (idempotent; a no-op before). */
  expire(offerId: string): Promise<OfferResult> {
    return this.offerTransition('expireOffer', offerId, { actor: 'ledger' });
  }

  /**
   * Asks whether a delivery may be sent now: GO with a lease, a fencing token and the offer as the
   * ledger holds it; SKIP with a permanent reason; HOLD with a reason and when to ask again.
   */
  async claim(request: ClaimRequest): Promise<ClaimAnswer> {
    const leaseMs = parseInput(durationMs, request.leaseMs);
    const waitRetryMs = parseInput(durationMs, request.waitRetryMs ?? 30_000);
    const minRemainingMs = parseInput(durationOrZeroMs, request.minRemainingMs ?? 0);
    const payload = {
      actor: request.actor ?? 'worker',
      offerId: request.offerId,
      channel: request.channel,
      claimId: request.claimId ?? randomUUID(),
      leaseMs,
      dedupe: CHANNEL_DEDUPES[request.channel],
      minRemainingMs,
      waitRetryMs,
      guards: request.guards,
    };
    const hint = request.customerId;
    if (hint !== undefined && this.keys.partitionOf(hint) === this.keys.partitionOfOffer(request.offerId)) {
      const answer = await this.run(
        'claimDelivery',
        this.keys.transitionKeys(hint),
        payload,
        claimReplySchema,
      );
      // Found under the hinted customer (offer ids are unique), so it is the owner; a claim that
      // found nothing wrote nothing, and is asked again of the real owner.
      if (answer.answer !== 'skip' || answer.reason !== 'unknown_offer') {
        this.rememberOwner(request.offerId, hint);
        return answer;
      }
    }
    const customerId = await this.ownerIfKnown(request.offerId);
    if (customerId === undefined) return { answer: 'skip', reason: 'unknown_offer', now: await this.now() };
    return this.run('claimDelivery', this.keys.transitionKeys(customerId), payload, claimReplySchema);
  }

  /** Records the outcome of a claimed send; only the current token is accepted. */
  async confirm(request: ConfirmRequest): Promise<DeliveryReply> {
    const { actor, ...rest } = request;
    return this.deliveryTransition('confirmDelivery', request.offerId, { ...rest, actor: actor ?? 'worker' });
  }

  /** Gives a claimed delivery back without sending, to be claimed again at `retryAt`. */
  hold(request: {
    offerId: string;
    channel: QueuedChannel;
    token: number;
    reason: string;
    retryAt: number;
    actor?: string;
  }): Promise<DeliveryReply> {
    return this.deliveryTransition('holdDelivery', request.offerId, {
      ...request,
      actor: request.actor ?? 'worker',
    });
  }

  /** Ends a lease that ran out: retryable where the provider deduplicates, else `unknown`. */
  expireLease(offerId: string, channel: QueuedChannel): Promise<DeliveryReply> {
    return this.deliveryTransition('expireLease', offerId, {
      offerId,
      channel,
      dedupe: CHANNEL_DEDUPES[channel],
    });
  }

  /** Support's answer for a delivery whose outcome is unknown: it was sent, or send it again. */
  resolveDelivery(
    offerId: string,
    channel: QueuedChannel,
    options: { as: 'sent' | 'resend'; actor: string; reason?: string },
  ): Promise<DeliveryReply> {
    return this.deliveryTransition('resolveDelivery', offerId, { offerId, channel, ...options });
  }

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
  ): Promise<{ changed: string[]; kept: { channel: Channel; reason: ConsentRefusal }[]; now: number }> {
    const id = parseInput(storedCustomerIdSchema, customerId);
    const { consent, attributes, sensitiveOptIns, ...plain } = parseInput(profilePatchSchema, patch);
    const set: Record<string, string> = Object.fromEntries(
      Object.entries(plain).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    if (attributes) set['attributes'] = JSON.stringify(sortKeys(attributes));
    if (sensitiveOptIns) set['sensitiveOptIns'] = JSON.stringify([...new Set(sensitiveOptIns)].sort());
    const consentChanges = Object.fromEntries(
      Object.entries(consent ?? {})
        .filter((entry): entry is [string, boolean] => entry[1] !== undefined)
        .map(([channel, granted]) => [
          channel,
          { granted, source: options.source, by: options.byCustomer === true ? 'customer' : 'operator' },
        ]),
    );
    const keys = this.keys.customer(id);
    const reply = await this.run(
      'upsertProfile',
      [keys.profile, keys.history],
      { actor: options.actor, set, consent: consentChanges },
      profileReplySchema,
    );
    return { changed: reply.changed, kept: reply.kept, now: reply.now };
  }

  /**
   * Erases every ledger record of the customer: offers open and ended, history, profile,
   * signals, and the partition entries that name them or their offers (see eraseCustomer-15.lua).
   * Answers the offers it deleted (so their jobs can be found) and how many pushes that may be
   * on a device could no longer be taken back. Takes ids stored by earlier versions (with `@`);
   * erasing again answers `erased: false`.
   */
  async eraseCustomer(customerId: string): Promise<ErasedCustomer> {
    const id = parseInput(storedCustomerIdSchema, customerId);
    const reply = await this.run(
      'eraseCustomer',
      this.keys.erasureKeys(id),
      { customerId: id },
      eraseReplySchema,
    );
    return {
      erased: reply.result === 'erased',
      offers: reply.offers,
      unretracted: reply.unretracted,
      now: reply.now,
    };
  }

  /** The profile, or undefined when the customer has none. */
  async getProfile(customerId: string): Promise<Profile | undefined> {
    const raw = await this.read(() => this.redis.hgetall(this.keys.customer(customerId).profile));
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

  /**
   * The offer the customer's banner shows for a slot right now, or undefined: only an active offer
   * for the web channel, inside its validity at the ledger clock, with web consent.
   */
  async currentOffer(
    customerId: string,
    slot: string,
    options: { minRemainingMs?: number } = {},
  ): Promise<z.infer<typeof liveReplySchema>> {
    const keys = this.keys.customer(customerId);
    const raw = await this.call('readLiveDocument', [keys.live, keys.profile], undefined, { buffers: true });
    const [seconds, micros, live, webConsent] = parseReply('readLiveDocument', liveDocumentReplySchema, raw);
    let choice: LiveOfferChoice;
    try {
      choice = liveOfferAt({
        live: decodeLiveDocument(live),
        webConsent: webConsent === null ? null : webConsent.toString('utf8'),
        slot,
        now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + this.skew,
        minRemainingMs: options.minRemainingMs ?? 0,
      });
    } catch (error) {
      throw new ConcordError('internal', 'malformed live document from ledger script readLiveDocument', {
        cause: error,
      });
    }
    return parseReply('readLiveDocument', liveReplySchema, choice);
  }

  /** One offer with its deliveries, or undefined. */
  async getOffer(offerId: string): Promise<OfferRecord | undefined> {
    const customerId = await this.ownerIfKnown(offerId);
    if (customerId === undefined) return undefined;
    return (await this.readOffers(customerId, { offerId }))[0];
  }

  /** Every offer the customer was issued, oldest first (reads them all: not for public pages). */
  async customerOffers(customerId: string): Promise<OfferRecord[]> {
    return (await this.readOffers(customerId)).sort(
      (a, b) => a.createdAt - b.createdAt || a.offerId.localeCompare(b.offerId),
    );
  }

  /**
   * The customer's open offers (active or pending, at most the open-offer cap), and those of
   * `endedIds` that ended, oldest first: reads the live document and the named offers only.
   */
  async openOffers(customerId: string, endedIds: readonly string[] = []): Promise<OfferRecord[]> {
    const offers = await this.readOffers(customerId, { open: true, offerIds: [...new Set(endedIds)] });
    return offers.sort((a, b) => a.createdAt - b.createdAt || a.offerId.localeCompare(b.offerId));
  }

  /** The customer's offers, or some of them, decoded by the ledger's own script. */
  private async readOffers(
    customerId: string,
    which?: { offerId: string } | { open: true; offerIds: string[] },
  ): Promise<OfferRecord[]> {
    const keys = this.keys.customer(customerId);
    const reply = await this.run('readOffers', [keys.offers, keys.live], which ?? {}, offersReplySchema);
    return reply.offers;
  }

  /** The customer's history in ledger order. */
  async history(
    customerId: string,
    options: { count?: number; after?: string } = {},
  ): Promise<HistoryEntry[]> {
    const key = this.keys.customer(customerId).history;
    const start = options.after ? `(${options.after}` : '-';
    const entries = await this.read(() =>
      options.count === undefined
        ? this.redis.xrange(key, start, '+')
        : this.redis.xrange(key, start, '+', 'COUNT', String(options.count)),
    );
    return entries.map(([id, fields]) => {
      const record: Record<string, string> = { id };
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] ?? ''] = fields[i + 1] ?? '';
      return historyEntrySchema.parse(record);
    });
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
    const key = this.keys.customer(customerId).history;
    const oldest = Math.max(0, (await this.now()) - this.limits.historyRetentionMs);
    const end = options.before === undefined ? '+' : `(${options.before}`;
    const raw = await this.read(() =>
      this.redis.xrevrange(key, end, String(oldest), 'COUNT', String(options.limit + 1)),
    );
    const entries = raw.slice(0, options.limit).map(([id, fields]) => {
      const record: Record<string, string> = { id };
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] ?? ''] = fields[i + 1] ?? '';
      return historyEntrySchema.parse(record);
    });
    const last = entries.at(-1);
    return raw.length > options.limit && last ? { entries, next: last.id } : { entries };
  }

  /** Deliveries whose outcome is unknown, across every partition, oldest first. */
  async unknownDeliveries(limit = 1000): Promise<DeliveryRef[]> {
    const found: DeliveryRef[] = [];
    for (let partition = 0; partition < this.keys.partitions; partition++) {
      const key = this.keys.partition(partition).unknown;
      const members = await this.read(() =>
        this.redis.zrangebyscore(key, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, limit),
      );
      found.push(...parseRefs(members));
    }
    return found.sort((a, b) => a.at - b.at).slice(0, limit);
  }

  /** Leases of one partition that ran out by the ledger clock (now, or `at` when given). */
  async expiredLeases(partition: number, limit = 500, at?: number): Promise<DeliveryRef[]> {
    const now = at ?? (await this.now());
    const key = this.keys.partition(partition).leases;
    const members = await this.read(() =>
      this.redis.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit),
    );
    return parseRefs(members);
  }

  /** Time-driven transitions of one partition that are due by the ledger clock (now, or `at`). */
  async dueTransitions(
    partition: number,
    limit = 500,
    at?: number,
  ): Promise<{ kind: 'activate' | 'expire'; offerId: string; at: number }[]> {
    const now = at ?? (await this.now());
    const key = this.keys.partition(partition).due;
    const members = await this.read(() =>
      this.redis.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit),
    );
    const due: { kind: 'activate' | 'expire'; offerId: string; at: number }[] = [];
    for (let i = 0; i + 1 < members.length; i += 2) {
      const parts = (members[i] ?? '').split('|');
      const [kind, offerId] = [parts[0], parts.at(-1)];
      if ((kind === 'activate' || kind === 'expire') && offerId) {
        due.push({ kind, offerId, at: Number(members[i + 1]) });
      }
    }
    return due;
  }

  /**
   * Starts a push retraction that is due: answers `go` with what to send (the offer as it ended
   * and its recipient), and until it is confirmed, or `leaseMs` passes, a newer offer's push in
   * the same slot holds. Answers `replaced` when a newer offer's push is already sent or being
   * sent under the same collapse key (the retraction is then recorded done).
   */
  async beginRetraction(
    offerId: string,
    channel: QueuedChannel,
    options: { leaseMs?: number; actor?: string } = {},
  ): Promise<RetractionStart> {
    const leaseMs = parseInput(durationMs, options.leaseMs ?? 30_000);
    const customerId = await this.ownerIfKnown(offerId);
    if (customerId === undefined) return { answer: 'not_due', now: await this.now() };
    const payload = { offerId, channel, leaseMs, actor: options.actor ?? 'worker' };
    return this.run('beginRetraction', this.keys.transitionKeys(customerId), payload, retractionStartSchema);
  }

  /**
   * Records how a begun retraction went: reached the provider (`done`), refused for good
   * (`failed`), or refused for now (`retry`: still due, and no longer holding newer pushes).
   */
  confirmRetraction(
    offerId: string,
    channel: QueuedChannel,
    options: { outcome: 'done' | 'failed' | 'retry'; reason?: string; actor?: string },
  ): Promise<DeliveryReply> {
    return this.deliveryTransition('confirmRetraction', offerId, {
      offerId,
      channel,
      outcome: options.outcome,
      reason: options.reason,
      actor: options.actor ?? 'worker',
    });
  }

  /** Creates the relay's consumer group on every partition's outbox (idempotent). */
  async ensureOutboxGroup(group: string): Promise<void> {
    for (let partition = 0; partition < this.keys.partitions; partition++) {
      try {
        await this.redis.xgroup('CREATE', this.keys.partition(partition).outbox, group, '0', 'MKSTREAM');
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw toLedgerError(error);
      }
    }
  }

  /**
   * Removes consumers of the group that hold no pending entries and were idle for `idleMs`
   * (relays that were stopped or died and whose entries were taken over); answers how many.
   */
  async pruneOutboxConsumers(group: string, idleMs: number): Promise<number> {
    let removed = 0;
    for (let partition = 0; partition < this.keys.partitions; partition++) {
      const key = this.keys.partition(partition).outbox;
      const consumers = (await this.read(() => this.redis.xinfo('CONSUMERS', key, group))) as unknown[][];
      for (const fields of consumers) {
        const info: Record<string, unknown> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) info[String(fields[i])] = fields[i + 1];
        if (
          Number(info['pending']) === 0 &&
          Number(info['idle']) >= idleMs &&
          typeof info['name'] === 'string'
        ) {
          const name = info['name'];
          await this.read(() => this.redis.xgroup('DELCONSUMER', key, group, name));
          removed++;
        }
      }
    }
    return removed;
  }

  /** New effects of one partition for a consumer of the group (read, not yet acknowledged). */
  async readOutbox(
    partition: number,
    group: string,
    consumer: string,
    count: number,
    options: { ownPending?: boolean } = {},
  ): Promise<OutboxEntry[]> {
    const key = this.keys.partition(partition).outbox;
    // `0` re-reads what this consumer read but did not acknowledge; `>` reads new entries.
    const from = options.ownPending ? '0' : '>';
    const reply = (await this.read(() =>
      this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, from),
    )) as [string, [string, string[]][]][] | null;
    return parseOutbox(reply?.[0]?.[1] ?? []);
  }

  /** Effects another consumer read but did not acknowledge within `minIdleMs` (it died), taken over. */
  async claimStaleOutbox(
    partition: number,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<OutboxEntry[]> {
    const key = this.keys.partition(partition).outbox;
    const reply = (await this.read(() =>
      this.redis.xautoclaim(key, group, consumer, minIdleMs, '0-0', 'COUNT', count),
    )) as [string, [string, string[] | null][]];
    return parseOutbox(reply[1].filter((entry): entry is [string, string[]] => entry[1] !== null));
  }

  /** Acknowledges handled effects and removes them from the outbox. */
  async ackOutbox(partition: number, group: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const key = this.keys.partition(partition).outbox;
    await this.read(() =>
      this.redis
        .multi()
        .xack(key, group, ...ids)
        .xdel(key, ...ids)
        .exec(),
    );
  }

  /** How many effects wait in every outbox (for metrics and tests). */
  async outboxLength(): Promise<number> {
    let total = 0;
    for (let partition = 0; partition < this.keys.partitions; partition++) {
      total += await this.read(() => this.redis.xlen(this.keys.partition(partition).outbox));
    }
    return total;
  }

  /**
   * Records a customer's event once (by `eventId`, within the dedupe TTL) and applies its reactions in the same step:
   * a purchase or return of a SKU ends the customer's open offers for it; consent sets consent.
   */
  async recordEvent(event: CustomerEvent): Promise<{
    duplicate: boolean;
    cancelled: string[];
    /** For a consent event: whether it changed consent, or why not. */
    consent?: 'applied' | 'unchanged' | ConsentRefusal | undefined;
    now: number;
  }> {
    const reply = await this.run(
      'recordEvent',
      this.keys.eventKeys(event.customerId),
      { event, maxAheadMs: this.limits.eventMaxAheadMs, dedupeMs: this.limits.eventDedupeTtlMs },
      eventReplySchema,
    );
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
    const keys = this.keys.global();
    const reply = await this.run(
      'recordStock',
      [keys.stockEvents, keys.stock, keys.stockEventsSeen],
      { event, maxAheadMs: this.limits.eventMaxAheadMs, dedupeMs: this.limits.eventDedupeTtlMs },
      stockReplySchema,
    );
    throwIfScriptError(reply);
    return { duplicate: reply.result === 'duplicate', changed: reply.changed, now: reply.now };
  }

  /** The SKU's latest stock state, with the time it is true as of. */
  async stockOf(
    sku: string,
  ): Promise<{ inStock: boolean; quantity?: number | undefined; at: number } | undefined> {
    const raw = await this.read(() => this.redis.hget(this.keys.global().stock, sku));
    if (raw === null) return undefined;
    return stockStateSchema.parse(JSON.parse(raw));
  }

  /** Moves a feed's watermark forward (never back); answers the watermark now. */
  async advanceWatermark(source: string, at: number): Promise<number> {
    const reply = await this.run(
      'advanceWatermark',
      [this.keys.global().watermarks],
      { source, at, maxAheadMs: this.limits.eventMaxAheadMs },
      watermarkReplySchema,
    );
    throwIfScriptError(reply);
    return reply.watermark;
  }

  /** Every feed's watermark (epoch ms of the latest event seen from it). */
  async watermarks(): Promise<Record<string, number>> {
    const raw = await this.read(() => this.redis.hgetall(this.keys.global().watermarks));
    return Object.fromEntries(Object.entries(raw).map(([source, at]) => [source, Number(at)]));
  }

  /** Open offers of one partition for a SKU, from the partition's index. */
  async openOffersForSku(partition: number, sku: string): Promise<{ offerId: string }[]> {
    const key = this.keys.partition(partition).bySku;
    const members = await this.read(() => this.redis.zrangebylex(key, `[${sku}|`, `[${sku}|\xff`));
    return indexedOffers(members);
  }

  /** Open offers of a campaign in one partition (a campaign cancel walks the partitions). */
  async openOffersForCampaign(partition: number, campaignId: string): Promise<{ offerId: string }[]> {
    const key = this.keys.partition(partition).byCampaign;
    const members = await this.read(() =>
      this.redis.zrangebylex(key, `[${campaignId}|`, `[${campaignId}|\xff`),
    );
    return indexedOffers(members);
  }

  /**
   * Changes a campaign in one atomic step (its state machine, run cursor and counters); throws
   * `conflict` for a change its state does not allow, `forbidden` for an approval by its author,
   * `not_found` for an unknown campaign.
   */
  async updateCampaign(campaignId: string, change: CampaignAction, actor: string): Promise<CampaignReply> {
    const id = parseInput(campaignIdSchema, campaignId);
    const reply = await this.run(
      'updateCampaign',
      this.keys.campaignKeys(id),
      { ...change, campaignId: id, actor },
      campaignReplySchema,
    );
    throwIfScriptError(reply);
    if (change.action === 'create') {
      await this.read(() => this.redis.zadd(this.keys.global().campaigns, reply.now, id));
    }
    return reply;
  }

  /**
   * Takes an erased customer out of a campaign: deletes the outcomes recorded for them and, when
   * `change` is given, stores `change.definition` (the audience with their place tombstoned) in
   * place of the definition whose text was `change.expected`. Answers `changed` when the stored
   * definition is no longer that text (read it again and retry), `not_found` for no campaign.
   */
  async eraseCampaignMember(
    campaignId: string,
    customerId: string,
    options: { actor: string; change?: { expected: string; definition: string } },
  ): Promise<{ result: 'ok' | 'changed' | 'not_found'; replaced: boolean; outcomes: number }> {
    const id = parseInput(campaignIdSchema, campaignId);
    const customer = parseInput(storedCustomerIdSchema, customerId);
    const { change } = options;
    return this.run(
      'eraseCampaignMember',
      this.keys.campaignKeys(id),
      {
        actor: options.actor,
        customerId: customer,
        ...(change === undefined
          ? {}
          : {
              expected: createHash('sha1').update(change.expected).digest('hex'),
              definition: change.definition,
            }),
      },
      campaignEraseReplySchema,
    );
  }

  /** One stored field of a campaign, or undefined. */
  async campaignField(campaignId: string, field: string): Promise<string | undefined> {
    const [key] = this.keys.campaignKeys(campaignId);
    return (await this.read(() => this.redis.hget(key, field))) ?? undefined;
  }

  /** A campaign's stored fields, or undefined. */
  async campaignFields(campaignId: string): Promise<Record<string, string> | undefined> {
    const [key] = this.keys.campaignKeys(campaignId);
    const fields = await this.read(() => this.redis.hgetall(key));
    return Object.keys(fields).length === 0 ? undefined : fields;
  }

  /** Campaign ids, newest first; `offset` pages through them. */
  async campaignIds(limit = 100, offset = 0): Promise<string[]> {
    return this.read(() => this.redis.zrevrange(this.keys.global().campaigns, offset, offset + limit - 1));
  }

  /** The customer that owns an offer id; throws `not_found` for an id the ledger does not hold. */
  async customerOf(offerId: string): Promise<string> {
    const cached = this.owners.get(offerId);
    if (cached !== undefined) return cached;
    const partition = this.keys.partitionOfOffer(offerId);
    const owner = await this.read(() => this.redis.hget(this.keys.partition(partition).owners, offerId));
    if (owner === null) throw new ConcordError('not_found', `no offer ${offerId}`);
    this.rememberOwner(offerId, owner);
    return owner;
  }

  /** The customer that owns an offer id, or undefined for an id the ledger does not hold. */
  private async ownerIfKnown(offerId: string): Promise<string | undefined> {
    try {
      return await this.customerOf(offerId);
    } catch (error) {
      if (error instanceof ConcordError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  private rememberOwner(offerId: string, customerId: string): void {
    if (this.owners.size >= OWNER_CACHE_LIMIT) this.owners.clear();
    this.owners.set(offerId, customerId);
  }

  private async offerTransition(
    script: string,
    offerId: string,
    options: { actor: string; reason?: string | undefined; expectedVersion?: number | undefined },
  ): Promise<OfferResult> {
    const customerId = await this.customerOf(offerId);
    const reply = await this.run(
      script,
      this.keys.transitionKeys(customerId),
      { ...options, offerId },
      offerReplySchema,
    );
    throwIfScriptError(reply);
    return {
      offer: reply.offer,
      changed: reply.result === 'ended' || reply.result === 'settled',
      superseded: reply.superseded,
      now: reply.now,
    };
  }

  private async deliveryTransition(
    script: string,
    offerId: string,
    payload: Record<string, unknown>,
  ): Promise<DeliveryReply> {
    const customerId = await this.customerOf(offerId);
    const reply = await this.run(script, this.keys.transitionKeys(customerId), payload, deliveryReplySchema);
    throwIfScriptError(reply);
    return reply;
  }

  /** Runs one script with a JSON request and parses its JSON reply; a malformed reply is a bug. */
  private async run<S extends z.ZodType>(
    name: string,
    keys: readonly string[],
    request: Record<string, unknown>,
    schema: S,
  ): Promise<z.infer<S>> {
    const raw = await this.call(
      name,
      keys,
      encodeRequest({ ...request, skew: this.skew, historyMs: this.limits.historyRetentionMs }),
    );
    return parseReply(name, schema, typeof raw === 'string' ? JSON.parse(raw) : raw);
  }

  /** Runs one script as it is, timed, with Redis failures turned into ledger errors. */
  private async call(
    name: string,
    keys: readonly string[],
    arg: string | undefined,
    options: { buffers?: boolean } = {},
  ): Promise<unknown> {
    const script = this.scripts.get(name);
    if (!script) throw new ConcordError('internal', `no ledger script ${name}`);
    const started = performance.now();
    try {
      const raw = await runScript(this.redis, script, keys, arg, options);
      this.onScript?.(name, (performance.now() - started) / 1000, true);
      return raw;
    } catch (error) {
      this.onScript?.(name, (performance.now() - started) / 1000, false);
      throw toLedgerError(error);
    }
  }

  private async read<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toLedgerError(error);
    }
  }
}

function parseReply<S extends z.ZodType>(name: string, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ConcordError('internal', `malformed reply from ledger script ${name}`, {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}

/** readLiveDocument's reply: Redis TIME (seconds, microseconds), the live document, the web consent. */
const liveDocumentReplySchema = z.tuple([
  z.instanceof(Buffer),
  z.instanceof(Buffer),
  z.instanceof(Buffer).nullable(),
  z.instanceof(Buffer).nullable(),
]);

/**
 * JSON for a script; text that is not valid Unicode (a lone surrogate) is refused here, since
 * Lua's JSON decoder would fail on it inside the script.
 */
function encodeRequest(request: Record<string, unknown>): string {
  const json = JSON.stringify(request);
  // JSON.stringify writes a lone surrogate as a `\udXXX` escape and nothing else that way, so
  // text without one needs no further look (every ledger call comes through here). A match may
  // also be a literal backslash before "ud800"; the exact check below tells the two apart.
  if (!LONE_SURROGATE_ESCAPE.test(json)) return json;
  return JSON.stringify(request, (_key, value: unknown) => {
    if (typeof value === 'string' && !value.isWellFormed()) {
      throw new ConcordError('invalid_input', 'text must be valid Unicode (a lone surrogate was found)');
    }
    return value;
  });
}

const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/;

function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error.issues);
  return parsed.data;
}

/** Outbox entries; one this version cannot read (a newer writer's kind) comes back as `unreadable`. */
function parseOutbox(entries: [string, string[]][]): OutboxEntry[] {
  return entries.map(([id, fields]) => {
    const record: Record<string, string> = { id };
    for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] ?? ''] = fields[i + 1] ?? '';
    const parsed = outboxEntrySchema.safeParse({
      ...record,
      offerId: record['offer'],
      customerId: record['customer'],
    });
    return parsed.success ? parsed.data : { kind: 'unreadable', id, fields: record };
  });
}

/** The offer ids of index members `<value>|<offerId>`. */
function indexedOffers(members: string[]): { offerId: string }[] {
  return members.flatMap((member) => {
    const offerId = member.slice(member.lastIndexOf('|') + 1);
    return offerId ? [{ offerId }] : [];
  });
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

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

function fingerprint(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, (_key, inner: unknown) => (isPlainObject(inner) ? sortKeys(inner) : inner)))
    .digest('base64url')
    .slice(0, 22);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
