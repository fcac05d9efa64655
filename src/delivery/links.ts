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
  const sign = (message: string) => createHmac('sha256', options.secret).update(message).digest('base64url');
  const same = (expected: string, given: string) => {
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  // Offer and unsubscribe signatures carry a purpose prefix, so one can never stand in for the other.
  const offerSig = (offerId: string) => sign(`offer:${offerId}`);
  const unsubscribeSig = (customerId: string, channel: string) =>
    sign(`unsubscribe:${customerId}:${channel}`);
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
