import type { CampaignDefinitionInput } from '../campaigns/definition.ts';
import { createCampaign } from '../campaigns/service.ts';
import type { Discount, Ledger, ProfilePatch } from '../ledger/index.ts';

/** One sample customer and the offer the demo issues to them. */
interface Sample {
  readonly customerId: string;
  readonly profile: ProfilePatch;
  readonly offer: {
    readonly title: string;
    readonly body: string;
    readonly code: string;
    readonly discount: Discount;
    readonly sku?: string;
    readonly category?: string;
    readonly priority: number;
  };
}

const DAY_MS = 86_400_000;

const SAMPLES: readonly Sample[] = [
  {
    customerId: 'c-1001',
    profile: {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      pushEndpoint: 'https://push.example.com/devices/c-1001',
      timezone: 'Europe/London',
      locale: 'en-GB',
      consent: { email: true, push: true, web: true },
    },
    offer: {
      title: '20% off running shoes',
      body: 'Your size is back in stock.',
      code: 'RUN20-DEMO',
      discount: { kind: 'percent', value: 20 },
      sku: 'SHOE-42',
      category: 'running',
      priority: 10,
    },
  },
  {
    customerId: 'c-1002',
    profile: {
      name: 'Léa Martin',
      email: 'lea@example.com',
      pushEndpoint: 'https://push.example.com/devices/c-1002',
      timezone: 'Europe/Paris',
      locale: 'fr-FR',
      consent: { email: true, push: true, web: true },
    },
    offer: {
      title: 'Free shipping this week',
      body: 'On every order, no minimum.',
      code: 'SHIPFREE-DEMO',
      discount: { kind: 'free_shipping' },
      priority: 5,
    },
  },
  {
    customerId: 'c-1003',
    profile: {
      name: 'Kenji Sato',
      email: 'kenji@example.com',
      pushEndpoint: 'https://push.example.com/devices/c-1003',
      timezone: 'Asia/Tokyo',
      locale: 'ja-JP',
      consent: { email: true, push: true, web: true },
    },
    offer: {
      title: '¥500 off trail socks',
      body: 'For your next run.',
      code: 'SOCKS500-DEMO',
      discount: { kind: 'amount', value: 500, currency: 'JPY' },
      sku: 'SOCK-7',
      category: 'running',
      priority: 5,
    },
  },
  {
    // No push consent: the history shows the push delivery skipped, with the reason.
    customerId: 'c-1004',
    profile: {
      name: 'Maria Silva',
      email: 'maria@example.com',
      pushEndpoint: 'https://push.example.com/devices/c-1004',
      timezone: 'America/Sao_Paulo',
      locale: 'pt-BR',
      consent: { email: true, web: true },
    },
    offer: {
      title: '15% off rain jackets',
      body: 'The wet season is coming.',
      code: 'RAIN15-DEMO',
      discount: { kind: 'percent', value: 15 },
      category: 'outerwear',
      priority: 5,
    },
  },
];

/** A draft for the marketer's path: preview, approve with another key, schedule, watch, cancel. */
const SAMPLE_CAMPAIGN: CampaignDefinitionInput = {
  name: 'Winter running (sample)',
  slot: 'promo',
  offer: {
    title: '15% off trail shoes',
    body: 'Grip for the cold months.',
    code: 'TRAIL15-DEMO',
    discount: { kind: 'percent', value: 15 },
    sku: 'SHOE-7',
    category: 'running',
    validFor: 'P7D',
  },
  channels: ['email', 'push', 'web'],
  audience: { customerIds: SAMPLES.map((sample) => sample.customerId) },
  priority: 20,
  holdout: { percent: 10 },
};

/** What the seed did, for the demo's banner. */
export interface SeedReport {
  /** The sample campaign (a draft), when the seed wrote one or found it. */
  readonly campaignId?: string;
  readonly customers: readonly { customerId: string; name: string; timezone: string }[];
  readonly offers: readonly {
    offerId: string;
    customerId: string;
    title: string;
    superseded: readonly string[];
  }[];
}

/**
 * Upserts the sample customers (with consent, an email address, a fake push endpoint and a time
 * zone) and issues each one a week-long offer on every channel, so the capture inbox fills. A
 * second run replaces the offers of the first (slot policy `replace`), as a new campaign would.
 */
export async function seedSamples(ledger: Ledger, actor: string): Promise<SeedReport> {
  const customers: SeedReport['customers'][number][] = [];
  const offers: SeedReport['offers'][number][] = [];
  const now = await ledger.now();
  for (const sample of SAMPLES) {
    await ledger.customers.upsertProfile(sample.customerId, sample.profile, { actor, source: actor });
    customers.push({
      customerId: sample.customerId,
      name: sample.profile.name ?? sample.customerId,
      timezone: sample.profile.timezone ?? 'UTC',
    });
  }
  for (const sample of SAMPLES) {
    const result = await ledger.offers.issue(
      {
        customerId: sample.customerId,
        slot: 'promo',
        channels: ['email', 'push', 'web'],
        validUntil: now + 7 * DAY_MS,
        ...sample.offer,
      },
      actor,
    );
    offers.push({
      offerId: result.offer.offerId,
      customerId: sample.customerId,
      title: result.offer.title,
      superseded: result.superseded,
    });
  }
  return { customers, offers, campaignId: await sampleCampaign(ledger, actor) };
}

/** The sample campaign: the one a previous start wrote if it is still a draft, else a new draft. */
async function sampleCampaign(ledger: Ledger, actor: string): Promise<string> {
  for (const id of await ledger.campaigns.ids(20)) {
    const fields = await ledger.campaigns.fields(id);
    if (fields?.['state'] === 'draft' && fields['definition']?.includes(SAMPLE_CAMPAIGN.name)) return id;
  }
  return createCampaign(ledger, SAMPLE_CAMPAIGN, actor);
}
