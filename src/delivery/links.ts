import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Channel } from '../ledger/index.ts';

/** Signs and checks the links Concord hands to customers, with one HMAC-SHA256 secret. */
export interface LinkSigner {
  /** `GET /o/:offerId?sig=…` */
  offerUrl(offerId: string): string;
  /** `/v1/unsubscribe?c=…&ch=…&sig=…` (RFC 8058 one-click) */
  unsubscribeUrl(customerId: string, channel: Channel): string;
  /** The browser banner token: base64url HMAC-SHA256 of the customer id (API.md). */
  bannerToken(customerId: string): string;
  verifyOffer(offerId: string, sig: string): boolean;
  verifyUnsubscribe(customerId: string, channel: string, sig: string): boolean;
  verifyBanner(customerId: string, token: string): boolean;
}

export function createLinkSigner(options: { publicUrl: string; secret: string }): LinkSigner {
  const base = options.publicUrl.replace(/\/+$/, '');
  const hmac = (key: string | Buffer, message: string) =>
    createHmac('sha256', key).update(message).digest('base64url');
  const sign = (message: string) => hmac(options.secret, message);
  const same = (expected: string, given: string) => {
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  // Offer links and unsubscribe links are signed with keys derived per purpose, so no banner
  // token (an HMAC of a bare customer id) can ever equal one of their signatures.
  const offerKey = createHmac('sha256', options.secret).update('concord/offer-links').digest();
  const unsubscribeKey = createHmac('sha256', options.secret).update('concord/unsubscribe-links').digest();
  const offerSig = (offerId: string) => hmac(offerKey, offerId);
  const unsubscribeSig = (customerId: string, channel: string) =>
    hmac(unsubscribeKey, `${customerId}\n${channel}`);
  return {
    offerUrl: (offerId) => `${base}/o/${encodeURIComponent(offerId)}?sig=${offerSig(offerId)}`,
    unsubscribeUrl: (customerId, channel) =>
      `${base}/v1/unsubscribe?c=${encodeURIComponent(customerId)}&ch=${channel}&sig=${unsubscribeSig(customerId, channel)}`,
    bannerToken: (customerId) => sign(customerId),
    verifyOffer: (offerId, sig) => same(offerSig(offerId), sig),
    verifyUnsubscribe: (customerId, channel, sig) => same(unsubscribeSig(customerId, channel), sig),
    verifyBanner: (customerId, token) => same(sign(customerId), token),
  };
}
