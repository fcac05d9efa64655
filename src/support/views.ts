import { z } from 'zod';
import {
  CHANNELS,
  channelSchema,
  deliveryStateSchema,
  discountSchema,
  offerStateSchema,
  type OfferRecord,
  type Profile,
} from '../ledger/index.ts';

const DAY_MS = 86_400_000;
/** 10000-01-01: from here on `toISOString` writes six-digit years. */
const YEAR_10000_MS = 253_402_300_800_000;
const dayPrefixes = new Map<number, string>();
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, several times faster: the banner read writes three instants per
 * answer. The date part is kept per day (a bounded map); an instant outside 1970–9999 or not a
 * whole millisecond goes to `toISOString` itself.
 */
export function iso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 1024) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const fraction = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
  return `${prefix}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${fraction}Z`;
}

/**
 * An offer as support and operators read it, from the API and the command line: its terms and
 * state with instants as ISO 8601, and how each channel's delivery went.
 */
export const supportOfferViewSchema = z.object({
  offerId: z.string(),
  customerId: z.string(),
  slot: z.string(),
  title: z.string(),
  body: z.string(),
  code: z.string().nullable(),
  discount: discountSchema,
  sku: z.string().nullable(),
  category: z.string().nullable(),
  channels: z.array(channelSchema),
  validFrom: z.string(),
  validUntil: z.string(),
  priority: z.number(),
  campaignId: z.string().nullable(),
  state: offerStateSchema,
  version: z.number(),
  createdAt: z.string(),
  endedAt: z.string().optional(),
  endReason: z.string().optional(),
  supersededBy: z.string().optional(),
  deliveries: z.record(
    z.string(),
    z.object({
      state: deliveryStateSchema,
      reason: z.string().optional(),
      attempts: z.number(),
      sentAt: z.string().optional(),
      retraction: z.string().optional(),
    }),
  ),
});
/** What {@link supportOfferView} returns; the API answers it for every offer. */
export type SupportOfferView = z.infer<typeof supportOfferViewSchema>;

/** The live offer as the website sees it: its terms, not how the other channels are doing. */
export const liveOfferViewSchema = supportOfferViewSchema.omit({ deliveries: true });
export type LiveOfferView = z.infer<typeof liveOfferViewSchema>;

/** The offer's terms (no deliveries): the banner's answer, built once per read. */
export function liveOfferView(offer: OfferRecord): LiveOfferView {
  const view: LiveOfferView = {
    offerId: offer.offerId,
    customerId: offer.customerId,
    slot: offer.slot,
    title: offer.title,
    body: offer.body,
    code: offer.code ?? null,
    discount: offer.discount,
    sku: offer.sku ?? null,
    category: offer.category ?? null,
    channels: offer.channels,
    validFrom: iso(offer.validFrom),
    validUntil: iso(offer.validUntil),
    priority: offer.priority,
    campaignId: offer.campaignId ?? null,
    state: offer.state,
    version: offer.version,
    createdAt: iso(offer.createdAt),
  };
  if (offer.endedAt !== undefined) view.endedAt = iso(offer.endedAt);
  if (offer.endReason !== undefined) view.endReason = offer.endReason;
  if (offer.supersededBy !== undefined) view.supersededBy = offer.supersededBy;
  return view;
}

/** True when an If-None-Match header (a list, weak or strong, or `*`) matches the ETag. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === strip(etag));
}

/** The {@link SupportOfferView} of an offer: every channel it names that has a delivery record. */
export function supportOfferView(offer: OfferRecord): SupportOfferView {
  const deliveries: SupportOfferView['deliveries'] = {};
  for (const channel of CHANNELS) {
    const d = offer.deliveries[channel];
    if (!d) continue;
    deliveries[channel] = {
      state: d.state,
      attempts: d.attempts,
      ...(d.reason === undefined ? {} : { reason: d.reason }),
      ...(d.sentAt === undefined ? {} : { sentAt: iso(d.sentAt) }),
      ...(d.retraction === undefined ? {} : { retraction: d.retraction }),
    };
  }
  return { ...liveOfferView(offer), deliveries };
}

/** A profile as the API answers it: consent with ISO times. */
export function profileView(profile: Profile) {
  const consent: Record<
    string,
    { granted: boolean; at: string; source: string; recordedAt: string; byCustomer?: true }
  > = {};
  for (const [channel, record] of Object.entries(profile.consent)) {
    consent[channel] = {
      granted: record.granted,
      at: iso(record.at),
      source: record.source,
      recordedAt: iso(record.recordedAt),
      ...(record.byCustomer ? { byCustomer: true as const } : {}),
    };
  }
  return {
    ...profile,
    consent,
    ...(profile.createdAt === undefined ? {} : { createdAt: iso(profile.createdAt) }),
    ...(profile.updatedAt === undefined ? {} : { updatedAt: iso(profile.updatedAt) }),
  };
}
