import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebPushChannel, type WebPushChannelOptions } from '../../../src/channels/push/webpush.ts';
import type { Resolve } from '../../../src/channels/push/endpoint-policy.ts';
import { createLinkSigner } from '../../../src/delivery/links.ts';
import { startWorkers, type WorkerRuntime } from '../../../src/runtime/workers.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { sendContext } from '../../support/channel-context.ts';
import { offerInput, redisUrl } from '../../support/ledger-context.ts';
import { push, startPushSink, TEST_TLS, type PushSink } from '../../support/push-sink.ts';
import { waitFor } from '../../support/redis-server.ts';

/**
 * Web Push endpoints are a customer's data that Concord connects to: the end-to-end view of
 * what the service refuses (internal addresses) and what it keeps of an answer (status only).
 */
const vapid = { subject: 'mailto:offers@example.com', ...webpush.generateVAPIDKeys() };
const browser = createECDH('prime256v1');
browser.generateKeys();
const keys = {
  p256dh: browser.getPublicKey().toString('base64url'),
  auth: randomBytes(16).toString('base64url'),
};
const SECRET_TEXT = 'internal-admin-token-7f3a';

let sink: PushSink;
let ctx: ApiContext;
let runtime: WorkerRuntime | undefined;

beforeAll(async () => {
  sink = await startPushSink({ tls: true });
});
afterAll(async () => {
  await sink.close();
});
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  sink.setDefault(push.accept);
  await ctx.close();
});

async function startSending(channel: Partial<WebPushChannelOptions> = {}) {
  runtime = await startWorkers({
    redisUrl: redisUrl(),
    prefix: ctx.prefix,
    partitions: 16,
    channels: { push: createWebPushChannel({ vapid, timeoutMs: 2_000, ...channel }) },
    links: createLinkSigner({ publicUrl: 'http://127.0.0.1:3000', secrets: ['ssrf-test-secret-0123456789'] }),
    policy: { push: { leaseMs: 10_000, minRemainingMs: 0 } },
    sweepIntervalMs: 500,
  });
}

async function putProfile(customerId: string, endpoint: string) {
  return ctx.api.inject({
    method: 'PUT',
    url: `/v1/customers/${customerId}`,
    headers: ctx.auth('ingest'),
    payload: {
      pushEndpoint: JSON.stringify({ endpoint, keys }),
      timezone: 'Europe/Paris',
      consent: { push: true },
    },
  });
}

async function offerJson(offerId: string, role: 'marketer' | 'admin') {
  const reply = await ctx.api.inject({
    method: 'GET',
    url: `/v1/offers/${offerId}`,
    headers: ctx.auth(role),
  });
  expect(reply.statusCode).toBe(200);
  return reply.json<{ deliveries: { push?: { state: string; reason?: string } } }>();
}

describe('Web Push endpoints (server-side request forgery)', () => {
  it('an endpoint on 127.0.0.1 never receives a request: the delivery fails with a fixed reason', async () => {
    const before = sink.connections();
    expect((await putProfile('c-ssrf', `${sink.origin}/internal`)).statusCode).toBe(200);
    await startSending();
    const { offer } = await ctx.ledger.offers.issue(offerInput('c-ssrf', { channels: ['push'] }), 'marketer');
    await waitFor(
      async () =>
        sink.connections() > before ||
        (await ctx.ledger.offers.getOffer(offer.offerId))?.deliveries.push?.state === 'failed',
      20_000,
      'the push delivery to fail or the sink to be contacted',
    );
    expect(sink.connections() - before, 'connections to the internal endpoint').toBe(0);
    const seen = await offerJson(offer.offerId, 'marketer');
    expect(seen.deliveries.push).toMatchObject({ state: 'failed', reason: 'webpush_endpoint_refused' });
  });

  it("a push service's answer text reaches neither the offer nor the history", async () => {
    sink.setDefault(push.status(400, `{"error":"${SECRET_TEXT}"}`));
    expect((await putProfile('c-body', `${sink.origin}/wp/body`)).statusCode).toBe(200);
    // A push service the test trusts on loopback: the real send path, answered with text.
    await startSending({ unsafeLoopbackForTests: { ca: TEST_TLS.cert } });
    const { offer } = await ctx.ledger.offers.issue(offerInput('c-body', { channels: ['push'] }), 'marketer');
    await waitFor(
      async () => (await ctx.ledger.offers.getOffer(offer.offerId))?.deliveries.push?.state === 'failed',
      20_000,
      'the push delivery to fail',
    );
    const seen = await offerJson(offer.offerId, 'admin');
    expect(seen.deliveries.push?.reason).toBe('webpush_400');
    expect(JSON.stringify(seen)).not.toContain(SECRET_TEXT);
    const history = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-body/history',
      headers: ctx.auth('support'),
    });
    expect(history.statusCode).toBe(200);
    expect(history.body).not.toContain(SECRET_TEXT);
    expect(ctx.logs.join('\n')).not.toContain(SECRET_TEXT);
  });

  it('a profile refuses a subscription whose endpoint is not a plain https URL', async () => {
    for (const endpoint of [
      'http://127.0.0.1:8080/internal',
      'https://user:password@push.example.com/x',
      'ftp://push.example.com/x',
      `https://push.example.com/${'a'.repeat(2100)}`,
    ]) {
      const reply = await putProfile('c-bad', endpoint);
      expect(reply.statusCode, endpoint.slice(0, 60)).toBe(400);
    }
    expect(await ctx.ledger.customers.getProfile('c-bad')).toBeFalsy();
  });
});

describe('Web Push host allow-list and pinning (CONCORD_PUSH_HOSTS)', () => {
  const port = () => new URL(sink.origin).port;
  const contextFor = (endpoint: string) =>
    sendContext({ recipient: { address: JSON.stringify({ endpoint, keys }) } });
  /** A resolver that puts every name under push.example.com on the test's loopback push service. */
  const lookups: string[] = [];
  const resolve: Resolve = (hostname) => {
    lookups.push(hostname);
    // Answers 127.0.0.1 once per name, then an internal address: a rebinding resolver.
    const seen = lookups.filter((name) => name === hostname).length;
    return Promise.resolve([{ address: seen === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 as const }]);
  };
  const allowListed = () =>
    createWebPushChannel({
      vapid,
      timeoutMs: 2_000,
      allowedHosts: ['push.example.com'],
      resolve,
      unsafeLoopbackForTests: { ca: TEST_TLS.cert },
    });

  it('sends to a listed host and its subdomains, connecting to the address it checked', async () => {
    for (const host of ['push.example.com', 'eu.push.example.com']) {
      const before = sink.deliveries.length;
      const adapter = allowListed();
      const ctx = contextFor(`https://${host}:${port()}/wp/listed`);
      expect((await adapter.send(adapter.render(ctx), ctx)).status).toBe('sent');
      expect(sink.deliveries.length).toBe(before + 1);
      // TLS and Host still name the push service, not the pinned address.
      expect(sink.deliveries.at(-1)?.headers.host).toBe(`${host}:${port()}`);
    }
    // One lookup per send: the connection reused the checked answer instead of asking again
    // (a second answer would have been 10.0.0.1).
    expect(lookups).toEqual(['push.example.com', 'eu.push.example.com']);
  });

  it('refuses any other host without a lookup or a connection', async () => {
    const before = { connections: sink.connections(), lookups: lookups.length };
    const adapter = allowListed();
    for (const endpoint of [
      `https://127.0.0.1:${port()}/wp/x`,
      `https://notpush.example.com:${port()}/wp/x`,
      `https://push.example.com.evil.net:${port()}/wp/x`,
    ]) {
      const ctx = contextFor(endpoint);
      expect(await adapter.send(adapter.render(ctx), ctx)).toEqual({
        status: 'permanent',
        reason: 'webpush_host_not_allowed',
      });
    }
    expect(sink.connections()).toBe(before.connections);
    expect(lookups.length).toBe(before.lookups);
  });
});
