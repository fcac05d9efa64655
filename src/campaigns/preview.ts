import { z } from 'zod';
import { offerView, pushPayload, renderBanner, type SendContext } from '../channels/index.ts';
import { defaultTemplates, type TemplateRenderer } from '../channels/templates.ts';
import {
  ISSUE_REFUSAL_REASONS,
  type Channel,
  type Ledger,
  type OfferRecord,
  type Profile,
} from '../ledger/index.ts';
import { inHoldout, mapConcurrent } from './audience.ts';
import { ERASED_MEMBER } from './definition.ts';
import type { Campaign } from './record.ts';
import { issueOptions, offerFor } from './run.ts';

/** Customers looked at one by one; a bigger audience is previewed on its first ones. */
export const PREVIEW_LIMIT = 5_000;
const READS_IN_FLIGHT = 16;

/** What would happen to one customer if the campaign ran now: the run's outcomes, by the same names. */
const CUSTOMER_OUTCOMES = [
  'would_issue',
  'would_replace',
  'would_queue',
  'outranked',
  'slot_taken',
  'holdout',
  /** No profile here, or a guardrail would refuse the offer: a run skips the customer for it. */
  ...ISSUE_REFUSAL_REASONS,
  /** The customer already holds as many open offers as the ledger allows: a run would skip them. */
  'open_offer_limit',
  /** The place of an erased customer: a run skips it. */
  'erased',
] as const;
type CustomerOutcome = (typeof CUSTOMER_OUTCOMES)[number];

/** Whether a channel could reach one customer who would be issued the offer. */
const CHANNEL_OUTCOMES = ['reachable', 'no_consent', 'no_address'] as const;
type ChannelOutcome = (typeof CHANNEL_OUTCOMES)[number];

export const campaignPreviewSchema = z.object({
  audience: z.number(),
  evaluated: z.number(),
  /** True when only the first `evaluated` customers were looked at. */
  partial: z.boolean(),
  customers: z.record(z.string(), z.number()),
  channels: z.record(z.string(), z.record(z.string(), z.number())),
  stock: z.object({ sku: z.string(), inStock: z.boolean().nullable() }).optional(),
  /** The messages as {@link SAMPLE_RECIPIENT} would get them, with unsigned example links. */
  samples: z.object({
    email: z.object({ subject: z.string(), html: z.string(), text: z.string() }).optional(),
    push: z.object({ title: z.string(), body: z.string(), url: z.string() }).optional(),
    web: z.object({ html: z.string() }).optional(),
  }),
});
export type CampaignPreview = z.infer<typeof campaignPreviewSchema>;

/**
 * The made-up customer the samples are rendered for. Marketers preview campaigns but may not read
 * profiles, so no real customer's name, locale, id or signed link appears in a preview.
 */
export const SAMPLE_RECIPIENT = {
  customerId: 'sample-customer',
  name: 'Alex Example',
  timezone: 'UTC',
} as const;
/** Where the samples' links point: a reserved domain (RFC 6761), unsigned, so they open nothing. */
export const SAMPLE_LINK_BASE = 'https://example.invalid';

/**
 * What the campaign would do if it ran now — how many customers it would reach, on which
 * channels, what the guardrails would stop, and the messages rendered for a made-up recipient —
 * from reads only: a preview changes nothing. The reply holds counts, never a customer id.
 *
 * What counts still tell: the audience is the marketer's own list of ids, and `no_profile` (like
 * every other count) says how many of them have a profile here. Counts are what a preview is for,
 * so that stays; a campaign is stored with its audience under its author's key before it can be
 * previewed, so probing ids one campaign at a time leaves a record of who did it.
 */
export async function previewCampaign(
  ledger: Ledger,
  campaign: Campaign,
  options: { templates?: TemplateRenderer; slotPolicy: (slot: string) => string },
): Promise<CampaignPreview> {
  const { definition } = campaign;
  const audience = definition.audience.customerIds;
  const looked = audience.slice(0, PREVIEW_LIMIT);
  const now = await ledger.now();
  const policy = definition.policy ?? options.slotPolicy(definition.slot);
  const customers = Object.fromEntries(CUSTOMER_OUTCOMES.map((name) => [name, 0])) as Record<
    CustomerOutcome,
    number
  >;
  const channels = Object.fromEntries(
    definition.channels.map((channel) => [
      channel,
      Object.fromEntries(CHANNEL_OUTCOMES.map((name) => [name, 0])),
    ]),
  ) as Partial<Record<Channel, Record<ChannelOutcome, number>>>;

  // The run's own question, asked without writing: the same checks in the same order, so each
  // customer is counted under the reason the run would record for them.
  const checkOptions = issueOptions(ledger, definition);
  const judged = await mapConcurrent(looked, READS_IN_FLIGHT, async (customerId) => {
    if (customerId === ERASED_MEMBER) return { customerId, outcome: 'erased' as const };
    if (inHoldout(campaign.id, customerId, definition.holdout?.percent)) {
      return { customerId, outcome: 'holdout' as const };
    }
    const input = offerFor(campaign.id, definition, campaign.run + 1, customerId, now);
    const verdict = await ledger.offers.check(input, checkOptions);
    if (verdict.result === 'refused') return { customerId, outcome: verdict.reason };
    // The check passed, so the profile exists; its consent and addresses say which channels reach.
    const profile = (await ledger.customers.getProfile(customerId)) ?? undefined;
    return { customerId, profile, outcome: slotOutcome(verdict.slotLive, definition.priority, policy) };
  });

  for (const entry of judged) {
    customers[entry.outcome] += 1;
    if (!entry.profile || entry.outcome === 'outranked' || entry.outcome === 'slot_taken') continue;
    for (const channel of definition.channels) {
      const counts = channels[channel];
      if (counts) counts[reach(entry.profile, channel)] += 1;
    }
  }

  const stock =
    definition.offer.sku === undefined ? undefined : await ledger.signals.stockOf(definition.offer.sku);
  return {
    audience: audience.length,
    evaluated: looked.length,
    partial: looked.length < audience.length,
    customers,
    channels,
    ...(definition.offer.sku === undefined
      ? {}
      : { stock: { sku: definition.offer.sku, inStock: stock?.inStock ?? null } }),
    samples: renderSamples(ledger, campaign, now, options),
  };
}

/** What the slot policy would do with the campaign's offer beside the slot's live offer, if any. */
function slotOutcome(
  live: { readonly priority: number } | null,
  priority: number,
  policy: string,
): CustomerOutcome {
  if (!live) return 'would_issue';
  if (policy === 'reject') return 'slot_taken';
  if (policy === 'queue') return 'would_queue';
  // replace: the higher priority wins, a tie goes to the newer (the campaign's offer).
  return live.priority > priority ? 'outranked' : 'would_replace';
}

function reach(profile: Profile, channel: Channel): ChannelOutcome {
  if (profile.consent[channel]?.granted !== true) return 'no_consent';
  if (channel === 'email' && !profile.email) return 'no_address';
  if (channel === 'push' && !profile.pushEndpoint) return 'no_address';
  return 'reachable';
}

/** The campaign's messages as {@link SAMPLE_RECIPIENT} would get them (a preview id stands for the offer). */
function renderSamples(
  ledger: Ledger,
  campaign: Campaign,
  now: number,
  options: { templates?: TemplateRenderer },
): CampaignPreview['samples'] {
  const templates = options.templates ?? defaultTemplates();
  const { customerId } = SAMPLE_RECIPIENT;
  const input = offerFor(campaign.id, campaign.definition, campaign.run + 1, customerId, now);
  const offerId = ledger.keys.offerIdFor(customerId, '0'.repeat(26));
  const offer: OfferRecord = {
    offerId,
    customerId,
    slot: campaign.definition.slot,
    title: input.title,
    body: input.body ?? '',
    discount: input.discount,
    channels: campaign.definition.channels,
    validFrom: now,
    validUntil: input.validUntil,
    priority: campaign.definition.priority,
    campaignId: campaign.id,
    policy: campaign.definition.policy ?? 'replace',
    state: 'active',
    version: 1,
    createdAt: now,
    updatedAt: now,
    deliveries: {},
    ...(input.code === undefined ? {} : { code: input.code }),
    ...(input.sku === undefined ? {} : { sku: input.sku }),
    ...(input.category === undefined ? {} : { category: input.category }),
  };
  const context = (channel: Channel): SendContext => ({
    offer,
    recipient: { address: '', name: SAMPLE_RECIPIENT.name, timezone: SAMPLE_RECIPIENT.timezone },
    links: {
      offerUrl: `${SAMPLE_LINK_BASE}/o/sample-offer`,
      unsubscribeUrl: `${SAMPLE_LINK_BASE}/unsubscribe?ch=${channel}`,
    },
  });
  const samples: CampaignPreview['samples'] = {};
  for (const channel of campaign.definition.channels) {
    if (channel === 'email') {
      const view = offerView(context('email'));
      samples.email = {
        subject: offer.title,
        html: templates.render('email/offer.html', view),
        text: templates.render('email/offer.text', view),
      };
    } else if (channel === 'push') {
      const { title, body, url } = pushPayload(context('push'), 'offer', '', templates);
      samples.push = { title, body, url };
    } else {
      samples.web = { html: renderBanner(context('web'), templates) };
    }
  }
  return samples;
}
