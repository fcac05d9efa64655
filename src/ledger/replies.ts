import { z } from 'zod';
import { consentRefusalSchema, luaList, QUEUED_CHANNELS, scriptErrorSchema } from './schemas.ts';

// What the ledger's scripts answer. Every schema here is built once: zod compiles a parser on a
// schema's first use, so a schema built per call is compiled per call.

export {
  campaignReplySchema,
  claimReplySchema,
  deliveryReplySchema,
  issueReplySchema,
  offerReplySchema,
  offersReplySchema,
  profileReplySchema,
  retractionStartSchema,
} from './schemas.ts';

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
