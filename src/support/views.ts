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

const iso = (ms: number) => new Date(ms).toISOString();

/** An offer as the API answers it (API.md "An offer"). */
export const offerViewSchema = z.object({
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
export type OfferView = z.infer<typeof offerViewSchema>;

/** The live offer as the website sees it: its terms, not how the other channels are doing. */
export const liveOfferViewSchema = offerViewSchema.omit({ deliveries: true });
export type LiveOfferView = z.infer<typeof liveOfferViewSchema>;

export function liveOfferView(offer: OfferRecord): LiveOfferView {
  const { deliveries: _deliveries, ...terms } = offerView(offer);
  return terms;
}

/** True when an If-None-Match header (a list, weak or strong, or `*`) matches the ETag. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === strip(etag));
}

export function offerView(offer: OfferRecord): OfferView {
  const deliveries: OfferView['deliveries'] = {};
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
  return {
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
    ...(offer.endedAt === undefined ? {} : { endedAt: iso(offer.endedAt) }),
    ...(offer.endReason === undefined ? {} : { endReason: offer.endReason }),
    ...(offer.supersededBy === undefined ? {} : { supersededBy: offer.supersededBy }),
    deliveries,
  };
}

/** A profile as the API answers it: consent with ISO times. */
export function profileView(profile: Profile) {
  const consent: Record<string, { granted: boolean; at: string; source: string }> = {};
  for (const [channel, record] of Object.entries(profile.consent)) {
    consent[channel] = { granted: record.granted, at: iso(record.at), source: record.source };
  }
  return {
    ...profile,
    consent,
    ...(profile.createdAt === undefined ? {} : { createdAt: iso(profile.createdAt) }),
    ...(profile.updatedAt === undefined ? {} : { updatedAt: iso(profile.updatedAt) }),
  };
}
