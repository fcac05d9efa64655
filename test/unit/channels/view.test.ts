import { describe, expect, it } from 'vitest';
import { ConcordError } from '../../../src/errors.ts';
import { discountText, offerView, resolveLocale, resolveTimeZone } from '../../../src/channels/view.ts';
import { OFFER_ID, sendContext, VALID_UNTIL } from '../../support/channel-context.ts';

/** ICU versions differ on plain, no-break (U+00A0) or narrow no-break (U+202F) spaces. */
const spaces = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('offerView', () => {
  it('gives every field the templates render, from the one snapshot', () => {
    const view = offerView(sendContext());
    expect({ ...view, validUntilText: spaces(view.validUntilText) }).toEqual({
      offerId: OFFER_ID,
      title: '20% off running shoes',
      body: 'Your size is back in stock.',
      code: 'RUN20-7QX',
      discountText: '20% off',
      validUntilText: 'December 8, 2026 at 10:00 AM GMT+1',
      validUntilIso: '2026-12-08T09:00:00.000Z',
      offerUrl: `https://shop.example/o/${OFFER_ID}?sig=offer-signature`,
      unsubscribeUrl: 'https://shop.example/v1/unsubscribe?c=c-1001&ch=email&sig=unsubscribe-signature',
      recipientName: 'Ana',
      locale: 'en-US',
      timeZone: 'Europe/Paris',
    });
  });

  it("formats the end of validity in the recipient's time zone and locale", () => {
    const berlin = offerView(sendContext({ recipient: { locale: 'de-DE', timezone: 'Europe/Berlin' } }));
    expect(spaces(berlin.validUntilText)).toBe('8. Dezember 2026 um 10:00 MEZ');
    const newYork = offerView(sendContext({ recipient: { locale: 'en-US', timezone: 'America/New_York' } }));
    expect(spaces(newYork.validUntilText)).toBe('December 8, 2026 at 4:00 AM EST');
    expect(newYork.validUntilIso).toBe(new Date(VALID_UNTIL).toISOString());
  });

  it('falls back to UTC and English when the time zone or locale is missing or unknown', () => {
    const fallback = 'December 8, 2026 at 9:00 AM UTC';
    const missing = sendContext();
    const bare = { ...missing, recipient: { address: 'ana@example.com' } };
    expect(spaces(offerView(bare).validUntilText)).toBe(fallback);
    const invalid = offerView(
      sendContext({ recipient: { locale: 'not a locale!', timezone: 'Mars/Olympus_Mons' } }),
    );
    expect(spaces(invalid.validUntilText)).toBe(fallback);
    expect([invalid.locale, invalid.timeZone]).toEqual(['en', 'UTC']);
    // Well-formed but unknown to Intl: must not fall back to the host's default locale.
    expect(resolveLocale('zz')).toBe('en');
    expect(resolveTimeZone('')).toBe('UTC');
  });

  it('leaves out a code and a name the offer or recipient does not have', () => {
    const context = sendContext();
    const offer = { ...context.offer };
    delete offer.code;
    const view = offerView({ ...context, offer, recipient: { address: 'ana@example.com', name: '  ' } });
    expect(view.code).toBeNull();
    expect(view.recipientName).toBeNull();
  });

  it('refuses links that are not http(s), so no template can carry a script URL', () => {
    expect(() => offerView(sendContext({ links: { offerUrl: 'javascript:alert(1)' } }))).toThrow(
      ConcordError,
    );
    expect(() => offerView(sendContext({ links: { unsubscribeUrl: 'mailto:x@example.com' } }))).toThrow(
      /unsubscribeUrl/,
    );
  });
});

describe('discountText', () => {
  it('says percent, amount and free shipping in words, numbers in the locale', () => {
    expect(discountText({ kind: 'percent', value: 20 })).toBe('20% off');
    expect(discountText({ kind: 'percent', value: 12.5 })).toBe('12.5% off');
    expect(discountText({ kind: 'amount', value: 5, currency: 'EUR' })).toBe('€5.00 off');
    expect(spaces(discountText({ kind: 'amount', value: 5, currency: 'EUR' }, 'de-DE'))).toBe('5,00 € off');
    expect(discountText({ kind: 'amount', value: 1500, currency: 'JPY' }, 'en')).toBe('¥1,500 off');
    expect(discountText({ kind: 'free_shipping' })).toBe('Free shipping');
  });
});
