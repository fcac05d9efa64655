import { z } from 'zod';

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

/** What happens when a new offer contradicts a live one . */
export const slotPolicySchema = z.enum(['replace', 'reject', 'queue']);
export type SlotPolicy = z.infer<typeof slotPolicySchema>;

/** Text of at most `max` characters, without NUL (Lua strings and logs would cut it). */
export const boundedText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'NUL is not allowed');

/** Epoch milliseconds; capped so Lua's number formatting (14 significant digits) keeps them exact. */
const epochMs = z.number().int().min(0).max(9_999_999_999_999);

/** Whether a customer has bought before (`returning`) or not (`new`), from their purchases. */
export const lifecycleSchema = z.enum(['new', 'returning']);
export type Lifecycle = z.infer<typeof lifecycleSchema>;

/** An offer as a use case asks the ledger to issue it. Times are epoch milliseconds. */
export const issueOfferInputSchema = z.strictObject({
  customerId: customerIdSchema,
  slot: slotSchema.default('promo'),
  title: boundedText(200).min(1),
  body: boundedText(2000).default(''),
  code: boundedText(64).min(1).optional(),
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
