import type { SendContext } from '../../src/channels/types.ts';
import { offerRecordSchema, type OfferRecord, type Recipient } from '../../src/ledger/index.ts';
import { EXAMPLE_OFFER } from './example-offer.ts';

/** A valid offer id (partition 07) for fixtures. */
export const OFFER_ID = 'o07-01JDQ3ZK8Y9W6N0V2T5R4P3M1A';

/** 2026-12-08T09:00:00Z, the fixtures' end of validity. */
export const VALID_UNTIL = Date.UTC(2026, 11, 8, 9, 0, 0);

/**
 * A send context as a claim would hand it to a channel: an active offer snapshot (checked
 * against the ledger's schema), a recipient and signed-looking links, for tests to vary.
 */
export function sendContext(
  overrides: {
    offer?: Partial<OfferRecord>;
    recipient?: Partial<Recipient>;
    links?: Partial<SendContext['links']>;
  } = {},
): SendContext {
  const offer = offerRecordSchema.parse({
    offerId: OFFER_ID,
    customerId: 'c-1001',
    ...EXAMPLE_OFFER,
    validFrom: VALID_UNTIL - 7 * 24 * 3_600_000,
    validUntil: VALID_UNTIL,
    policy: 'replace',
    state: 'active',
    version: 3,
    createdAt: VALID_UNTIL - 7 * 24 * 3_600_000,
    updatedAt: VALID_UNTIL - 7 * 24 * 3_600_000,
    deliveries: {},
    ...overrides.offer,
  });
  const recipient: Recipient = {
    address: 'ana@example.com',
    name: 'Ana',
    locale: 'en-US',
    timezone: 'Europe/Paris',
    ...overrides.recipient,
  };
  return {
    offer,
    recipient,
    links: {
      offerUrl: `https://shop.example/o/${OFFER_ID}?sig=offer-signature`,
      unsubscribeUrl: 'https://shop.example/v1/unsubscribe?c=c-1001&ch=email&sig=unsubscribe-signature',
      ...overrides.links,
    },
  };
}

/** Decodes the entities Handlebars writes when it escapes text, to compare HTML with plain text. */
export function decodeEntities(html: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return html.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity: string, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X'))
      return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return named[name.toLowerCase()] ?? entity;
  });
}

/**
 * The visible text of an HTML fragment: tags dropped, entities decoded, runs of ASCII whitespace
 * collapsed (not Unicode spaces such as the U+202F Intl puts before "AM").
 */
export function visibleText(html: string): string {
  return decodeEntities(
    html.replace(/<(script|style|title|head)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' '),
  )
    .replace(/[\t\n\r ]+/g, ' ')
    .trim();
}
