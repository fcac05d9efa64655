import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { GuardrailRules } from '../config/guardrails.ts';
import { throwIfScriptError } from './errors.ts';
import type { GuardFacts, StockFact, ZoneFact } from './guard-facts.ts';
import type { OfferOwners } from './owners.ts';
import type {
  FailReason,
  HoldReason,
  RetractionFailReason,
  retryCauseSchema,
  unknownOutcomeReasonSchema,
} from './reasons.ts';
import { parseInput, type ScriptRunner } from './runner.ts';
import type { claimGuardsSchema, ScriptName, ScriptRequest } from './script-table.ts';
import type { ClaimAnswer, DeliveryReply, RetractionStart } from './replies.ts';
import type { QueuedChannel } from './schemas.ts';

/** Whether a channel's provider deduplicates a resend (so a lost lease may be claimed again). */
export const CHANNEL_DEDUPES: Readonly<Record<QueuedChannel, boolean>> = { email: false, push: true };

/** What a trigger's decision depends on (feeds, data with their times), read before its claims. */
export type ClaimGuards = z.input<typeof claimGuardsSchema>;

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
  /**
   * The offer's SKU, as the job that asks names it: the SKU's stock is read before the claim.
   * Only a hint: the claim names the SKU it needs when it is missing or wrong.
   */
  readonly skuHint?: string;
}

/** How often a claim may answer that its facts were read for another SKU or zone before it holds. */
const RECHECKS = 2;

/** How a claimed send went, each outcome with the closed set of reasons it may give. */
export type ConfirmOutcome =
  | { readonly outcome: 'sent'; readonly providerRef?: string }
  | { readonly outcome: 'failed'; readonly reason: FailReason; readonly providerRef?: string }
  | { readonly outcome: 'retry'; readonly reason: RetryCause; readonly retryAt?: number }
  | { readonly outcome: 'unknown'; readonly reason: UnknownOutcomeReason };

type RetryCause = z.infer<typeof retryCauseSchema>;
type UnknownOutcomeReason = z.infer<typeof unknownOutcomeReasonSchema>;

export type ConfirmRequest = ConfirmOutcome & {
  readonly offerId: string;
  readonly channel: QueuedChannel;
  readonly token: number;
  readonly actor?: string;
};

const durationMs = z
  .number()
  .int()
  .positive()
  .max(30 * 24 * 3_600_000);
const durationOrZeroMs = durationMs.or(z.literal(0));

/** A claim's request but for the facts, which are read for each round. */
type ClaimPayload = Omit<ScriptRequest<'claimDelivery'>, 'facts' | 'skew' | 'historyMs'>;

/**
 * Deliveries: the claim that decides whether a message may go now (GO, SKIP or HOLD), its
 * confirmation, a hold, a lease that ran out, support's resolution of an unknown outcome, and
 * the retraction of a sent push. Each is one script on the offer's customer's keys, fenced by
 * the delivery's token where a claim came first.
 */
export class Deliveries {
  constructor(
    private readonly runner: ScriptRunner,
    private readonly owners: OfferOwners,
    private readonly rules: GuardrailRules,
    private readonly facts: GuardFacts,
  ) {}

  /**
   * Asks whether a delivery may be sent now: GO with a lease, a fencing token and the offer as the
   * ledger holds it; SKIP with a permanent reason; HOLD with a reason and when to ask again.
   */
  async claim(request: ClaimRequest): Promise<ClaimAnswer> {
    const leaseMs = parseInput(durationMs, request.leaseMs);
    const waitRetryMs = parseInput(durationMs, request.waitRetryMs ?? 30_000);
    const minRemainingMs = parseInput(durationOrZeroMs, request.minRemainingMs ?? 0);
    const payload: ClaimPayload = {
      actor: request.actor ?? 'worker',
      offerId: request.offerId,
      channel: request.channel,
      claimId: request.claimId ?? randomUUID(),
      leaseMs,
      dedupe: CHANNEL_DEDUPES[request.channel],
      minRemainingMs,
      waitRetryMs,
      rules: this.rules,
      guards: request.guards,
    };
    const hint = request.customerId;
    const { keys } = this.runner;
    if (hint !== undefined && keys.partitionOf(hint) === keys.partitionOfOffer(request.offerId)) {
      const answer = await this.claimAs(hint, payload, request.skuHint);
      // Found under the hinted customer (offer ids are unique), so it is the owner; a claim that
      // found nothing wrote nothing, and is asked again of the real owner.
      if (answer.answer !== 'skip' || answer.reason !== 'unknown_offer') {
        this.owners.remember(request.offerId, hint);
        return answer;
      }
    }
    const customerId = await this.owners.ownerIfKnown(request.offerId);
    if (customerId === undefined) {
      return { answer: 'skip', reason: 'unknown_offer', now: await this.runner.now() };
    }
    return this.claimAs(customerId, payload, request.skuHint);
  }

  /**
   * The claim with its facts: the SKU's stock and the customer's time zone, read just before it.
   * When the claim finds them read for another SKU or zone (no hint, a profile changed in
   * between), it names what it needs and is asked again; a third miss holds the delivery.
   */
  private async claimAs(customerId: string, payload: ClaimPayload, skuHint: string | undefined): Promise<ClaimAnswer> {
    let [stock, zone] = await Promise.all([
      skuHint === undefined ? undefined : this.facts.stock(skuHint),
      this.rules.quietHours === null ? undefined : this.facts.zone(customerId),
    ]);
    for (let round = 0; ; round++) {
      const facts: { stock?: StockFact; zone?: ZoneFact } = {
        ...(stock === undefined ? {} : { stock }),
        ...(zone === undefined ? {} : { zone }),
      };
      const answer = await this.runner.run('claimDelivery', customerId, { ...payload, facts });
      if (answer.answer !== 'recheck') return answer;
      if (round === RECHECKS) {
        return { answer: 'hold', reason: 'stale_data', retryAt: answer.now + payload.waitRetryMs, now: answer.now };
      }
      stock = answer.sku === null ? undefined : await this.facts.stock(answer.sku);
      zone = this.facts.zoneOf(answer.timezone);
    }
  }

  /** Records the outcome of a claimed send; only the current token is accepted. */
  async confirm(request: ConfirmRequest): Promise<DeliveryReply> {
    const { actor, ...rest } = request;
    return this.transition('confirmDelivery', request.offerId, { ...rest, actor: actor ?? 'worker' });
  }

  /** Gives a claimed delivery back without sending, to be claimed again at `retryAt`. */
  hold(request: {
    offerId: string;
    channel: QueuedChannel;
    token: number;
    reason: HoldReason;
    retryAt: number;
    actor?: string;
  }): Promise<DeliveryReply> {
    return this.transition('holdDelivery', request.offerId, { ...request, actor: request.actor ?? 'worker' });
  }

  /** Ends a lease that ran out: retryable where the provider deduplicates, else `unknown`. */
  expireLease(offerId: string, channel: QueuedChannel): Promise<DeliveryReply> {
    return this.transition('expireLease', offerId, { offerId, channel, dedupe: CHANNEL_DEDUPES[channel] });
  }

  /** Support's answer for a delivery whose outcome is unknown: it was sent, or send it again. */
  resolveDelivery(
    offerId: string,
    channel: QueuedChannel,
    options: { as: 'sent' | 'resend'; actor: string; reason?: string },
  ): Promise<DeliveryReply> {
    return this.transition('resolveDelivery', offerId, { offerId, channel, ...options });
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
    const customerId = await this.owners.ownerIfKnown(offerId);
    if (customerId === undefined) return { answer: 'not_due', now: await this.runner.now() };
    return this.runner.run('beginRetraction', customerId, {
      offerId,
      channel,
      leaseMs,
      actor: options.actor ?? 'worker',
    });
  }

  /**
   * Records how a begun retraction went: reached the provider (`done`), refused for good
   * (`failed`), or refused for now (`retry`: still due, and no longer holding newer pushes).
   */
  confirmRetraction(
    offerId: string,
    channel: QueuedChannel,
    options: { outcome: 'done' | 'failed' | 'retry'; reason?: RetractionFailReason; actor?: string },
  ): Promise<DeliveryReply> {
    return this.transition('confirmRetraction', offerId, {
      offerId,
      channel,
      outcome: options.outcome,
      reason: options.reason,
      actor: options.actor ?? 'worker',
    });
  }

  private async transition<N extends DeliveryScript>(
    script: N,
    offerId: string,
    request: ScriptRequest<N>,
  ): Promise<DeliveryReply> {
    const customerId = await this.owners.customerOf(offerId);
    const reply = await this.runner.run<DeliveryScript>(script, customerId, request);
    throwIfScriptError(reply);
    return reply;
  }
}

type DeliveryScript = Extract<
  ScriptName,
  'confirmDelivery' | 'holdDelivery' | 'expireLease' | 'resolveDelivery' | 'confirmRetraction'
>;
