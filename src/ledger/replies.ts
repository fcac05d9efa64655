import { z } from 'zod';
import { fieldRecord } from './canonical.ts';
import { consentRefusalSchema } from './profile-schemas.ts';
import {
  bannerMissReasonSchema,
  claimHoldReasonSchema,
  claimSkipReasonSchema,
  issueRefusalReasonSchema,
  reportedDeliveryReasonSchema,
  retractionStartFailureSchema,
} from './reasons.ts';
import { channelSchema, deliveryStateSchema, offerRecordSchema, QUEUED_CHANNELS } from './schemas.ts';

// What the ledger's scripts answer. Every schema here is built once: zod compiles a parser on a
// schema's first use, so a schema built per call is compiled per call.

/** Lua's cjson encodes an empty list as `{}`; this reads either as a list. */
export function luaList<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0
        ? []
        : value,
    z.array(item),
  );
}

export const scriptErrorSchema = z.object({
  result: z.literal('error'),
  code: z.enum(['invalid_input', 'not_found', 'conflict', 'forbidden', 'in_the_future', 'open_offer_limit', 'guardrail']),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  now: z.number().optional(),
});

export const issueReplySchema = z.discriminatedUnion('result', [
  z.object({
    result: z.enum(['issued', 'duplicate']),
    offer: offerRecordSchema,
    superseded: luaList(z.string()),
    now: z.number(),
  }),
  z.object({ result: z.literal('rejected'), conflicting: luaList(z.string()), now: z.number() }),
  /** A dry run: the first rule (or the open-offer cap) that would refuse, and the slot's live offer. */
  z.object({
    result: z.literal('checked'),
    refusal: z.union([issueRefusalReasonSchema, z.literal('open_offer_limit')]).nullable(),
    slotLive: z.object({ offerId: z.string(), priority: z.number() }).nullable(),
    now: z.number(),
  }),
  scriptErrorSchema,
]);

export const offerReplySchema = z.discriminatedUnion('result', [
  z.object({
    result: z.enum(['ended', 'unchanged', 'settled']),
    offer: offerRecordSchema,
    superseded: luaList(z.string()).default([]),
    now: z.number(),
  }),
  scriptErrorSchema,
]);

const recipientSchema = z.object({
  address: z.string(),
  name: z.string().optional(),
  locale: z.string().optional(),
  timezone: z.string().optional(),
});
export type Recipient = z.infer<typeof recipientSchema>;

/** A claim's GO carries the offer's terms as the ledger holds them now; its `deliveries` are left out (empty). */
export const claimReplySchema = z.discriminatedUnion('answer', [
  z.object({
    answer: z.literal('go'),
    token: z.number().int().positive(),
    leaseUntil: z.number(),
    offer: offerRecordSchema,
    recipient: recipientSchema,
    now: z.number(),
  }),
  z.object({ answer: z.literal('skip'), reason: claimSkipReasonSchema, now: z.number() }),
  z.object({
    answer: z.literal('hold'),
    reason: claimHoldReasonSchema,
    retryAt: z.number(),
    now: z.number(),
  }),
  /** The facts passed were not about the offer's SKU or the customer's time zone: read these. */
  z.object({
    answer: z.literal('recheck'),
    sku: z.string().nullable(),
    timezone: z.string().nullable(),
    now: z.number(),
  }),
]);
/** What a claim decides (a `recheck` never leaves the ledger: it reads the facts and claims again). */
export type ClaimAnswer = Exclude<z.infer<typeof claimReplySchema>, { answer: 'recheck' }>;

/** beginRetraction: send the retraction now (the slot's newer messages wait for it), or why not. */
export const retractionStartSchema = z.discriminatedUnion('answer', [
  z.object({
    answer: z.literal('go'),
    offer: offerRecordSchema,
    recipient: recipientSchema,
    leaseUntil: z.number(),
    now: z.number(),
  }),
  z.object({ answer: z.literal('replaced'), by: z.string(), now: z.number() }),
  z.object({ answer: z.literal('failed'), reason: retractionStartFailureSchema, now: z.number() }),
  z.object({ answer: z.literal('not_due'), now: z.number() }),
]);
export type RetractionStart = z.infer<typeof retractionStartSchema>;

const deliverySummarySchema = z.object({
  state: deliveryStateSchema,
  // Copied from the stored delivery, which an earlier version or a support note may have written.
  reason: reportedDeliveryReasonSchema.optional(),
  attempts: z.number().int(),
});

export const deliveryReplySchema = z.discriminatedUnion('result', [
  z.object({
    result: z.enum(['confirmed', 'unchanged', 'stale', 'held', 'expired', 'resolved', 'retracted']),
    delivery: deliverySummarySchema,
    retract: z.boolean().optional(),
    now: z.number(),
  }),
  scriptErrorSchema,
]);
export type DeliveryReply = Exclude<z.infer<typeof deliveryReplySchema>, { result: 'error' }>;

/** The banner read: the live offer's terms (`deliveries` left out, empty), or why none is shown. */
export const liveReplySchema = z.object({
  offer: offerRecordSchema.optional(),
  reason: bannerMissReasonSchema.optional(),
  now: z.number(),
});

export const offersReplySchema = z.object({ offers: luaList(offerRecordSchema) });

export const profileReplySchema = z.object({
  result: z.enum(['updated', 'unchanged']),
  changed: luaList(z.string()),
  kept: luaList(z.object({ channel: channelSchema, reason: consentRefusalSchema })),
  now: z.number(),
});

/** A campaign's stored fields, as `updateCampaign` answers them (flat HGETALL pairs). */
export const campaignFieldsSchema = luaList(z.string()).transform((pairs) => fieldRecord(pairs));

export const campaignReplySchema = z.union([
  z.object({
    result: z.enum(['ok', 'unchanged', 'ignored', 'stale']),
    reason: z.string().optional(),
    run: z.number().int().optional(),
    cursor: z.number().int().optional(),
    fields: campaignFieldsSchema,
    now: z.number(),
  }),
  scriptErrorSchema,
]);
export type CampaignReply = Exclude<z.infer<typeof campaignReplySchema>, { result: 'error' }>;

/** eraseCustomer: what was deleted, with what names each offer's jobs. */
export const eraseReplySchema = z.object({
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

export const campaignEraseReplySchema = z.object({
  result: z.enum(['ok', 'changed', 'not_found']),
  replaced: z.boolean(),
  outcomes: z.number(),
});

export const eventReplySchema = z.union([
  z.object({
    result: z.enum(['stored', 'duplicate']),
    cancelled: luaList(z.string()),
    consent: z.enum(['applied', 'unchanged']).or(consentRefusalSchema).optional(),
    now: z.number(),
  }),
  scriptErrorSchema,
]);

export const stockReplySchema = z.union([
  z.object({
    result: z.enum(['stored', 'duplicate']),
    changed: z.boolean(),
    now: z.number(),
  }),
  scriptErrorSchema,
]);

export const watermarkReplySchema = z.union([
  z.object({ watermark: z.number(), now: z.number() }),
  scriptErrorSchema,
]);

/** readLiveDocument's reply: Redis TIME (seconds, microseconds), the live document, the web consent. */
export const liveDocumentReplySchema = z.tuple([
  z.instanceof(Buffer),
  z.instanceof(Buffer),
  z.instanceof(Buffer).nullable(),
  z.instanceof(Buffer).nullable(),
]);

/** A bookkeeping script's answer: `changed` when it wrote something. */
export const indexReplySchema = z.object({ result: z.enum(['changed', 'unchanged']) });

/** pruneOutboxConsumers: how many idle consumers without pending entries it removed. */
export const pruneReplySchema = z.object({ removed: z.number().int().nonnegative() });

/** A stock state as the ledger keeps it per SKU. */
export const stockStateSchema = z.object({
  inStock: z.boolean(),
  quantity: z.number().optional(),
  at: z.number(),
});
