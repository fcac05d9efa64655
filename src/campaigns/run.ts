import { isConcordError } from '../errors.ts';
import {
  ISSUE_REFUSAL_REASONS,
  issueRefusalReasonSchema,
  type IssueOfferInput,
  type Ledger,
  type OfferEndCode,
} from '../ledger/index.ts';
import { inHoldout, mapConcurrent } from './audience.ts';
import { addDuration, parseIsoDuration } from '../time.ts';
import { ERASED_MEMBER, holdForOf, type CampaignDefinition } from './definition.ts';
import { guardrailOverrides } from './guardrails.ts';
import { parseCampaign } from './record.ts';

/** What a run asks of each issue beyond the offer (the ledger's issue options). */
type IssueOptions = NonNullable<Parameters<Ledger['offers']['issue']>[2]>;

/** Customers issued per recorded page: a crash repeats at most one page, harmlessly. */
export const PAGE_SIZE = 200;
const ISSUES_IN_FLIGHT = 16;

/** How a run ended for this call. */
export type RunOutcome =
  | { readonly kind: 'completed'; readonly run: number }
  /** The campaign was paused or cancelled; a cancel also ended the offers this call issued last. */
  | { readonly kind: 'stopped'; readonly run: number; readonly state: string }
  /** Another worker moved the run on (or a newer run started): this call has nothing left to do. */
  | { readonly kind: 'stale'; readonly run: number };

/** The actor of everything a campaign's runs do, in offer histories. */
export const campaignActor = (campaignId: string) => `campaign:${campaignId}`;

/** The reason an offer ends with when its campaign is cancelled. */
export const CAMPAIGN_CANCELLED = 'campaign_cancelled' satisfies OfferEndCode;

/**
 * A fire of the campaign's schedule (`fireId` is the fire's job id, the same when its job runs
 * again after a crash): starts a run and works it, or goes on with the run that fire started.
 * A fire of an outdated schedule, or of a paused, cancelled or finished campaign, is ignored
 * (a fire while paused starts its run on resume).
 */
export async function fireCampaign(
  ledger: Ledger,
  campaignId: string,
  fireId: string,
  scheduleVersion: number,
): Promise<RunOutcome | { readonly kind: 'ignored'; readonly reason: string }> {
  const reply = await ledger.campaigns.update(
    campaignId,
    { action: 'fire', fireId, scheduleVersion },
    campaignActor(campaignId),
  );
  if (reply.result !== 'ok' || reply.run === undefined) {
    // A fire job that ran again after a cancel may follow a runner that died mid-page: its
    // offers exist but no one recorded them, so the cancelled campaign is walked once more.
    if (reply.fields['state'] === 'cancelled') await endCampaignOffers(ledger, campaignId);
    return { kind: 'ignored', reason: reply.reason ?? reply.result };
  }
  return runCampaign(ledger, campaignId, reply.run);
}

/**
 * Ends every open offer of a campaign, walking the P partitions' campaign index (reason
 * `campaign_cancelled`: sends cancelled, pushes retracted, banner empty) and counts the offers
 * this call ended. Safe to repeat and to run beside another walk.
 */
export async function endCampaignOffers(
  ledger: Ledger,
  campaignId: string,
  actor = campaignActor(campaignId),
): Promise<number> {
  let ended = 0;
  for (let partition = 0; partition < ledger.keys.partitions; partition++) {
    const open = await ledger.indexes.offersForCampaign(partition, campaignId);
    const results = await mapConcurrent(open, ISSUES_IN_FLIGHT, ({ offerId }) =>
      endOffer(ledger, campaignId, offerId),
    );
    ended += results.filter(Boolean).length;
  }
  if (ended > 0) await ledger.campaigns.update(campaignId, { action: 'ended', count: ended }, actor);
  return ended;
}

/**
 * Runs (or goes on with) run `run` of a campaign: issues its offer to each customer of the
 * audience from the recorded cursor on, a page at a time, and records each page's outcomes and
 * the new cursor in one step. Each issue carries the idempotency key `<campaign>.r<run>`, so a page
 * repeated after a crash issues nothing twice. Stops at the first page boundary after a pause or
 * a cancel.
 */
export async function runCampaign(ledger: Ledger, campaignId: string, run: number): Promise<RunOutcome> {
  const fields = await ledger.campaigns.fields(campaignId);
  if (!fields) return { kind: 'stale', run };
  const campaign = parseCampaign(fields);
  if (campaign.state === 'cancelled') {
    await endCampaignOffers(ledger, campaignId);
    return { kind: 'stopped', run, state: campaign.state };
  }
  if (campaign.run !== run || !campaign.runActive) return { kind: 'stale', run };
  if (campaign.state !== 'running') return { kind: 'stopped', run, state: campaign.state };
  let audience = campaign.definition.audience.customerIds;
  let erasures = fields['audienceErasures'];
  let cursor = campaign.cursor;
  for (;;) {
    if (cursor >= audience.length) {
      const finished = await ledger.campaigns.update(
        campaignId,
        { action: 'finish', run },
        campaignActor(campaignId),
      );
      return finished.result === 'stale' ? { kind: 'stale', run } : { kind: 'completed', run };
    }
    // A customer erased since the audience was read: read it again, so their place is skipped
    // (one small read a page; an erasure while a page is being issued is caught by erasing again).
    const current = await ledger.campaigns.field(campaignId, 'audienceErasures');
    if (current !== erasures) {
      const latest = await ledger.campaigns.fields(campaignId);
      if (!latest) return { kind: 'stale', run };
      audience = parseCampaign(latest).definition.audience.customerIds;
      erasures = latest['audienceErasures'];
    }
    const page = audience.slice(cursor, cursor + PAGE_SIZE);
    const now = await ledger.now();
    const options = issueOptions(ledger, campaign.definition);
    const outcomes = await mapConcurrent(page, ISSUES_IN_FLIGHT, (customerId) =>
      issueTo(ledger, campaignId, campaign.definition, run, customerId, now, options),
    );
    const next = cursor + page.length;
    const recorded = await ledger.campaigns.update(
      campaignId,
      {
        action: 'page',
        run,
        cursor,
        next,
        // An erased place is recorded under its position: the outcome names no one.
        outcomes: page.map((id, i) => [
          id === ERASED_MEMBER ? `${ERASED_MEMBER}.${cursor + i}` : id,
          outcomes[i] ?? 'skipped:invalid',
        ]),
      },
      campaignActor(campaignId),
    );
    const state = recorded.fields['state'] ?? '';
    if (state === 'cancelled') {
      // The cancel may have walked the partitions before this page's offers existed: walk again.
      await endCampaignOffers(ledger, campaignId);
      return { kind: 'stopped', run, state };
    }
    if (recorded.result === 'stale') return { kind: 'stale', run };
    if (state !== 'running') return { kind: 'stopped', run, state };
    cursor = next;
  }
}

/** Why a run gives one customer no offer. */
export const RUN_SKIP_REASONS = [
  'holdout',
  'outranked',
  'slot_taken',
  'invalid',
  'open_offer_limit',
  /** The customer was erased: their place in the audience is a tombstone. */
  'erased',
  /** A guardrail refused the offer, or the customer has no profile here. */
  ...ISSUE_REFUSAL_REASONS,
] as const;
export type RunSkipReason = (typeof RUN_SKIP_REASONS)[number];
type CustomerRunOutcome = `issued:${string}` | `skipped:${RunSkipReason}`;

/** The offer one customer gets from one run, or why not: `issued:<offerId>` or `skipped:<reason>`. */
async function issueTo(
  ledger: Ledger,
  campaignId: string,
  definition: CampaignDefinition,
  run: number,
  customerId: string,
  now: number,
  options: IssueOptions,
): Promise<CustomerRunOutcome> {
  if (customerId === ERASED_MEMBER) return 'skipped:erased';
  if (inHoldout(campaignId, customerId, definition.holdout?.percent)) return 'skipped:holdout';
  try {
    const result = await ledger.offers.issue(
      offerFor(campaignId, definition, run, customerId, now),
      campaignActor(campaignId),
      options,
    );
    // A weaker newcomer is stored superseded on arrival; it was issued but will never show.
    if (result.offer.state === 'superseded') return 'skipped:outranked';
    return `issued:${result.offer.offerId}`;
  } catch (error) {
    if (isConcordError(error, 'conflict')) return 'skipped:slot_taken';
    if (isConcordError(error, 'invalid_input')) return 'skipped:invalid';
    // The customer holds as many open offers as allowed: this one waits for a later run.
    if (isConcordError(error, 'open_offer_limit')) return 'skipped:open_offer_limit';
    if (isConcordError(error, 'guardrail')) return `skipped:${refusalReason(error.details)}`;
    throw error;
  }
}

/**
 * How a run issues (and a preview checks) the campaign's offer: held to the rules the campaign
 * changed, resolved against the deployment's of the moment, and only to customers with a profile
 * (an offer for a customer the ledger knows nothing about could never be sent).
 */
export function issueOptions(ledger: Ledger, definition: CampaignDefinition): IssueOptions {
  return {
    guardrails: guardrailOverrides(definition.guardrails, ledger.limits.guardrails),
    requireProfile: true,
  };
}

/** The reason a `guardrail` refusal names; the ledger always names one of ISSUE_REFUSAL_REASONS. */
function refusalReason(details: unknown): RunSkipReason {
  const reason = (details as { reason?: unknown } | undefined)?.reason;
  const parsed = issueRefusalReasonSchema.safeParse(reason);
  if (!parsed.success) throw new Error(`a guardrail refusal without a known reason: ${String(reason)}`);
  return parsed.data;
}

/** The offer a run issues to one customer; validity counted from `now` (ledger time). */
export function offerFor(
  campaignId: string,
  definition: CampaignDefinition,
  run: number,
  customerId: string,
  now: number,
): IssueOfferInput {
  const { offer } = definition;
  // Both were checked when the campaign was stored; each offer's window counts from `now`.
  const validFor = offer.validFor === undefined ? undefined : parseIsoDuration(offer.validFor);
  const holdForText = holdForOf(definition);
  const holdFor = holdForText === undefined ? undefined : parseIsoDuration(holdForText);
  return {
    customerId,
    slot: definition.slot,
    title: offer.title,
    body: offer.body,
    discount: offer.discount,
    channels: definition.channels,
    validUntil: validFor === undefined ? Date.parse(offer.validUntil ?? '') : addDuration(now, validFor),
    priority: definition.priority,
    campaignId,
    idempotencyKey: `${campaignId}.r${run}`,
    ...(offer.code === undefined ? {} : { code: offer.code }),
    ...(offer.sku === undefined ? {} : { sku: offer.sku }),
    ...(offer.category === undefined ? {} : { category: offer.category }),
    ...(definition.policy === undefined ? {} : { policy: definition.policy }),
    ...(holdFor === undefined ? {} : { holdDeadline: addDuration(now, holdFor) }),
  };
}

/** Ends one offer of a cancelled campaign; true when this call ended it. */
export async function endOffer(ledger: Ledger, campaignId: string, offerId: string): Promise<boolean> {
  try {
    const result = await ledger.offers.cancel(offerId, {
      reason: CAMPAIGN_CANCELLED,
      actor: campaignActor(campaignId),
    });
    return result.changed;
  } catch (error) {
    // Ended meanwhile (expired, redeemed, superseded): nothing left to do for it.
    if (isConcordError(error, 'conflict')) return false;
    throw error;
  }
}
