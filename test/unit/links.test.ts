import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLinkSigner } from '../../src/delivery/links.ts';

const OLD = 'the-old-signing-secret-0123456789abcdef';
const NEW = 'the-new-signing-secret-0123456789abcdef';
const BASE = 'https://shop.example';

const sigOf = (url: string) => new URL(url).searchParams.get('sig') ?? '';

describe('link signing with key ids and rotation', () => {
  it('a link signed with the old secret still verifies after a rotation; new links use the new key', () => {
    const before = createLinkSigner({ publicUrl: BASE, secrets: [OLD] });
    const after = createLinkSigner({ publicUrl: BASE, secrets: [NEW, OLD] });
    const offerSig = sigOf(before.offerUrl('01OFFER'));
    const unsubscribeSig = sigOf(before.unsubscribeUrl('c-1', 'email'));
    const token = before.bannerToken('c-1');
    expect(after.verifyOffer('01OFFER', offerSig)).toBe(true);
    expect(after.verifyUnsubscribe('c-1', 'email', unsubscribeSig)).toBe(true);
    expect(after.verifyBanner('c-1', token)).toBe(true);

    const fresh = sigOf(after.offerUrl('01OFFER'));
    expect(fresh).not.toBe(offerSig);
    expect(fresh.split('.')[0]).not.toBe(offerSig.split('.')[0]);
    // Once the old secret is dropped, its links stop working; the new ones do not.
    const dropped = createLinkSigner({ publicUrl: BASE, secrets: [NEW] });
    expect(dropped.verifyOffer('01OFFER', offerSig)).toBe(false);
    expect(dropped.verifyOffer('01OFFER', fresh)).toBe(true);
  });

  it('signatures name their key: <kid>.<mac>, the kid derived from (not part of) the secret', () => {
    const signer = createLinkSigner({ publicUrl: BASE, secrets: [NEW] });
    const sig = sigOf(signer.offerUrl('01OFFER'));
    expect(sig).toMatch(/^[0-9a-f]{8}\.[\w-]{43}$/);
    expect(NEW).not.toContain(sig.split('.')[0]);
    expect(signer.bannerToken('c-1')).toMatch(/^[0-9a-f]{8}\.[\w-]{43}$/);
  });

  it('refuses a tampered key id or mac, and a signature moved to another link', () => {
    const signer = createLinkSigner({ publicUrl: BASE, secrets: [NEW, OLD] });
    const sig = sigOf(signer.offerUrl('01OFFER'));
    const [kid = '', mac = ''] = sig.split('.');
    const oldKid = sigOf(createLinkSigner({ publicUrl: BASE, secrets: [OLD] }).offerUrl('x')).split('.')[0];
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    expect(signer.verifyOffer('01OFFER', `${oldKid ?? ''}.${mac}`)).toBe(false);
    expect(signer.verifyOffer('01OFFER', `00000000.${mac}`)).toBe(false);
    expect(signer.verifyOffer('01OFFER', `${kid}.${flip(mac)}`)).toBe(false);
    expect(signer.verifyOffer('01OFFER', `${kid}.`)).toBe(false);
    expect(signer.verifyOffer('01OFFER', `${kid}.${mac}.`)).toBe(false);
    expect(signer.verifyOffer('01OTHER', sig)).toBe(false);
    expect(signer.verifyUnsubscribe('01OFFER', 'email', sig)).toBe(false);
    expect(signer.verifyBanner('01OFFER', sig)).toBe(false);
  });

  it('still accepts links signed before key ids existed, under any configured secret', () => {
    // The form mailed before: the bare base64url mac under the same per-purpose keys.
    const offerKey = createHmac('sha256', OLD).update('concord/offer-links').digest();
    const legacyOffer = createHmac('sha256', offerKey).update('01OFFER').digest('base64url');
    const unsubscribeKey = createHmac('sha256', OLD).update('concord/unsubscribe-links').digest();
    const legacyUnsubscribe = createHmac('sha256', unsubscribeKey).update('c-1\nemail').digest('base64url');
    const signer = createLinkSigner({ publicUrl: BASE, secrets: [NEW, OLD] });
    expect(signer.verifyOffer('01OFFER', legacyOffer)).toBe(true);
    expect(signer.verifyUnsubscribe('c-1', 'email', legacyUnsubscribe)).toBe(true);
    expect(signer.verifyOffer('01OTHER', legacyOffer)).toBe(false);
  });
});

describe('banner tokens', () => {
  it('are derived from a key of their own, never the raw secret', () => {
    const signer = createLinkSigner({ publicUrl: BASE, secrets: [NEW] });
    const raw = createHmac('sha256', NEW).update('c-1').digest('base64url');
    expect(signer.bannerToken('c-1')).not.toContain(raw);
    // The old raw-secret token is no longer accepted: it is an HMAC under the link secret itself.
    expect(signer.verifyBanner('c-1', raw)).toBe(false);
  });

  it('expire after the configured time when one is set', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const signer = createLinkSigner({
      publicUrl: BASE,
      secrets: [NEW],
      bannerTokenTtlMs: 3_600_000,
      now: () => now,
    });
    const token = signer.bannerToken('c-1');
    expect(token).toMatch(/^[0-9a-f]{8}\.[0-9a-z]+\.[\w-]{43}$/);
    expect(signer.verifyBanner('c-1', token)).toBe(true);
    now += 3_599_000;
    expect(signer.verifyBanner('c-1', token)).toBe(true);
    now += 2_000;
    expect(signer.verifyBanner('c-1', token)).toBe(false);
    // Changing the expiry breaks the mac.
    const [kid, , mac] = token.split('.');
    expect(signer.verifyBanner('c-1', `${kid ?? ''}.${(now / 1000 + 3600).toString(36)}.${mac ?? ''}`)).toBe(
      false,
    );
    // Without a TTL, a token without an expiry is refused once a TTL is configured.
    const forever = createLinkSigner({ publicUrl: BASE, secrets: [NEW] }).bannerToken('c-1');
    expect(signer.verifyBanner('c-1', forever)).toBe(false);
  });
});
