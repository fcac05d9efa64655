import { z } from 'zod';
import { offerIdSchema } from '../ledger/index.ts';

/** Jobs carry ids, not truth: the claim returns the offer as the ledger holds it now. */
export const deliverJobSchema = z.strictObject({
  offerId: offerIdSchema,
  channel: z.enum(['email', 'push']),
});
export type DeliverJob = z.infer<typeof deliverJobSchema>;

export const retractJobSchema = z.strictObject({
  offerId: offerIdSchema,
  channel: z.enum(['push']),
});
export type RetractJob = z.infer<typeof retractJobSchema>;

export const timerJobSchema = z.strictObject({
  offerId: offerIdSchema,
  kind: z.enum(['activate', 'expire']),
});
export type TimerJob = z.infer<typeof timerJobSchema>;
