import { z } from 'zod';
import { guardrailOverridesSchema, guardrailRulesSchema } from '../config/guardrails.ts';
import type { LedgerKeys } from './keys.ts';
import {
  campaignEraseReplySchema,
  campaignReplySchema,
  claimReplySchema,
  deliveryReplySchema,
  eraseReplySchema,
  eventReplySchema,
  indexReplySchema,
  issueReplySchema,
  liveDocumentReplySchema,
  offerReplySchema,
  offersReplySchema,
  profileReplySchema,
  pruneReplySchema,
  retractionStartSchema,
  stockReplySchema,
  watermarkReplySchema,
} from './replies.ts';
import { issueOfferInputSchema, lifecycleSchema, QUEUED_CHANNELS, slotPolicySchema } from './schemas.ts';
import { stockEventSchema } from './stream-schemas.ts';

/**
 * Every ledger script: the keys it takes (built from a scope by the one key builder), the JSON
 * request it reads and the reply it answers. A script name is a {@link ScriptName}, never free
 * text; the loader refuses a Lua file without a row here, and the test ledger checks every
 * request it sends against its row.
 */

const queuedChannelSchema = z.enum(QUEUED_CHANNELS);
const actor = z.string();

/**
 * An offer as `issueOffer` stores it: the checked input with its id and policy settled, and what
 * a campaign asks of every claim too (its changed rules, the lifecycle it targets).
 */
const offerToIssueSchema = issueOfferInputSchema.omit({ idempotencyKey: true }).extend({
  offerId: z.string(),
  policy: slotPolicySchema,
  guardrails: guardrailOverridesSchema.optional(),
  lifecycle: lifecycleSchema.optional(),
});

/** A SKU's latest stock event as read just before a script, or null when the SKU has none. */
export const stockFactSchema = z.strictObject({
  sku: z.string(),
  latest: z.strictObject({ inStock: z.boolean(), at: z.number() }).nullable(),
});

/**
 * The customer's time zone as read just before a claim (null: none), with its UTC offsets around
 * now as steps `[fromMs, minutes]`: the claim places the quiet-hours window with them.
 */
export const zoneFactSchema = z.strictObject({
  timezone: z.string().nullable(),
  offsets: z.array(z.tuple([z.number(), z.number()])),
});

const offerTransitionSchema = z.strictObject({
  offerId: z.string(),
  actor,
  reason: z.string().optional(),
  expectedVersion: z.number().int().optional(),
});

/** What a trigger's decision depends on, read outside the partition before its claims. */
export const claimGuardsSchema = z.strictObject({
  /** Event feeds the decision depends on: the feed's watermark must have reached `needed`. */
  watermarks: z.array(z.strictObject({ feed: z.string(), at: z.number(), needed: z.number() })).optional(),
  /** Data the decision used, which must be no older than `maxAge` ms at the ledger clock. */
  facts: z.array(z.strictObject({ name: z.string(), asOf: z.number(), maxAge: z.number() })).optional(),
});

const deliveryTarget = { offerId: z.string(), channel: queuedChannelSchema };

const confirmRequestSchema = z.discriminatedUnion('outcome', [
  z.strictObject({
    ...deliveryTarget,
    token: z.number(),
    actor,
    outcome: z.literal('sent'),
    providerRef: z.string().optional(),
  }),
  z.strictObject({
    ...deliveryTarget,
    token: z.number(),
    actor,
    outcome: z.literal('failed'),
    reason: z.string(),
    providerRef: z.string().optional(),
  }),
  z.strictObject({
    ...deliveryTarget,
    token: z.number(),
    actor,
    outcome: z.literal('retry'),
    reason: z.string(),
    retryAt: z.number().optional(),
  }),
  z.strictObject({
    ...deliveryTarget,
    token: z.number(),
    actor,
    outcome: z.literal('unknown'),
    reason: z.string(),
  }),
]);

const eventLimits = { maxAheadMs: z.number(), dedupeMs: z.number() };

/** The actions of `updateCampaign` (the campaign state machine and its run bookkeeping). */
// Not strict: the request adds the campaign id and the actor beside the action's own fields.
export const campaignActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('create'), definition: z.unknown() }),
  z.object({ action: z.literal('approve'), note: z.string().optional() }),
  z.object({ action: z.literal('schedule'), schedule: z.unknown(), scheduleKind: z.enum(['once', 'cron']) }),
  z.object({ action: z.literal('fire'), fireId: z.string(), scheduleVersion: z.number() }),
  z.object({
    action: z.literal('page'),
    run: z.number(),
    cursor: z.number(),
    next: z.number(),
    outcomes: z.array(z.tuple([z.string(), z.string()])),
  }),
  z.object({ action: z.literal('finish'), run: z.number() }),
  z.object({ action: z.literal('pause'), reason: z.string().optional() }),
  z.object({ action: z.literal('resume'), reason: z.string().optional() }),
  z.object({ action: z.literal('cancel'), reason: z.string().optional() }),
  z.object({ action: z.literal('ended'), count: z.number() }),
]);
export type CampaignAction = z.input<typeof campaignActionSchema>;

const byCustomer = (keys: LedgerKeys, customerId: string) => keys.transitionKeys(customerId);
const byCampaign = (keys: LedgerKeys, campaignId: string) => keys.campaignKeys(campaignId);
const byOutbox = (keys: LedgerKeys, partition: number) => [keys.partition(partition).outbox];
const offerTransition = { keys: byCustomer, request: offerTransitionSchema, reply: offerReplySchema };

export const SCRIPT_TABLE = {
  issueOffer: {
    keys: byCustomer,
    request: z.strictObject({
      actor,
      offer: offerToIssueSchema,
      idempotencyKey: z.string().optional(),
      maxOpenOffers: z.number().int(),
      fingerprint: z.string(),
      rules: guardrailRulesSchema,
      stock: stockFactSchema.optional(),
      requireProfile: z.boolean().optional(),
      dryRun: z.boolean().optional(),
    }),
    reply: issueReplySchema,
  },
  cancelOffer: offerTransition,
  redeemOffer: offerTransition,
  activateOffer: offerTransition,
  expireOffer: offerTransition,
  claimDelivery: {
    keys: byCustomer,
    request: z.strictObject({
      ...deliveryTarget,
      actor,
      claimId: z.string(),
      leaseMs: z.number(),
      dedupe: z.boolean(),
      minRemainingMs: z.number(),
      waitRetryMs: z.number(),
      rules: guardrailRulesSchema,
      facts: z.strictObject({ stock: stockFactSchema.optional(), zone: zoneFactSchema.optional() }),
      guards: claimGuardsSchema.optional(),
    }),
    reply: claimReplySchema,
  },
  confirmDelivery: { keys: byCustomer, request: confirmRequestSchema, reply: deliveryReplySchema },
  holdDelivery: {
    keys: byCustomer,
    request: z.strictObject({
      ...deliveryTarget,
      token: z.number(),
      reason: z.string(),
      retryAt: z.number(),
      actor,
    }),
    reply: deliveryReplySchema,
  },
  expireLease: {
    keys: byCustomer,
    request: z.strictObject({ ...deliveryTarget, dedupe: z.boolean() }),
    reply: deliveryReplySchema,
  },
  resolveDelivery: {
    keys: byCustomer,
    request: z.strictObject({
      ...deliveryTarget,
      as: z.enum(['sent', 'resend']),
      actor,
      reason: z.string().optional(),
    }),
    reply: deliveryReplySchema,
  },
  beginRetraction: {
    keys: byCustomer,
    request: z.strictObject({ ...deliveryTarget, leaseMs: z.number(), actor }),
    reply: retractionStartSchema,
  },
  confirmRetraction: {
    keys: byCustomer,
    request: z.strictObject({
      ...deliveryTarget,
      outcome: z.enum(['done', 'failed', 'retry']),
      reason: z.string().optional(),
      actor,
    }),
    reply: deliveryReplySchema,
  },
  upsertProfile: {
    keys: (keys: LedgerKeys, customerId: string) => {
      const customer = keys.customer(customerId);
      return [customer.profile, customer.history];
    },
    request: z.strictObject({
      actor,
      set: z.record(z.string(), z.string()),
      consent: z.record(
        z.string(),
        z.strictObject({ granted: z.boolean(), source: z.string(), by: z.enum(['customer', 'operator']) }),
      ),
    }),
    reply: profileReplySchema,
  },
  eraseCustomer: {
    keys: (keys: LedgerKeys, customerId: string) => keys.erasureKeys(customerId),
    request: z.strictObject({ customerId: z.string() }),
    reply: eraseReplySchema,
  },
  readOffers: {
    keys: (keys: LedgerKeys, customerId: string) => {
      const customer = keys.customer(customerId);
      return [customer.offers, customer.live];
    },
    request: z.union([
      z.strictObject({ offerId: z.string() }),
      z.strictObject({ open: z.literal(true), offerIds: z.array(z.string()) }),
      z.strictObject({}),
    ]),
    reply: offersReplySchema,
  },
  readLiveDocument: {
    keys: (keys: LedgerKeys, customerId: string) => {
      const customer = keys.customer(customerId);
      return [customer.live, customer.profile];
    },
    /** Takes no request: the reply is raw (Redis TIME, the live document, the web consent). */
    request: z.undefined(),
    reply: liveDocumentReplySchema,
  },
  recordEvent: {
    keys: (keys: LedgerKeys, customerId: string) => keys.eventKeys(customerId),
    // Any customer id the ledger holds, earlier versions' included: the faces check new ones.
    request: z.strictObject({
      event: z.looseObject({ eventId: z.string(), type: z.string(), customerId: z.string(), at: z.number() }),
      ...eventLimits,
    }),
    reply: eventReplySchema,
  },
  recordStock: {
    keys: (keys: LedgerKeys) => {
      const global = keys.global();
      return [global.stockEvents, global.stock, global.stockEventsSeen];
    },
    request: z.strictObject({ event: stockEventSchema, ...eventLimits }),
    reply: stockReplySchema,
  },
  advanceWatermark: {
    keys: (keys: LedgerKeys) => [keys.global().watermarks],
    request: z.strictObject({ source: z.string(), at: z.number(), maxAheadMs: z.number() }),
    reply: watermarkReplySchema,
  },
  updateCampaign: {
    keys: byCampaign,
    request: z.intersection(campaignActionSchema, z.object({ campaignId: z.string(), actor })),
    reply: campaignReplySchema,
  },
  indexCampaign: {
    keys: (keys: LedgerKeys) => [keys.global().campaigns],
    request: z.strictObject({ campaignId: z.string(), at: z.number() }),
    reply: indexReplySchema,
  },
  eraseCampaignMember: {
    keys: byCampaign,
    request: z.strictObject({
      actor,
      customerId: z.string(),
      expected: z.string().optional(),
      definition: z.string().optional(),
    }),
    reply: campaignEraseReplySchema,
  },
  ensureOutboxGroup: {
    keys: byOutbox,
    request: z.strictObject({ group: z.string() }),
    reply: indexReplySchema,
  },
  ackOutbox: {
    keys: byOutbox,
    request: z.strictObject({ group: z.string(), ids: z.array(z.string()).min(1) }),
    reply: indexReplySchema,
  },
  pruneOutboxConsumers: {
    keys: byOutbox,
    request: z.strictObject({ group: z.string(), idleMs: z.number() }),
    reply: pruneReplySchema,
  },
} as const;

/** The name of a ledger script (a Lua file `lua/<name>-<numKeys>.lua`). */
export type ScriptName = keyof typeof SCRIPT_TABLE;
type Row<N extends ScriptName> = (typeof SCRIPT_TABLE)[N];
/** What a script's keys are built from: a customer id, a campaign id, a partition, or nothing. */
export type ScriptKeys<N extends ScriptName> = Parameters<Row<N>['keys']>[1];
/** The JSON request a script reads. */
export type ScriptRequest<N extends ScriptName> = z.input<Row<N>['request']>;
/** The reply a script answers, parsed. */
export type ScriptReply<N extends ScriptName> = z.output<Row<N>['reply']>;

/** Whether a name is one of the ledger's scripts. */
export function isScriptName(name: string): name is ScriptName {
  return Object.hasOwn(SCRIPT_TABLE, name);
}
