import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPushChannel } from '../../../src/channels/push/http.ts';
import { RETRACT_TITLE } from '../../../src/channels/push/shared.ts';
import { offerView } from '../../../src/channels/view.ts';
import { freePort } from '../../support/redis-server.ts';
import { OFFER_ID, sendContext } from '../../support/channel-context.ts';
import { push, startPushSink, type PushSink } from '../../support/push-sink.ts';

let sink: PushSink;

beforeAll(async () => {
  sink = await startPushSink();
});
afterAll(async () => {
  await sink.close();
});
afterEach(() => {
  sink.setDefault(push.accept);
});

const channel = (timeoutMs = 2_000) => createHttpPushChannel({ url: sink.url, timeoutMs });
const context = (version = 3) =>
  sendContext({ offer: { version }, recipient: { address: 'device-token-c-1001' } });

/** Sends offer version `version` once (fresh versions keep tests independent of each other's keys). */
async function sendVersion(version: number, timeoutMs?: number) {
  const adapter = channel(timeoutMs);
  const ctx = context(version);
  return { outcome: await adapter.send(adapter.render(ctx), ctx), ctx };
}

describe('HTTP push channel', () => {
  it('POSTs the provider request of docs/API.md under the idempotency key', async () => {
    const before = sink.requests.length;
    const { outcome, ctx } = await sendVersion(3);
    expect(outcome).toEqual({ status: 'sent', providerRef: expect.stringMatching(/^push-\d+$/) as string });
    const request = sink.requests[before]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/push');
    expect(request.headers['idempotency-key']).toBe(`${OFFER_ID}:push:3`);
    expect(request.headers['content-type']).toBe('application/json');
    const view = offerView(ctx);
    expect(request.json).toEqual({
      to: 'device-token-c-1001',
      title: view.title,
      body: `${view.body} ${view.discountText} with code ${view.code!}. Valid until ${view.validUntilText}.`,
      url: ctx.links.offerUrl,
      offerId: OFFER_ID,
      collapseKey: 'c-1001:promo',
      kind: 'offer',
    });
  });

  it('counts a resend under the same key as sent, and the provider keeps one delivery', async () => {
    const deliveries = sink.deliveries.length;
    const requests = sink.requests.length;
    const adapter = channel();
    const ctx = context(4);
    const rendered = adapter.render(ctx);
    expect((await adapter.send(rendered, ctx)).status).toBe('sent');
    expect(await adapter.send(rendered, ctx)).toEqual({ status: 'sent' });
    expect(sink.requests.slice(requests).map((request) => request.answer)).toEqual([201, 409]);
    expect(sink.deliveries.length).toBe(deliveries + 1);
  });

  it('429 with Retry-After is transient with retryAfterMs, in seconds or as an HTTP date', async () => {
    sink.script(push.status(429, '{"error":"slow down"}', { 'Retry-After': '7' }));
    expect((await sendVersion(5)).outcome).toEqual({
      status: 'transient',
      reason: 'push_429',
      retryAfterMs: 7_000,
    });
    sink.script(push.status(429, '', { 'Retry-After': new Date(Date.now() + 60_000).toUTCString() }));
    const { outcome } = await sendVersion(5);
    expect(outcome).toMatchObject({ status: 'transient', reason: 'push_429' });
    const retryAfterMs = outcome.status === 'transient' ? outcome.retryAfterMs : undefined;
    expect(retryAfterMs).toBeGreaterThan(55_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('500 is transient, and the retry after it is accepted once', async () => {
    const deliveries = sink.deliveries.length;
    sink.script(push.status(500, 'upstream down'));
    expect((await sendVersion(6)).outcome).toEqual({ status: 'transient', reason: 'push_500' });
    expect((await sendVersion(6)).outcome.status).toBe('sent');
    expect(sink.deliveries.length).toBe(deliveries + 1);
  });

  it('400 is permanent with the status only, never the answer text', async () => {
    sink.script(push.status(400, '{"error":"unknown device token"}'));
    expect((await sendVersion(7)).outcome).toEqual({
      status: 'permanent',
      reason: 'push_400',
    });
  });

  it('a provider that does not answer in time is transient', async () => {
    sink.script(push.hang);
    const started = Date.now();
    expect((await sendVersion(8, 300)).outcome).toEqual({ status: 'transient', reason: 'push_timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a provider that is not there is transient', async () => {
    const adapter = createHttpPushChannel({
      url: `http://127.0.0.1:${await freePort()}/push`,
      timeoutMs: 2_000,
    });
    const ctx = context(9);
    expect(await adapter.send(adapter.render(ctx), ctx)).toEqual({
      status: 'transient',
      reason: 'push_network: ECONNREFUSED',
    });
  });

  it('retracts under the same collapse key with a retract idempotency key', async () => {
    const before = sink.requests.length;
    const adapter = channel();
    const ctx = context(10);
    expect((await adapter.retract!(ctx)).status).toBe('sent');
    const request = sink.requests[before]!;
    expect(request.headers['idempotency-key']).toBe(`${OFFER_ID}:push:10:retract`);
    expect(request.json).toMatchObject({
      to: 'device-token-c-1001',
      title: RETRACT_TITLE,
      body: '"20% off running shoes" has ended and is no longer available.',
      url: ctx.links.offerUrl,
      offerId: OFFER_ID,
      collapseKey: 'c-1001:promo',
      kind: 'retract',
    });
    expect((await adapter.retract!(ctx)).status).toBe('sent');
    expect(sink.requests.slice(before).map((r) => r.answer)).toEqual([201, 409]);
  });
});
