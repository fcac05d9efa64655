import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_FIELDS,
  OFFER_FIELDS,
  decodeLiveDocument,
  liveOfferAt,
} from '../../src/ledger/live-document.ts';

const T0 = 1_795_000_000_000; // ledger times pass 2^32, as stored ones do
const GRANTED = JSON.stringify({ granted: true, at: T0, source: 'form' });

/**
 * A stored offer as Lua's MessagePack writes it: a map keyed by field number, times as 64-bit
 * integers.
 */
function packedOffer(fields: Record<string, unknown>, deliveries: Record<string, Record<string, unknown>>) {
  const stored = (value: unknown) => (typeof value === 'number' && value > 2 ** 32 ? BigInt(value) : value);
  const byNumber = (record: Record<string, unknown>, names: readonly string[]) =>
    new Map(Object.entries(record).map(([name, value]) => [names.indexOf(name) + 1, stored(value)]));
  const packedDeliveries = new Map(
    Object.entries(deliveries).map(([channel, d]) => [channel, byNumber(d, DELIVERY_FIELDS)]),
  );
  const offer = byNumber(fields, OFFER_FIELDS);
  offer.set(OFFER_FIELDS.indexOf('deliveries') + 1, packedDeliveries);
  return offer;
}

function offerFields(overrides: Record<string, unknown> = {}) {
  return {
    offerId: 'o03-01J0000000000000000000000A',
    customerId: 'c-1',
    slot: 'promo',
    title: '20% off running shoes',
    body: 'Your size is back in stock.',
    discount: new Map<string, unknown>([
      ['kind', 'percent'],
      ['value', 20],
    ]),
    channels: ['email', 'web'],
    validFrom: T0,
    validUntil: T0 + 60_000,
    priority: 10,
    policy: 'replace',
    state: 'active',
    version: 2,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const documentOf = (...offers: unknown[]) => packr.pack(offers);
const webSent = { web: { state: 'sent', reason: 'published', attempts: 0 } };

describe('the live document as TypeScript reads it', () => {
  it('numbers the fields as the Lua codec does, by list and by name', () => {
    const codec = readFileSync(new URL('../../src/ledger/lua/includes/codec.lua', import.meta.url), 'utf8');
    const listed = (name: string) => {
      const body = new RegExp(`local ${name} = \\{([^}]*)\\}`).exec(codec)?.[1] ?? '';
      return [...body.matchAll(/'([A-Za-z]+)'/g)].map((match) => match[1]);
    };
    // The numbers by name are written out too: each must be its field's place in the list.
    const numbered = (name: string) => {
      const body = new RegExp(`local ${name} = \\{([^}]*)\\}`).exec(codec)?.[1] ?? '';
      const pairs = [...body.matchAll(/([A-Za-z]+) = (\d+)/g)].map(
        (match) => [Number(match[2]), match[1]] as const,
      );
      return pairs
        .sort((a, b) => a[0] - b[0])
        .map(([number, field], index) => (number === index + 1 ? field : '?'));
    };
    expect(listed('OFFER_FIELDS')).toEqual([...OFFER_FIELDS]);
    expect(listed('DELIVERY_FIELDS')).toEqual([...DELIVERY_FIELDS]);
    expect(numbered('OFFER_NUMBER')).toEqual([...OFFER_FIELDS]);
    expect(numbered('DELIVERY_NUMBER')).toEqual([...DELIVERY_FIELDS]);
  });

  it('reads a document whose offers are maps by number or lists, and an absent one as empty', () => {
    expect(decodeLiveDocument(null)).toEqual([]);
    const asMap = decodeLiveDocument(documentOf(packedOffer(offerFields(), webSent)));
    expect(asMap).toHaveLength(1);
    expect(asMap[0]?.['12']).toBe(T0 + 60_000);
    const asList = decodeLiveDocument(documentOf(['o03-x', 'c-1', 'promo']));
    expect(asList).toEqual([{ '1': 'o03-x', '2': 'c-1', '3': 'promo' }]);
  });

  it('shows the active offer of the slot inside its window, its terms without deliveries', () => {
    const live = decodeLiveDocument(documentOf(packedOffer(offerFields(), webSent)));
    const answer = liveOfferAt({ live, webConsent: GRANTED, slot: 'promo', now: T0, minRemainingMs: 0 });
    expect(answer.reason).toBeUndefined();
    expect(answer.offer).toMatchObject({
      offerId: 'o03-01J0000000000000000000000A',
      discount: { kind: 'percent', value: 20 },
      validUntil: T0 + 60_000,
      deliveries: {},
    });
  });

  it('shows nothing at the window edges, for another slot, or for an offer not active', () => {
    const at = (overrides: Record<string, unknown>, now: number, minRemainingMs = 0, slot = 'promo') =>
      liveOfferAt({
        live: decodeLiveDocument(documentOf(packedOffer(offerFields(overrides), webSent))),
        webConsent: GRANTED,
        slot,
        now,
        minRemainingMs,
      });
    expect(at({}, T0 - 1).reason).toBe('no_live_offer');
    expect(at({}, T0 + 60_000).reason).toBe('no_live_offer');
    expect(at({}, T0 + 59_999).offer).toBeDefined();
    expect(at({}, T0 + 50_000, 10_000).reason).toBe('no_live_offer');
    expect(at({}, T0 + 49_999, 10_000).offer).toBeDefined();
    expect(at({}, T0, 0, 'cart').reason).toBe('no_live_offer');
    expect(at({ state: 'pending' }, T0).reason).toBe('no_live_offer');
  });

  it('needs a published web delivery and granted web consent', () => {
    const answer = (deliveries: Record<string, Record<string, unknown>>, webConsent: string | null) =>
      liveOfferAt({
        live: decodeLiveDocument(documentOf(packedOffer(offerFields(), deliveries))),
        webConsent,
        slot: 'promo',
        now: T0,
        minRemainingMs: 0,
      }).reason;
    expect(answer({ email: { state: 'sent', attempts: 1 } }, GRANTED)).toBe('not_for_web');
    expect(answer({ web: { state: 'skipped', reason: 'no_consent', attempts: 0 } }, GRANTED)).toBe(
      'no_consent',
    );
    expect(answer(webSent, null)).toBe('no_consent');
    expect(answer(webSent, JSON.stringify({ granted: false, at: T0, source: 'form' }))).toBe('no_consent');
    expect(answer(webSent, GRANTED)).toBeUndefined();
  });

  it('passes over an offer it cannot show to one it can, in document order', () => {
    const live = decodeLiveDocument(
      documentOf(
        packedOffer(offerFields({ offerId: 'o03-A', state: 'pending' }), webSent),
        packedOffer(offerFields({ offerId: 'o03-B' }), webSent),
      ),
    );
    const answer = liveOfferAt({ live, webConsent: GRANTED, slot: 'promo', now: T0, minRemainingMs: 0 });
    expect(answer.offer?.['offerId']).toBe('o03-B');
  });
});
