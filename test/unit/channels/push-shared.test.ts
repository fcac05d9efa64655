import { describe, expect, it } from 'vitest';
import {
  collapseKey,
  outcomeForNetworkError,
  outcomeForResponse,
  parseRetryAfter,
  pushIdempotencyKey,
  pushPayload,
  RETRACT_TITLE,
} from '../../../src/channels/push/shared.ts';
import { webPushTopic } from '../../../src/channels/push/webpush.ts';
import { defaultTemplates } from '../../../src/channels/templates.ts';
import { offerView } from '../../../src/channels/view.ts';
import { OFFER_ID, sendContext } from '../../support/channel-context.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

describe('push keys', () => {
  it('collapse per customer and slot, deduplicate per offer version and kind', () => {
    const { offer } = sendContext();
    expect(collapseKey(offer)).toBe('c-1001:promo');
    expect(pushIdempotencyKey(offer, 'offer')).toBe(`${OFFER_ID}:push:3`);
    expect(pushIdempotencyKey(offer, 'retract')).toBe(`${OFFER_ID}:push:3:retract`);
  });

  it('derive a Web Push topic of at most 32 URL-safe base64 characters, stable per collapse key', () => {
    const long = `${'c'.repeat(128)}:${'s'.repeat(32)}`;
    for (const key of ['c-1001:promo', long, 'ü:ß']) {
      expect(webPushTopic(key)).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
      expect(webPushTopic(key)).toBe(webPushTopic(key));
    }
    expect(webPushTopic('c-1001:promo')).not.toBe(webPushTopic('c-1002:promo'));
  });
});

describe('pushPayload', () => {
  it('carries the wire-format fields, the body from the template on one line', () => {
    const context = sendContext();
    const view = offerView(context);
    const payload = pushPayload(context, 'offer', 'device-token-1', defaultTemplates());
    expect(payload).toEqual({
      to: 'device-token-1',
      title: '20% off running shoes',
      body: `Your size is back in stock. 20% off with code RUN20-7QX. Valid until ${view.validUntilText}.`,
      url: context.links.offerUrl,
      offerId: OFFER_ID,
      collapseKey: 'c-1001:promo',
      kind: 'offer',
    });
  });

  it('says a retracted offer has ended', () => {
    const payload = pushPayload(sendContext(), 'retract', 'device-token-1', defaultTemplates());
    expect(payload.kind).toBe('retract');
    expect(payload.title).toBe(RETRACT_TITLE);
    expect(payload.body).toBe('"20% off running shoes" has ended and is no longer available.');
    expect(payload.collapseKey).toBe('c-1001:promo');
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
    expect(parseRetryAfter(new Date(NOW - 90_000).toUTCString(), NOW)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    for (const value of [null, undefined, '', '-5', '1.5', 'soon', '12abc']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});

describe('outcomeForResponse', () => {
  const answer = (status: number, retryAfter: string | null = null) =>
    outcomeForResponse({ status, retryAfter }, { prefix: 'push', gone: [404, 410], now: NOW });

  it('maps statuses as docs/API.md says', () => {
    expect(answer(200)).toEqual({ status: 'sent' });
    expect(answer(201)).toEqual({ status: 'sent' });
    expect(answer(409)).toEqual({ status: 'sent' });
    expect(answer(429, '3')).toEqual({ status: 'transient', reason: 'push_429', retryAfterMs: 3_000 });
    expect(answer(503)).toEqual({ status: 'transient', reason: 'push_503' });
    expect(answer(400)).toEqual({ status: 'permanent', reason: 'push_400' });
    expect(answer(410)).toEqual({ status: 'permanent', reason: 'subscription_gone' });
    expect(answer(302)).toEqual({ status: 'permanent', reason: 'push_302' });
  });

  it('a status outside 100–599 reads as a gateway fault: transient 502', () => {
    expect(answer(999)).toEqual({ status: 'transient', reason: 'push_502' });
  });
});

describe('outcomeForNetworkError', () => {
  it('is transient, naming a timeout or the system error', () => {
    expect(outcomeForNetworkError(new DOMException('timed out', 'TimeoutError'), 'push')).toEqual({
      status: 'transient',
      reason: 'push_timeout',
    });
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(outcomeForNetworkError(refused, 'push')).toEqual({
      status: 'transient',
      reason: 'push_network: ECONNREFUSED',
    });
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(outcomeForNetworkError(tls, 'webpush')).toEqual({
      status: 'transient',
      reason: 'webpush_network: tls',
    });
    const odd = Object.assign(new Error('something <ana@example.com>'), { code: 'E_SOMETHING_ELSE' });
    expect(outcomeForNetworkError(odd, 'push')).toEqual({
      status: 'transient',
      reason: 'push_network: other',
    });
  });
});
