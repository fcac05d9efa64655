import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Channel } from '../ledger/index.ts';

/** Signs and checks the links and tokens Concord hands to customers and browsers. */
export interface LinkSigner {
  /** `GET /o/:offerId?sig=<kid>.<mac>` */
  offerUrl(offerId: string): string;
  /** `/v1/unsubscribe?c=…&ch=…&sig=<kid>.<mac>` (RFC 8058 one-click) */
  unsubscribeUrl(customerId: string, channel: Channel): string;
  /** The browser banner token: `<kid>.<mac>`, or `<kid>.<expiry>.<mac>` when tokens expire. */
  bannerToken(customerId: string): string;
  verifyOffer(offerId: string, sig: string): boolean;
  verifyUnsubscribe(customerId: string, channel: string, sig: string): boolean;
  verifyBanner(customerId: string, token: string): boolean;
}

export interface LinkSignerOptions {
  readonly publicUrl: string;
  /** Signing secrets, newest first: the newest signs, every one verifies (rotation). */
  readonly secrets: readonly string[];
  /** How long a banner token is accepted after it was made; no expiry when absent. */
  readonly bannerTokenTtlMs?: number | undefined;
  /** The clock for banner token expiry (tests move it). */
  readonly now?: () => number;
}

/** The keys derived from one secret; the secret itself signs nothing. */
interface SigningKey {
  /** Names the secret in signatures: 8 hex of an HMAC of it, so it says nothing of the secret. */
  readonly kid: string;
  readonly offer: Buffer;
  readonly unsubscribe: Buffer;
  readonly banner: Buffer;
}

const derive = (secret: string, purpose: string) => createHmac('sha256', secret).update(purpose).digest();

function signingKey(secret: string): SigningKey {
  return {
    kid: derive(secret, 'concord/key-id').toString('hex').slice(0, 8),
    // One key per purpose, so a signature made for one kind of link never verifies as another.
    offer: derive(secret, 'concord/offer-links'),
    unsubscribe: derive(secret, 'concord/unsubscribe-links'),
    banner: derive(secret, 'concord/banner-tokens'),
  };
}

const mac = (key: Buffer, message: string) => createHmac('sha256', key).update(message).digest('base64url');

const same = (expected: string, given: string) => {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Signatures carry the id of the key that made them (`<kid>.<mac>`), so several secrets can be
 * accepted at once: during a rotation the newest signs and the older ones still verify the links
 * already mailed. Offer and unsubscribe links mailed before key ids existed (a bare mac under the
 * same per-purpose keys) are still accepted under every configured secret, since they cannot be
 * sent again; they stop working when the secret that signed them is dropped. Banner tokens are
 * made afresh on each page view, so the old form (an HMAC under the raw secret) is not accepted.
 */
export function createLinkSigner(options: LinkSignerOptions): LinkSigner {
  if (options.secrets.length === 0) throw new Error('createLinkSigner: at least one secret is needed');
  const base = options.publicUrl.replace(/\/+$/, '');
  const keys = options.secrets.map(signingKey);
  const newest = keys[0] as SigningKey;
  const byKid = new Map(keys.map((key) => [key.kid, key] as const));
  const ttlMs = options.bannerTokenTtlMs;
  const now = options.now ?? Date.now;

  const sign = (purpose: 'offer' | 'unsubscribe', message: string) =>
    `${newest.kid}.${mac(newest[purpose], message)}`;
  const verify = (purpose: 'offer' | 'unsubscribe', message: string, sig: string): boolean => {
    const dot = sig.indexOf('.');
    if (dot < 0) return keys.some((key) => same(mac(key[purpose], message), sig));
    const key = byKid.get(sig.slice(0, dot));
    return key !== undefined && same(mac(key[purpose], message), sig.slice(dot + 1));
  };
  const offerMessage = (offerId: string) => offerId;
  const unsubscribeMessage = (customerId: string, channel: string) => `${customerId}\n${channel}`;

  return {
    offerUrl: (offerId) =>
      `${base}/o/${encodeURIComponent(offerId)}?sig=${sign('offer', offerMessage(offerId))}`,
    unsubscribeUrl: (customerId, channel) =>
      `${base}/v1/unsubscribe?c=${encodeURIComponent(customerId)}&ch=${channel}&sig=${sign('unsubscribe', unsubscribeMessage(customerId, channel))}`,
    bannerToken: (customerId) => {
      if (ttlMs === undefined) return `${newest.kid}.${mac(newest.banner, customerId)}`;
      const expires = Math.ceil((now() + ttlMs) / 1000).toString(36);
      return `${newest.kid}.${expires}.${mac(newest.banner, `${customerId}\n${expires}`)}`;
    },
    verifyOffer: (offerId, sig) => verify('offer', offerMessage(offerId), sig),
    verifyUnsubscribe: (customerId, channel, sig) =>
      verify('unsubscribe', unsubscribeMessage(customerId, channel), sig),
    verifyBanner: (customerId, token) => {
      const parts = token.split('.');
      const key = byKid.get(parts[0] ?? '');
      if (key === undefined) return false;
      // A token without an expiry is good only while tokens are not set to expire.
      if (parts.length === 2) return ttlMs === undefined && same(mac(key.banner, customerId), parts[1] ?? '');
      const [, expires = '', given = ''] = parts;
      if (parts.length !== 3 || !/^[0-9a-z]{1,11}$/.test(expires)) return false;
      if (parseInt(expires, 36) * 1000 <= now()) return false;
      return same(mac(key.banner, `${customerId}\n${expires}`), given);
    },
  };
}
