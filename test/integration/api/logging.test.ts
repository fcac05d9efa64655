import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiContext, KEYS, type ApiContext } from '../../support/api-context.ts';

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await apiContext();
});
afterAll(async () => {
  await ctx.close();
});

const EMAIL = 'private.person@example.org';
const ENDPOINT = 'https://push.example/device/secret-device-token-42';

describe('logs', () => {
  it('carry request id, route, status and latency, and never an email, a push endpoint, a name or a key', async () => {
    const requests = [
      {
        method: 'PUT' as const,
        url: '/v1/customers/c-log',
        headers: { authorization: `Bearer ${KEYS.ingest}` },
        payload: { email: EMAIL, pushEndpoint: ENDPOINT, name: 'Private Person', consent: { email: true } },
      },
      {
        method: 'PUT' as const,
        url: '/v1/customers/c-log',
        headers: { authorization: `Bearer ${KEYS.ingest}` },
        payload: { email: `${EMAIL}\r\n`, pushEndpoint: 5 },
      },
      {
        method: 'GET' as const,
        url: '/v1/customers/c-log',
        headers: { authorization: `Bearer ${KEYS.support}` },
      },
      {
        method: 'GET' as const,
        url: '/v1/customers/c-log',
        headers: { authorization: `Bearer ${KEYS.web}` },
      },
      {
        method: 'GET' as const,
        url: `/v1/banner?customer=c-log&slot=promo&token=${ctx.links.bannerToken('c-log')}`,
      },
      {
        method: 'POST' as const,
        url: '/v1/offers',
        headers: { authorization: `Bearer ${KEYS.marketer}` },
        payload: `{"customerId": "${EMAIL}", "title": 1}`,
      },
      {
        method: 'GET' as const,
        url: '/v1/customers/c-log',
        headers: { authorization: 'Bearer wrong-key-value-123456' },
      },
    ];
    for (const request of requests) await ctx.api.inject(request);
    const text = ctx.logs.join('\n');
    const lines = ctx.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = lines.filter((line) => line['msg'] === 'request');
    expect(requestLines).toHaveLength(requests.length);
    for (const line of requestLines) {
      expect(line).toHaveProperty('reqId');
      expect(line).toHaveProperty('route');
      expect(line).toHaveProperty('status');
      expect(line).toHaveProperty('ms');
    }
    for (const secret of [
      EMAIL,
      ENDPOINT,
      'secret-device-token-42',
      'Private Person',
      ctx.links.bannerToken('c-log'),
      'wrong-key-value-123456',
      ...Object.values(KEYS),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it("keeps a caller's plain request id and replaces a long or odd one", async () => {
    const before = ctx.logs.length;
    await ctx.api.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'shop-42.a_b' } });
    await ctx.api.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'x'.repeat(500) },
    });
    const ids = ctx.logs
      .slice(before)
      .map((line) => JSON.parse(line) as { msg?: string; reqId?: string })
      .filter((line) => line.msg === 'request')
      .map((line) => line.reqId);
    expect(ids[0]).toBe('shop-42.a_b');
    expect(ids[1]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
