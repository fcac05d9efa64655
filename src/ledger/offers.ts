import { monotonicFactory } from 'ulid';
import type { z } from 'zod';
import type { GuardrailOverrides, GuardrailRules } from '../config/guardrails.ts';
import { ConcordError } from '../errors.ts';
import { fingerprint } from './canonical.ts';
import { throwIfScriptError } from './errors.ts';
import { decodeLiveDocument, liveOfferAt, type LiveOfferChoice } from './live-document.ts';
import type { GuardFacts } from './guard-facts.ts';
import type { OfferOwners } from './owners.ts';
import type { IssueRefusalReason } from './reasons.ts';
import { liveDocumentReplySchema } from './replies.ts';
import { parseInput, parseReply, toEpochMs, type ScriptRunner } from './runner.ts';
import { SCRIPT_TABLE } from './script-table.ts';
import { liveReplySchema } from './replies.ts';
import {
  issueOfferInputSchema,
  type IssueOfferInput,
  type Lifecycle,
  type OfferRecord,
  type SlotPolicy,
} from './schemas.ts';

/** What a campaign (or trigger) asks of the offers it issues, beyond the offer itself. */
export interface IssueOptions {
  /** The rules it changed; each replaces the deployment's, at issue and at every claim. */
  readonly guardrails?: GuardrailOverrides | undefined;
  /** A customer without a profile is not issued the offer (`no_profile`): nobody it knows. */
  readonly requireProfile?: boolean | undefined;
  /** Only for customers of this lifecycle, from their purchases (`lifecycle_mismatch`). */
  readonly lifecycle?: Lifecycle | undefined;
}

/** What issuing would do now, from a dry run that writes nothing. */
export type IssueCheck =
  | {
      readonly result: 'ok';
      /** The slot's live offer, which a `replace` may outrank or lose to. */
      readonly slotLive: { readonly offerId: string; readonly priority: number } | null;
      readonly now: number;
    }
  | { readonly result: 'refused'; readonly reason: IssueRefusalReason | 'open_offer_limit'; readonly now: number };

/** What issuing an offer did. */
export interface IssueResult {
  readonly offer: OfferRecord;
  /** Offers that lost their slot to this one. */
  readonly superseded: readonly string[];
  /** True when the same idempotency key or offer id had already been issued: nothing changed. */
  readonly duplicate: boolean;
  readonly now: number;
}

/** What ending or settling an offer did. */
export interface OfferResult {
  readonly offer: OfferRecord;
  readonly changed: boolean;
  readonly superseded: readonly string[];
  readonly now: number;
}

/** What the banner shows for a slot now: the live offer's terms, or why none is shown. */
export type CurrentOffer = z.infer<typeof liveReplySchema>;

/**
 * Offers: issuing one and settling its slot, ending it (cancel, redeem, expire), activating it,
 * and reading offers back. Each transition is one script on the customer's keys.
 */
export class Offers {
  private readonly nextUlid = monotonicFactory();

  constructor(
    private readonly runner: ScriptRunner,
    private readonly owners: OfferOwners,
    private readonly settings: {
      readonly slotPolicies: Readonly<Record<string, SlotPolicy>>;
      readonly maxOpenOffers: number;
      readonly guardrails: GuardrailRules;
    },
    private readonly facts: GuardFacts,
  ) {}

  /** The policy a slot uses when an offer names none: the deployment's, else `replace`. */
  policyFor(slot: string): SlotPolicy {
    const { slotPolicies } = this.settings;
    return (Object.hasOwn(slotPolicies, slot) ? slotPolicies[slot] : undefined) ?? 'replace';
  }

  /**
   * Issues an offer and settles its slot in the same step. Throws `conflict` when the slot's
   * policy is `reject` and a contradicting offer is live, or when the idempotency key was used
   * for a different offer; `open_offer_limit` when the customer holds the most open offers
   * allowed; `guardrail` when a guardrail refuses the offer for this customer (`details.reason`,
   * docs/API.md "Guardrails"; the refusal is in the customer's history); `invalid_input` for a bad
   * offer or a validity that already ended.
   */
  async issue(input: IssueOfferInput, actor: string, options: IssueOptions = {}): Promise<IssueResult> {
    const reply = await this.runIssue(input, actor, options, false);
    throwIfScriptError(reply);
    if (reply.result === 'checked') throw new Error('issueOffer answered a dry run to an issue');
    if (reply.result === 'rejected') {
      throw new ConcordError(
        'conflict',
        `slot ${input.slot ?? "promo"} already has a live offer (${reply.conflicting.join(', ')})`,
        { details: { conflicting: reply.conflicting, ledgerNow: reply.now } },
      );
    }
    return {
      offer: reply.offer,
      superseded: reply.superseded,
      duplicate: reply.result === 'duplicate',
      now: reply.now,
    };
  }

  /**
   * What {@link issue} would do for this offer now — the guardrail or cap that would refuse it, or
   * the slot's live offer — from the same checks in the same script, writing nothing: a preview
   * and the run it previews count the same reasons.
   */
  async check(input: IssueOfferInput, options: IssueOptions = {}): Promise<IssueCheck> {
    const { idempotencyKey: _ignored, ...offer } = input;
    const reply = await this.runIssue(offer, 'preview', options, true);
    throwIfScriptError(reply);
    if (reply.result !== 'checked') throw new Error(`issueOffer answered ${reply.result} to a dry run`);
    return reply.refusal === null
      ? { result: 'ok', slotLive: reply.slotLive, now: reply.now }
      : { result: 'refused', reason: reply.refusal, now: reply.now };
  }

  private async runIssue(input: IssueOfferInput, actor: string, options: IssueOptions, dryRun: boolean) {
    const { idempotencyKey, ...offer } = parseInput(issueOfferInputSchema, input);
    const policy = offer.policy ?? this.policyFor(offer.slot);
    const offerId = this.runner.keys.offerIdFor(offer.customerId, this.nextUlid());
    // The stock is deployment-wide (outside the customer's partition): read first, passed in.
    const stock = offer.sku === undefined ? undefined : await this.facts.stock(offer.sku);
    return this.runner.run('issueOffer', offer.customerId, {
      actor,
      offer: {
        ...offer,
        policy,
        offerId,
        ...(options.guardrails === undefined ? {} : { guardrails: options.guardrails }),
        ...(options.lifecycle === undefined ? {} : { lifecycle: options.lifecycle }),
      },
      idempotencyKey,
      maxOpenOffers: this.settings.maxOpenOffers,
      // The validity window is left out: a retry of "valid for 7 days" computes a new window, and
      // it is still the same request.
      fingerprint: fingerprint({
        ...offer,
        policy,
        validFrom: undefined,
        validUntil: undefined,
        holdDeadline: undefined,
      }),
      rules: this.settings.guardrails,
      ...(stock === undefined ? {} : { stock }),
      ...(options.requireProfile === true ? { requireProfile: true } : {}),
      ...(dryRun ? { dryRun: true } : {}),
    });
  }

  /** Cancels an open offer on every channel; cancelling a cancelled offer again changes nothing. */
  cancel(
    offerId: string,
    options: { reason: string; actor: string; expectedVersion?: number | undefined },
  ): Promise<OfferResult> {
    return this.transition('cancelOffer', offerId, options);
  }

  /** Marks an active offer redeemed; it ends on every channel. */
  redeem(
    offerId: string,
    options: { actor: string; reason?: string | undefined; expectedVersion?: number | undefined },
  ): Promise<OfferResult> {
    return this.transition('redeemOffer', offerId, options);
  }

  /** Activates the offer if its validFrom has come and its slot allows it (idempotent). */
  activate(offerId: string): Promise<OfferResult> {
    return this.transition('activateOffer', offerId, { actor: 'ledger' });
  }

  /** Expires the offer if its validUntil has passed (idempotent; a no-op before). */
  expire(offerId: string): Promise<OfferResult> {
    return this.transition('expireOffer', offerId, { actor: 'ledger' });
  }

  /**
   * The offer the customer's banner shows for a slot right now, or undefined: only an active offer
   * for the web channel, inside its validity at the ledger clock, with web consent.
   */
  async currentOffer(
    customerId: string,
    slot: string,
    options: { minRemainingMs?: number } = {},
  ): Promise<CurrentOffer> {
    const keys = SCRIPT_TABLE.readLiveDocument.keys(this.runner.keys, customerId);
    const raw = await this.runner.call('readLiveDocument', keys, undefined, { buffers: true });
    const [seconds, micros, live, webConsent] = parseReply('readLiveDocument', liveDocumentReplySchema, raw);
    let choice: LiveOfferChoice;
    try {
      choice = liveOfferAt({
        live: decodeLiveDocument(live),
        webConsent: webConsent === null ? null : webConsent.toString('utf8'),
        slot,
        now: toEpochMs(seconds, micros) + this.runner.options.clockSkewMs,
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
    const customerId = await this.owners.ownerIfKnown(offerId);
    if (customerId === undefined) return undefined;
    return (await this.read(customerId, { offerId }))[0];
  }

  /** Every offer the customer was issued, oldest first (reads them all: not for public pages). */
  async customerOffers(customerId: string): Promise<OfferRecord[]> {
    return byCreation(await this.read(customerId, {}));
  }

  /**
   * The customer's open offers (active or pending, at most the open-offer cap), and those of
   * `endedIds` that ended, oldest first: reads the live document and the named offers only.
   */
  async openOffers(customerId: string, endedIds: readonly string[] = []): Promise<OfferRecord[]> {
    return byCreation(await this.read(customerId, { open: true, offerIds: [...new Set(endedIds)] }));
  }

  /** The customer's offers, or some of them, decoded by the ledger's own script. */
  private async read(
    customerId: string,
    which: { offerId: string } | { open: true; offerIds: string[] } | Record<string, never>,
  ): Promise<OfferRecord[]> {
    return (await this.runner.run('readOffers', customerId, which)).offers;
  }

  private async transition(
    script: 'cancelOffer' | 'redeemOffer' | 'activateOffer' | 'expireOffer',
    offerId: string,
    options: { actor: string; reason?: string | undefined; expectedVersion?: number | undefined },
  ): Promise<OfferResult> {
    const customerId = await this.owners.customerOf(offerId);
    const reply = await this.runner.run(script, customerId, { ...options, offerId });
    throwIfScriptError(reply);
    return {
      offer: reply.offer,
      changed: reply.result === 'ended' || reply.result === 'settled',
      superseded: reply.superseded,
      now: reply.now,
    };
  }
}

function byCreation(offers: OfferRecord[]): OfferRecord[] {
  return offers.sort((a, b) => a.createdAt - b.createdAt || a.offerId.localeCompare(b.offerId));
}
