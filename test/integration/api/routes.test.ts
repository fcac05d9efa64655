import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { EXAMPLE_OFFER } from '../../support/example-offer.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

const validUntil = () => new Date(Date.now() + 3_600_000).toISOString();

async function customer(id: string) {
  const reply = await ctx.api.inject({
    method: 'PUT',
    url: `/v1/customers/${id}`,
    headers: ctx.auth('ingest'),
    payload: {
      email: `${id}@example.com`,
      pushEndpoint: `device-${id}`,
      timezone: 'Europe/Paris',
      consent: { email: true, push: true, web: true },
    },
  });
  expect(reply.statusCode).toBe(200);
}

async function issue(customerId: string, extra: Record<string, unknown> = {}) {
  return ctx.api.inject({
    method: 'POST',
    url: '/v1/offers',
    headers: ctx.auth('marketer'),
    payload: {
      customerId,
      ...EXAMPLE_OFFER,
      validUntil: validUntil(),
      campaignId: null,
      ...extra,
    },
  });
}

describe('HTTP API', () => {
  it('issues, reads, serves the banner with ETag, cancels', async () => {
    await customer('c-1001');
    const created = await issue('c-1001', { idempotencyKey: 'k1' });
    expect(created.statusCode).toBe(201);
    const { offer } = created.json<{ offer: { offerId: string; state: string; version: number } }>();
    expect(offer.state).toBe('active');

    const got = await ctx.api.inject({
      method: 'GET',
      url: `/v1/offers/${offer.offerId}`,
      headers: ctx.auth('support'),
    });
    expect(got.json()).toMatchObject({
      offerId: offer.offerId,
      deliveries: { email: { state: 'scheduled', attempts: 0 } },
    });

    const current = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-1001/offers/current?slot=promo',
      headers: ctx.auth('web'),
    });
    expect(current.statusCode).toBe(200);
    expect(current.json()).toMatchObject({ offerId: offer.offerId, code: 'RUN20-7QX' });
    const etag = current.headers['etag'] as string;
    expect(etag).toContain(String(offer.version));
    const notModified = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-1001/offers/current?slot=promo',
      headers: { ...ctx.auth('web'), 'if-none-match': etag },
    });
    expect(notModified.statusCode).toBe(304);

    const banner = await ctx.api.inject({
      method: 'GET',
      url: `/v1/banner?customer=c-1001&slot=promo&token=${ctx.links.bannerToken('c-1001')}`,
    });
    expect(banner.statusCode).toBe(200);
    expect(banner.json<{ html: string }>().html).toContain('RUN20-7QX');
    expect(
      (await ctx.api.inject({ method: 'GET', url: '/v1/banner?customer=c-1001&slot=promo&token=forged' }))
        .statusCode,
    ).toBe(401);

    const cancelled = await ctx.api.inject({
      method: 'POST',
      url: `/v1/offers/${offer.offerId}/cancel`,
      headers: ctx.auth('support'),
      payload: { reason: 'wrong code' },
    });
    expect(cancelled.json()).toMatchObject({ offer: { state: 'cancelled' } });
    const after = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-1001/offers/current',
      headers: ctx.auth('web'),
    });
    expect(after.statusCode).toBe(204);

    const page = await ctx.api.inject({
      method: 'GET',
      url: ctx.links.offerUrl(offer.offerId).replace('http://127.0.0.1:3000', ''),
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('This offer has ended');

    const history = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-1001/history',
      headers: ctx.auth('support'),
    });
    const lines = history.json<{ timeline: { text: string }[] }>().timeline.map((line) => line.text);
    expect(lines).toContain(`offer ${offer.offerId} cancelled: wrong code`);
  });

  it('answers errors in the one JSON shape: code, message, details', async () => {
    const bad = await issue('c-1', { discount: { kind: 'percent', value: 500 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_input' } });
    await issue('c-1', { slot: 'strict' });
    const rejected = await issue('c-1', { slot: 'strict', policy: 'reject' });
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json()).toMatchObject({ error: { code: 'conflict' } });
    const missing = await ctx.api.inject({
      method: 'GET',
      url: '/v1/offers/o03-01M8HMK2TQQR5SDX2VZ60F1ZHS',
      headers: ctx.auth('support'),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('one-click unsubscribe revokes consent; GET only shows a confirmation', async () => {
    await customer('c-7');
    const url = ctx.links.unsubscribeUrl('c-7', 'email').replace('http://127.0.0.1:3000', '');
    const page = await ctx.api.inject({ method: 'GET', url });
    expect(page.statusCode).toBe(200);
    expect((await ctx.ledger.customers.getProfile('c-7'))?.consent.email?.granted).toBe(true);
    const post = await ctx.api.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect((await ctx.ledger.customers.getProfile('c-7'))?.consent.email).toMatchObject({
      granted: false,
      source: 'one-click-unsubscribe',
    });
    expect(
      (
        await ctx.api.inject({
          method: 'POST',
          url,
          payload: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('erases a customer: the profile, offers and history go', async () => {
    await customer('c-9');
    await issue('c-9');
    const erased = await ctx.api.inject({
      method: 'DELETE',
      url: '/v1/customers/c-9',
      headers: ctx.auth('admin'),
    });
    expect(erased.json()).toMatchObject({ erased: true, offers: 1, jobsInFlight: 0 });
    expect(
      (await ctx.api.inject({ method: 'GET', url: '/v1/customers/c-9', headers: ctx.auth('support') }))
        .statusCode,
    ).toBe(404);
    const history = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-9/history',
      headers: ctx.auth('support'),
    });
    expect(history.statusCode).toBe(404);
  });

  it('serves health, readiness, metrics and the OpenAPI document over a real socket', async () => {
    const address = await ctx.api.listen({ port: 0, host: '127.0.0.1' });
    const health = await fetch(`${address}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${address}/readyz`)).status).toBe(200);
    const operator = { headers: ctx.auth('admin') };
    const metrics = await (await fetch(`${address}/metrics`, operator)).text();
    expect(metrics).toContain('concord_http_request_seconds');
    const docs = (await (await fetch(`${address}/docs`, operator)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of [
      '/v1/customers/{customerId}',
      '/v1/offers',
      '/v1/offers/{offerId}',
      '/v1/offers/{offerId}/cancel',
      '/v1/offers/{offerId}/redeem',
      '/v1/unsubscribe',
      '/v1/customers/{customerId}/offers/current',
      '/v1/banner',
      '/v1/customers/{customerId}/history',
      '/v1/deliveries',
      '/v1/events',
      '/v1/campaigns',
      '/v1/campaigns/{id}',
      '/v1/campaigns/{id}/preview',
      '/v1/campaigns/{id}/approve',
      '/v1/campaigns/{id}/schedule',
      '/v1/campaigns/{id}/pause',
      '/v1/campaigns/{id}/resume',
      '/v1/campaigns/{id}/cancel',
      '/o/{offerId}',
      '/healthz',
      '/readyz',
      '/metrics',
    ]) {
      expect(Object.keys(docs.paths)).toContain(path);
    }
  });

  it('walks a campaign through its routes over a real socket', async () => {
    await customer('c-camp');
    const address = await ctx.api.listen({ port: 0, host: '127.0.0.1' });
    const send = async (role: 'marketer' | 'admin' | 'support', path: string, body?: unknown) => {
      const response = await fetch(`${address}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...ctx.auth(role), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    const created = await send('marketer', '/v1/campaigns', {
      name: 'Socket',
      offer: { title: 'Ten off', code: 'TEN', discount: { kind: 'percent', value: 10 }, validFor: 'PT12H' },
      channels: ['email', 'web'],
      audience: { customerIds: ['c-camp'] },
    });
    expect(created.status).toBe(201);
    const id = (created.json['campaign'] as { id: string }).id;
    expect((await send('support', `/v1/campaigns/${id}`)).json).toMatchObject({
      id,
      state: 'draft',
      author: expect.stringMatching(/^api:marketer:/) as unknown,
      progress: { audience: 1, issued: 0, skipped: 0 },
    });
    const preview = await send('marketer', `/v1/campaigns/${id}/preview`, {});
    expect(preview.json).toMatchObject({ preview: { audience: 1, customers: { would_issue: 1 } } });
    expect((await send('admin', `/v1/campaigns/${id}/approve`, {})).json).toMatchObject({
      campaign: { state: 'approved' },
    });
    const at = new Date(Date.now() + 3_600_000).toISOString();
    expect((await send('marketer', `/v1/campaigns/${id}/schedule`, { at })).json).toMatchObject({
      campaign: { state: 'scheduled', schedule: { at } },
    });
    expect((await send('marketer', `/v1/campaigns/${id}/pause`, {})).json).toMatchObject({
      campaign: { state: 'paused' },
    });
    expect((await send('marketer', `/v1/campaigns/${id}/resume`, {})).json).toMatchObject({
      campaign: { state: 'scheduled' },
    });
    expect((await send('marketer', `/v1/campaigns/${id}/cancel`, { reason: 'socket' })).json).toMatchObject({
      campaign: { state: 'cancelled', endReason: 'socket' },
      ended: 0,
    });
  });

  it('refuses text that is not valid Unicode with 400, redeems without a body, and matches weak ETags', async () => {
    await customer('c-u');
    const surrogate = await ctx.api.inject({
      method: 'PUT',
      url: '/v1/customers/c-u',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/json' },
      payload: '{"name": "Jane \\ud800"}',
    });
    expect(surrogate.statusCode).toBe(400);
    const { offer } = (await issue('c-u')).json<{ offer: { offerId: string } }>();
    const current = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-u/offers/current',
      headers: ctx.auth('web'),
    });
    expect(current.json()).not.toHaveProperty('deliveries');
    const etag = current.headers['etag'] as string;
    const weak = await ctx.api.inject({
      method: 'GET',
      url: '/v1/customers/c-u/offers/current',
      headers: { ...ctx.auth('web'), 'if-none-match': `"other", W/${etag}` },
    });
    expect(weak.statusCode).toBe(304);
    const redeemed = await ctx.api.inject({
      method: 'POST',
      url: `/v1/offers/${offer.offerId}/redeem`,
      headers: ctx.auth('ingest'),
    });
    expect(redeemed.json()).toMatchObject({ offer: { state: 'redeemed' } });
  });

  it('one-click unsubscribe accepts the multipart body RFC 8058 recommends', async () => {
    await customer('c-m');
    const url = ctx.links.unsubscribeUrl('c-m', 'push').replace('http://127.0.0.1:3000', '');
    const boundary = 'x-boundary';
    const reply = await ctx.api.inject({
      method: 'POST',
      url,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
    });
    expect(reply.statusCode).toBe(200);
    expect((await ctx.ledger.customers.getProfile('c-m'))?.consent.push?.granted).toBe(false);
  });

  it('an offer link for an offer that has not started says when it starts', async () => {
    await customer('c-p');
    const created = await issue('c-p', {
      validFrom: new Date(Date.now() + 3_600_000).toISOString(),
      validUntil: new Date(Date.now() + 7_200_000).toISOString(),
    });
    const { offer } = created.json<{ offer: { offerId: string } }>();
    const page = await ctx.api.inject({
      method: 'GET',
      url: ctx.links.offerUrl(offer.offerId).replace('http://127.0.0.1:3000', ''),
    });
    expect(page.body).toContain('This offer starts on');
  });

  it('a link with a bad signature answers a page for people, with the status of the JSON error', async () => {
    const reply = await ctx.api.inject({
      method: 'GET',
      url: '/o/o03-01M8HMK2TQQR5SDX2VZ60F1ZHS?sig=forged',
    });
    expect(reply.statusCode).toBe(401);
    expect(reply.headers['content-type']).toContain('text/html');
    expect(reply.body).toContain('This link is not valid');
    const unsubscribe = await ctx.api.inject({
      method: 'POST',
      url: '/v1/unsubscribe?c=c-1&ch=email&sig=forged',
    });
    expect(unsubscribe.statusCode).toBe(401);
    expect(await ctx.ledger.customers.getProfile('c-1')).toBeUndefined();
  });
});
