import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { addDuration, isoInstantSchema, parseIsoDuration } from '../time.ts';
import {
  customerIdSchema,
  issueOfferInputSchema,
  slotPolicySchema,
  slotSchema,
  storedCustomerIdSchema,
  timeZoneSchema,
} from '../ledger/index.ts';
import { campaignGuardrailsSchema, guardrailWindowMs } from './guardrails.ts';

const DAY_MS = 24 * 3_600_000;
/**
 * An ISO 8601 duration of weeks to seconds, from 1 second up to `max`. Years and months are
 * refused: every offer of a campaign should be valid exactly as long as the others.
 */
const duration = (max: number, label: string) =>
  z.string().refine((text) => {
    const parts = parseIsoDuration(text);
    if (!parts || parts.years !== 0 || parts.months !== 0) return false;
    const length = addDuration(0, parts);
    return length >= 1000 && length <= max;
  }, `expected an ISO 8601 duration (weeks to seconds, e.g. P7D or PT12H) from 1 second to ${label}`);

const offerShape = issueOfferInputSchema.shape;

/** The offer a campaign issues to each customer of its audience. */
export const campaignOfferSchema = z
  .strictObject({
    title: offerShape.title,
    body: offerShape.body,
    code: offerShape.code,
    discount: offerShape.discount,
    sku: offerShape.sku,
    category: offerShape.category,
    /** Counted from the moment each offer is issued. */
    validFor: duration(366 * DAY_MS, '366 days').optional(),
    validUntil: isoInstantSchema.optional(),
  })
  .refine((offer) => (offer.validFor === undefined) !== (offer.validUntil === undefined), {
    error: 'give exactly one of validFor (a duration) and validUntil (a time)',
  });

/**
 * What an erased customer's place in a stored audience holds: no id, and not one either (ids
 * start alphanumeric), so positions (and a run's cursor) stay as they were and runs skip it.
 */
export const ERASED_MEMBER = '~erased';

const distinct = (ids: readonly string[]) => {
  const named = ids.filter((id) => id !== ERASED_MEMBER);
  return new Set(named).size === named.length;
};

/** Customers named one by one; they are issued their offers in this order. */
export const audienceSchema = z.strictObject({
  customerIds: z.array(customerIdSchema).min(1).max(100_000).refine(distinct, 'customerIds must not repeat'),
});

/**
 * An audience as stored: ids written by earlier versions (which allowed `@`) and the places of
 * erased customers still read.
 */
export const storedAudienceSchema = z.strictObject({
  customerIds: z
    .array(z.union([storedCustomerIdSchema, z.literal(ERASED_MEMBER)]))
    .min(1)
    .max(100_000)
    .refine(distinct, 'customerIds must not repeat'),
});

/**
 * A campaign as a marketer writes it (docs/API.md, "A campaign definition"). The stored definition is exactly this
 * (defaults filled in), so what was approved is what runs.
 */
export const campaignDefinitionSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slot: slotSchema.default('promo'),
  offer: campaignOfferSchema,
  channels: offerShape.channels,
  audience: audienceSchema,
  priority: z.number().int().min(-1000).max(1000).default(0),
  /** The slot policy for its offers; the slot's own policy when absent. */
  policy: slotPolicySchema.optional(),
  /**
   * Customers kept out to measure the campaign against, chosen from (campaign, customer) so the
   * same customer is always in or out.
   */
  holdout: z.strictObject({ percent: z.number().min(0).max(50) }).optional(),
  /** How long a delivery may be held back (state uncertain) before it is skipped. */
  holdFor: duration(30 * DAY_MS, '30 days').optional(),
  /**
   * The deployment's guardrails this campaign changes: tighter freely, looser only when named in
   * `loosen` (checked against the deployment when the campaign is stored).
   */
  guardrails: campaignGuardrailsSchema.optional(),
});
/** A definition as stored: what was approved, with legacy ids and erased places readable. */
export const storedCampaignDefinitionSchema = campaignDefinitionSchema.extend({
  audience: storedAudienceSchema,
});
export type CampaignDefinition = z.infer<typeof storedCampaignDefinitionSchema>;
export type CampaignDefinitionInput = z.input<typeof campaignDefinitionSchema>;

/**
 * How long the campaign's deliveries may be held, from `holdFor` or `guardrails.holdFor` (the same
 * setting in two places: a campaign that gives both with different lengths is refused).
 */
export function holdForOf(
  definition: Pick<CampaignDefinition, 'holdFor' | 'guardrails'>,
): string | undefined {
  return definition.guardrails?.holdFor ?? definition.holdFor;
}

/** Why the campaign's two `holdFor` cannot both hold, or undefined. */
export function holdForConflict(
  definition: Pick<CampaignDefinition, 'holdFor' | 'guardrails'>,
): string | undefined {
  const top = definition.holdFor;
  const inGuardrails = definition.guardrails?.holdFor;
  if (top === undefined || inGuardrails === undefined) return undefined;
  if (guardrailWindowMs(top) === guardrailWindowMs(inGuardrails)) return undefined;
  return `guardrails.holdFor (${inGuardrails}) and holdFor (${top}) differ: give one of them`;
}

/** `{}` (now), `{ at }`, or `{ cron, timezone? }`: the body of `POST /v1/campaigns/:id/schedule`. */
export const scheduleRequestSchema = z.union([
  z.strictObject({ at: isoInstantSchema.optional() }),
  z
    .strictObject({ cron: z.string().min(1).max(120), timezone: timeZoneSchema.optional() })
    .refine((value) => cronError(value.cron, value.timezone) === undefined, {
      error: 'expected a cron pattern (5 fields, or 6 with seconds first)',
      path: ['cron'],
    }),
]);
/** A schedule as stored: one run at a time, or one run per cron fire. */
export type StoredSchedule =
  | { readonly kind: 'once'; readonly at: number }
  | { readonly kind: 'cron'; readonly cron: string; readonly timezone: string };

export const storedScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('once'), at: z.number() }),
  z.object({ kind: z.literal('cron'), cron: z.string(), timezone: z.string() }),
]);

function cronError(pattern: string, timezone: string | undefined): string | undefined {
  const fields = pattern.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) return 'expected 5 or 6 fields';
  try {
    CronExpressionParser.parse(pattern, { tz: timezone ?? 'UTC', strict: false }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
