import { z } from 'zod';
import {
  bannerMissReasonSchema,
  claimHoldReasonSchema,
  claimSkipReasonSchema,
  reportedDeliveryReasonSchema,
  retractionStartFailureSchema,
} from './reasons.ts';

/** The channels an offer can be delivered on. */
export const CHANNELS = ['email', 'push', 'web'] as const;
export const channelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof channelSchema>;

/** Channels sent through a queue (the web banner reads the ledger instead). */
export const QUEUED_CHANNELS = ['email', 'push'] as const satisfies readonly Channel[];
export type QueuedChannel = (typeof QUEUED_CHANNELS)[number];

/**
 * A customer id as a new record may name it: an opaque id, never an email address (`@` is
 * refused), so keys, job data and audit trails do not carry contact details.
 */
export const customerIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,127}$/,
    'expected 1 to 128 of A-Z a-z 0-9 _ . : + -, starting alphanumeric (no email addresses)',
  );
/**
 * A customer id as earlier versions stored it (`@` allowed): reads and erasure still reach
 * such customers; nothing new is written under one.
 */
export const storedCustomerIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/,
    'expected 1 to 128 of A-Z a-z 0-9 _ . : @ + -, starting alphanumeric',
  );
export const slotSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'expected 1 to 32 of a-z 0-9 _ -');
/** SKUs, categories and campaign ids end up in index members separated by `|`, so `|` is excluded. */
const referenceSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,63}$/, 'expected 1 to 64 of A-Z a-z 0-9 _ . : / + -');
export const skuSchema = referenceSchema;
export const categorySchema = referenceSchema;
export const campaignIdSchema = referenceSchema;
export const offerIdSchema = z.string().regex(/^o\d{2,4}-[0-9A-HJKMNP-TV-Z]{26}$/, 'expected an offer id');

export const discountSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('percent'), value: z.number().gt(0).lte(100) }),
  z.strictObject({
    kind: z.literal('amount'),
    value: z.number().gt(0).lte(1_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code'),
  }),
  z.strictObject({ kind: z.literal('free_shipping') }),
]);
export type Discount = z.infer<typeof discountSchema>;

/** What happens when a new offer contradicts a live one (DESIGN.md, Contradictions). */
export const slotPolicySchema = z.enum(['replace', 'reject', 'queue']);
export type SlotPolicy = z.infer<typeof slotPolicySchema>;

const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'NUL is not allowed');

/** Epoch milliseconds; capped so Lua's number formatting (14 significant digits) keeps them exact. */
const epochMs = z.number().int().min(0).max(9_999_999_999_999);

/** An offer as a use case asks the ledger to issue it. Times are epoch milliseconds. */
export const issueOfferInputSchema = z.strictObject({
  customerId: customerIdSchema,
  slot: slotSchema.default('promo'),
  title: text(200).min(1),
  body: text(2000).default(''),
  code: text(64).min(1).optional(),
  discount: discountSchema,
  sku: skuSchema.optional(),
  category: categorySchema.optional(),
  channels: z
    .array(channelSchema)
    .min(1)
    .refine((list) => new Set(list).size === list.length, 'channels must not repeat'),
  validFrom: epochMs.optional(),
  validUntil: epochMs,
  priority: z.number().int().min(-1000).max(1000).default(0),
  campaignId: campaignIdSchema.optional(),
  policy: slotPolicySchema.optional(),
  holdDeadline: epochMs.optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});
export type IssueOfferInput = z.input<typeof issueOfferInputSchema>;

export const OFFER_STATES = ['pending', 'active', 'redeemed', 'expired', 'cancelled', 'superseded'] as const;
export const offerStateSchema = z.enum(OFFER_STATES);

export const DELIVERY_STATES = [
  'scheduled',
  'held',
  'sending',
  'sent',
  'skipped',
  'cancelled',
  'failed',
  'unknown',
] as const;
export const deliveryStateSchema = z.enum(DELIVERY_STATES);
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

/** One (offer, channel) as the ledger stores it. */
export const deliveryRecordSchema = z.object({
  state: deliveryStateSchema,
  reason: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  token: z.number().int().optional(),
  claimId: z.string().optional(),
  leaseUntil: z.number().optional(),
  retryAt: z.number().optional(),
  sentAt: z.number().optional(),
  retraction: z.enum(['due', 'done', 'failed']).optional(),
});

/** An offer as the ledger stores it (the snapshot a claim hands to a channel). */
export const offerRecordSchema = z.object({
  offerId: offerIdSchema,
  customerId: z.string(),
  slot: z.string(),
  title: z.string(),
  body: z.string(),
  code: z.string().optional(),
  discount: discountSchema,
  sku: z.string().optional(),
  category: z.string().optional(),
  channels: z.array(channelSchema).min(1),
  validFrom: z.number(),
  validUntil: z.number(),
  priority: z.number().int(),
  campaignId: z.string().optional(),
  policy: slotPolicySchema,
  holdDeadline: z.number().optional(),
  state: offerStateSchema,
  version: z.number().int().positive(),
  createdAt: z.number(),
  updatedAt: z.number(),
  activatedAt: z.number().optional(),
  endedAt: z.number().optional(),
  endReason: z.string().optional(),
  supersededBy: z.string().optional(),
  queued: z.boolean().optional(),
  deliveries: z.partialRecord(channelSchema, deliveryRecordSchema),
});
export type OfferRecord = z.infer<typeof offerRecordSchema>;

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
  code: z.enum(['invalid_input', 'not_found', 'conflict', 'forbidden', 'in_the_future', 'open_offer_limit']),
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
]);
export type ClaimAnswer = z.infer<typeof claimReplySchema>;

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

/** Why a consent change was not applied (see lua/includes/consent.lua). */
export const consentRefusalSchema = z.enum(['older_than_last_change', 'customer_unsubscribed']);
export type ConsentRefusal = z.infer<typeof consentRefusalSchema>;

export const profileReplySchema = z.object({
  result: z.enum(['updated', 'unchanged']),
  changed: luaList(z.string()),
  kept: luaList(z.object({ channel: channelSchema, reason: consentRefusalSchema })),
  now: z.number(),
});

/** Consent for one channel, with when and from where it was last changed. */
export const consentRecordSchema = z
  .object({
    granted: z.boolean(),
    /** When it was decided: the event's own time, or the ledger clock for a direct change. */
    at: z.number(),
    source: z.string(),
    /** When the ledger wrote it; absent in records written before it was kept. */
    recordedAt: z.number().optional(),
    /** The customer's own one-click unsubscribe, which only the customer lifts. */
    byCustomer: z.boolean().optional(),
    /** Earlier event records: `at` was the write, `eventAt` the decision. */
    eventAt: z.number().optional(),
  })
  .transform(({ granted, at, source, recordedAt, byCustomer, eventAt }) => ({
    granted,
    at: recordedAt === undefined ? (eventAt ?? at) : at,
    source,
    recordedAt: recordedAt ?? at,
    byCustomer: byCustomer ?? (recordedAt === undefined && !granted && source === 'one-click-unsubscribe'),
  }));
export type ConsentRecord = z.infer<typeof consentRecordSchema>;

/** An IANA time zone this runtime knows (`Europe/Paris`). */
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'expected an IANA time zone');

/**
 * A Web Push endpoint: an https URL (no credentials) of at most 1024 characters. It is the one
 * URL a customer's data makes Concord connect to, so the channel checks it again at send time
 * (public address, port 443, `CONCORD_PUSH_HOSTS`).
 */
export const webPushEndpointSchema = z
  .url({ protocol: /^https$/, hostname: z.regexes.hostname, error: 'expected an https:// URL' })
  .max(1024)
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'expected a URL without credentials');

/** A browser's PushSubscription as JSON (what a Web Push recipient's address holds); other keys are dropped. */
export const webPushSubscriptionSchema = z.object({
  endpoint: webPushEndpointSchema,
  keys: z.object({ p256dh: z.string().min(1).max(200), auth: z.string().min(1).max(200) }),
});

/**
 * A profile's push address: a PushSubscription as JSON for Web Push (anything starting with `{`
 * must be one, with an https endpoint), else an opaque device token the HTTP provider receives
 * as `to` — data in a request body, never a URL Concord connects to.
 */
export const pushEndpointSchema = z
  .string()
  .min(1)
  .max(2048)
  .refine(
    // JSON's own whitespace (tab, line feed, carriage return) may stay; other control characters may not.
    (value) => !/\p{Cc}/u.test(value.replace(/[\t\n\r]/g, '')),
    'expected no control characters',
  )
  .superRefine((value, ctx) => {
    if (!value.trimStart().startsWith('{')) return;
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a PushSubscription as JSON' });
      return;
    }
    const parsed = webPushSubscriptionSchema.safeParse(json);
    for (const issue of parsed.error?.issues ?? []) {
      ctx.addIssue({ code: 'custom', message: `PushSubscription ${issue.path.join('.')}: ${issue.message}` });
    }
  });

/** A profile as a use case writes it (every field optional: an upsert). */
export const profilePatchSchema = z.strictObject({
  email: z.email().max(254).optional(),
  pushEndpoint: pushEndpointSchema.optional(),
  timezone: timeZoneSchema.optional(),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a BCP 47 language tag')
    .optional(),
  name: text(200).optional(),
  attributes: z
    .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean()]))
    .optional(),
  consent: z
    .strictObject({
      email: z.boolean().optional(),
      push: z.boolean().optional(),
      web: z.boolean().optional(),
    })
    .optional(),
  sensitiveOptIns: z.array(categorySchema).max(100).optional(),
});
export type ProfilePatch = z.input<typeof profilePatchSchema>;

/** A profile as the ledger stores it. */
export interface Profile {
  customerId: string;
  email?: string;
  pushEndpoint?: string;
  timezone?: string;
  locale?: string;
  name?: string;
  attributes: Record<string, string | number | boolean>;
  consent: Partial<Record<Channel, ConsentRecord>>;
  sensitiveOptIns: string[];
  createdAt?: number;
  updatedAt?: number;
}

/** One entry of a customer's history. */
/** A history entry id (`<ms>-<seq>`), the cursor of history pages. */
export const historyEntryIdSchema = z
  .string()
  .regex(/^\d{1,15}-\d{1,15}$/, 'expected a history entry id, e.g. 1767225600000-0');

/** How much of a history to read: `limit` entries (at most 500) older than the entry `before`. */
export const historyPageSchema = z.strictObject({
  limit: z.number().int().min(1).max(500),
  before: historyEntryIdSchema.optional(),
});

export const historyEntrySchema = z.object({
  id: z.string(),
  at: z.coerce.number(),
  actor: z.string(),
  action: z.string(),
  offer: z.string().optional(),
  slot: z.string().optional(),
  channel: z.string().optional(),
  state: z.string().optional(),
  version: z.coerce.number().optional(),
  attempt: z.coerce.number().optional(),
  reason: z.string().optional(),
  detail: z
    .string()
    .transform((raw) => JSON.parse(raw) as unknown)
    .optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** One effect in a partition's outbox, as the relay turns it into a job. */
export const outboxEntrySchema = z.object({
  id: z.string(),
  kind: z.enum(['deliver', 'retract', 'activate-at', 'expire-at']),
  offerId: offerIdSchema,
  customerId: z.string(),
  channel: z.union([channelSchema, z.literal('')]),
  version: z.coerce.number().int(),
  attempt: z.coerce.number().int().default(0),
  at: z.coerce.number(),
});
export type OutboxEntry =
  | z.infer<typeof outboxEntrySchema>
  | { readonly kind: 'unreadable'; readonly id: string; readonly fields: Readonly<Record<string, string>> };

const eventBase = {
  eventId: z.string().min(1).max(200),
  at: z.number().int().min(0).max(9_999_999_999_999),
  source: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'expected 1 to 64 of A-Z a-z 0-9 _ . : -'),
};

/** A first-party event about one customer, as the ledger records it (times in epoch ms). */
export const customerEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...eventBase,
    type: z.enum(['purchase', 'return']),
    customerId: customerIdSchema,
    sku: skuSchema,
    category: categorySchema.optional(),
    orderId: z.string().max(200).optional(),
    amount: z.number().nonnegative().optional(),
  }),
  z.strictObject({
    ...eventBase,
    type: z.enum(['cart', 'view']),
    customerId: customerIdSchema,
    sku: skuSchema.optional(),
    category: categorySchema.optional(),
  }),
  z.strictObject({
    ...eventBase,
    type: z.literal('consent'),
    customerId: customerIdSchema,
    channel: channelSchema,
    granted: z.boolean(),
    /**
     * The customer made this choice themselves (a preference centre, a sign-up form). Only such a
     * grant lifts the customer's own unsubscribe; a feed syncing another system's state does not.
     */
    byCustomer: z.boolean().optional(),
  }),
]);
export type CustomerEvent = z.infer<typeof customerEventSchema>;

/** A stock event for a SKU. */
export const stockEventSchema = z.strictObject({
  ...eventBase,
  type: z.literal('stock'),
  sku: skuSchema,
  inStock: z.boolean(),
  quantity: z.number().int().nonnegative().optional(),
});
export type StockEvent = z.infer<typeof stockEventSchema>;

/** A campaign's stored fields, as `updateCampaign` answers them (flat HGETALL pairs). */
export const campaignFieldsSchema = luaList(z.string()).transform((pairs) => {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i] ?? ''] = pairs[i + 1] ?? '';
  return fields;
});

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
