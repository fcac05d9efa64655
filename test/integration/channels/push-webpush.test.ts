import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import webpush from 'web-push';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RETRACT_TITLE } from '../../../src/channels/push/shared.ts';
import { createWebPushChannel, webPushTopic } from '../../../src/channels/push/webpush.ts';
import { offerView } from '../../../src/channels/view.ts';
import { ConcordError } from '../../../src/errors.ts';
import { OFFER_ID, sendContext, VALID_UNTIL } from '../../support/channel-context.ts';
import { push, startPushSink, TEST_TLS, type PushRequest, type PushSink } from '../../support/push-sink.ts';

const vapid = { subject: 'mailto:offers@example.com', ...webpush.generateVAPIDKeys() };

/** A browser's side of a subscription: its P-256 key pair and auth secret. */
const browser = createECDH('prime256v1');
browser.generateKeys();
const authSecret = randomBytes(16);

let sink: PushSink;
let subscription: string;
const NOW = VALID_UNTIL - 3_600_000;

beforeAll(async () => {
  // Web Push endpoints are https only: the push service under test speaks TLS on 127.0.0.1.
  sink = await startPushSink({ tls: true });
  subscription = JSON.stringify({
    endpoint: `${sink.origin}/wp/subscription-1`,
    expirationTime: null,
    keys: { p256dh: browser.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') },
  });
});
afterAll(async () => {
  await sink.close();
});
afterEach(() => {
  sink.setDefault(push.accept);
});

/** The channel as deployed, but allowed to reach the test's push service on loopback. */
const testNetwork = { unsafeLoopbackForTests: { ca: TEST_TLS.cert } };
const channel = (timeoutMs = 2_000) =>
  createWebPushChannel({ vapid, timeoutMs, now: () => NOW, ...testNetwork });
const context = () => sendContext({ recipient: { address: subscription } });

/** Decrypts an aes128gcm Web Push body as the browser would (RFC 8291, RFC 8188; one record). */
function decrypt(body: Buffer): unknown {
  const salt = body.subarray(0, 16);
  const idLength = body.readUInt8(20);
  const serverKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
  const shared = browser.computeSecret(serverKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), browser.getPublicKey(), serverKey]);
  const ikm = hmac(hmac(authSecret, shared), Buffer.concat([keyInfo, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end > 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // the last-record delimiter
  return JSON.parse(padded.subarray(0, end).toString('utf8'));
}

/** Checks the VAPID header (RFC 8292): our public key, and a JWT it signs for the sink's origin. */
function checkVapid(request: PushRequest) {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(request.headers['authorization'] ?? '');
  expect(match, 'VAPID Authorization header').not.toBeNull();
  const [, jwt, key] = match!;
  expect(key).toBe(vapid.publicKey);
  const [header, payload, signature] = jwt!.split('.');
  const raw = Buffer.from(vapid.publicKey, 'base64url');
  const publicKey = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const signed = verify(
    'sha256',
    Buffer.from(`${header!}.${payload!}`),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature!, 'base64url'),
  );
  expect(signed, 'JWT signature').toBe(true);
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  expect(claims).toMatchObject({ aud: sink.origin, sub: vapid.subject });
  expect(claims['exp']).toBeGreaterThan(Date.now() / 1000);
}

describe('Web Push channel', () => {
  it('sends an encrypted offer with VAPID, aes128gcm, TTL and Topic to the push service', async () => {
    const before = sink.requests.length;
    const adapter = channel();
    const ctx = context();
    const outcome = await adapter.send(adapter.render(ctx), ctx);
    expect(outcome).toEqual({
      status: 'sent',
      providerRef: expect.stringMatching(new RegExp(`^${sink.origin}/messages/push-\\d+$`)) as string,
    });

    const request = sink.requests[before]!;
    expect(request.path).toBe('/wp/subscription-1');
    checkVapid(request);
    expect(request.headers['content-encoding']).toBe('aes128gcm');
    expect(request.headers['ttl']).toBe('3600');
    expect(request.headers['topic']).toBe(webPushTopic('c-1001:promo'));
    expect(request.headers['topic']!.length).toBeLessThanOrEqual(32);
    const view = offerView(ctx);
    expect(decrypt(request.body)).toEqual({
      to: `${sink.origin}/wp/subscription-1`,
      title: view.title,
      body: `${view.body} ${view.discountText} with code ${view.code!}. Valid until ${view.validUntilText}.`,
      url: ctx.links.offerUrl,
      offerId: OFFER_ID,
      collapseKey: 'c-1001:promo',
      kind: 'offer',
    });
  });

  it('keeps the TTL within what is left of the offer, never below zero', () => {
    const late = createWebPushChannel({
      vapid,
      timeoutMs: 2_000,
      now: () => VALID_UNTIL + 5_000,
      ...testNetwork,
    });
    expect(late.render(context()).ttlSeconds).toBe(0);
    expect(channel().render(context()).ttlSeconds).toBe(3_600);
  });

  it.each([404, 410])('%i means the subscription is gone: permanent', async (status) => {
    sink.script(push.status(status, 'push subscription has unsubscribed or expired'));
    const adapter = channel();
    expect(await adapter.send(adapter.render(context()), context())).toEqual({
      status: 'permanent',
      reason: 'subscription_gone',
    });
  });

  it('429 and 5xx are transient, with Retry-After', async () => {
    sink.script(push.status(429, '', { 'Retry-After': '30' }), push.status(503, 'maintenance'));
    const adapter = channel();
    const rendered = adapter.render(context());
    expect(await adapter.send(rendered, context())).toEqual({
      status: 'transient',
      reason: 'webpush_429',
      retryAfterMs: 30_000,
    });
    expect(await adapter.send(rendered, context())).toEqual({ status: 'transient', reason: 'webpush_503' });
  });

  it('other 4xx are permanent with the status only; no answer in time is transient', async () => {
    sink.script(push.status(413, 'payload too large'), push.hang);
    const adapter = channel(300);
    const rendered = adapter.render(context());
    expect(await adapter.send(rendered, context())).toEqual({
      status: 'permanent',
      reason: 'webpush_413',
    });
    expect(await adapter.send(rendered, context())).toEqual({
      status: 'transient',
      reason: 'webpush_timeout',
    });
  });

  it('retracts with a replacement under the same topic', async () => {
    const before = sink.requests.length;
    const ctx = context();
    expect((await channel().retract!(ctx)).status).toBe('sent');
    const request = sink.requests[before]!;
    checkVapid(request);
    expect(request.headers['topic']).toBe(webPushTopic('c-1001:promo'));
    expect(decrypt(request.body)).toMatchObject({
      kind: 'retract',
      title: RETRACT_TITLE,
      collapseKey: 'c-1001:promo',
    });
  });

  it('refuses a recipient that is not a PushSubscription', () => {
    const adapter = channel();
    for (const address of [
      'ana@example.com',
      '{"endpoint":"https://push.example/x"}',
      '{"endpoint":"ftp://x","keys":{"p256dh":"a","auth":"b"}}',
      '{"endpoint":"http://push.example/x","keys":{"p256dh":"a","auth":"b"}}',
    ]) {
      expect(() => adapter.render(sendContext({ recipient: { address } }))).toThrow(ConcordError);
    }
  });

  it('refuses VAPID details web-push would reject, at creation', () => {
    expect(() =>
      createWebPushChannel({ vapid: { ...vapid, subject: 'offers@example.com' }, timeoutMs: 1_000 }),
    ).toThrow(/VAPID/);
    expect(() =>
      createWebPushChannel({ vapid: { ...vapid, privateKey: 'short' }, timeoutMs: 1_000 }),
    ).toThrow(/VAPID/);
  });
});
