import { z } from 'zod';
import { categorySchema, channelSchema, customerIdSchema, offerIdSchema, skuSchema } from './schemas.ts';

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
  /**
   * The offer's SKU on a delivery, when the offer has one: not personal, it lets the claim read
   * the SKU's stock before it claims.
   */
  sku: z.string().optional(),
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
