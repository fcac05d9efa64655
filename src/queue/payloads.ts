import { z } from 'zod';
import { campaignIdSchema, offerIdSchema } from '../ledger/index.ts';

/** Jobs carry ids, not truth: the claim returns the offer as the ledger holds it now. */
export const deliverJobSchema = z.strictObject({
  offerId: offerIdSchema,
  channel: z.enum(['email', 'push']),
  /**
   * The offer's customer, sparing the claim an owner lookup. Not checked as an id here: the claim
   * takes it as a hint only, so a wrong one costs that lookup and never fails the job.
   */
  customerId: z.string().optional(),
  /**
   * The offer's SKU (not personal), so the claim reads its stock before claiming instead of after
   * a first round trip. A hint as well: the claim checks it against the offer.
   */
  sku: z.string().optional(),
});

/**
 * What a delivery or retraction job keeps once its customer is erased: the offer id and channel
 * (which name no one once the offer is gone), never the customer id.
 */
export function erasedJobData(data: unknown): { offerId: unknown; channel: unknown } {
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  return { offerId: fields['offerId'], channel: fields['channel'] };
}

export const retractJobSchema = z.strictObject({
  offerId: offerIdSchema,
  channel: z.enum(['push']),
});

export const timerJobSchema = z.strictObject({
  offerId: offerIdSchema,
  kind: z.enum(['activate', 'expire']),
});

/**
 * A campaign's schedule fired (a one-off time, or one cron fire), a resumed run goes on, or a
 * cancelled campaign's open offers end.
 */
export const campaignJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('fire'),
    campaignId: campaignIdSchema,
    scheduleVersion: z.number().int(),
  }),
  z.strictObject({
    kind: z.literal('continue'),
    campaignId: campaignIdSchema,
    run: z.number().int().positive(),
  }),
  z.strictObject({ kind: z.literal('end'), campaignId: campaignIdSchema }),
]);
export type CampaignJob = z.infer<typeof campaignJobSchema>;
