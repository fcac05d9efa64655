import { afterEach, describe, expect, it } from 'vitest';
import { apiContext, KEYS, type ApiContext } from '../../support/api-context.ts';

let ctx: ApiContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const TINY = { max: 2, windowMs: 3_600_000 };

describe('rate limits', () => {
  it('per address on public routes: 429 with Retry-After past the limit, other addresses unaffected', async () => {
    ctx = await apiContext({}, { rateLimits: { ip: TINY, key: 'off' } });
    const api = ctx.api;
    const banner = `/v1/banner?customer=c-rl&token=${ctx.links.bannerToken('c-rl')}`;
    const from = (remoteAddress: string) => api.inject({ method: 'GET', url: banner, remoteAddress });
    expect((await from('198.51.100.7')).statusCode).toBe(204);
    expect((await from('198.51.100.7')).statusCode).toBe(204);
    const refused = await from('198.51.100.7');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    // The same address is refused on the other public doors too; another address is not.
    const offerPage = await api.inject({ method: 'GET', url: '/o/x?sig=y', remoteAddress: '198.51.100.7' });
    expect(offerPage.statusCode).toBe(429);
    expect(offerPage.headers['retry-after']).toBeDefined();
    // A person following a link gets a page, with the pages' headers, not JSON.
    expect(String(offerPage.headers['content-type'])).toContain('text/html');
    expect(offerPage.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await from('198.51.100.8')).statusCode).toBe(204);
    // Health probes are not counted.
    const health = await api.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.7' });
    expect(health.statusCode).toBe(200);
  });

  it('per key on keyed routes: one key over its limit leaves other keys alone', async () => {
    ctx = await apiContext({}, { rateLimits: { ip: 'off', key: TINY } });
    const api = ctx.api;
    const read = (key: string) =>
      api.inject({
        method: 'GET',
        url: '/v1/deliveries?state=unknown',
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await read(KEYS.support)).statusCode).toBe(200);
    expect((await read(KEYS.support)).statusCode).toBe(200);
    const refused = await read(KEYS.support);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await read(KEYS.admin)).statusCode).toBe(200);
  });

  it('failed key checks count against the address, so keys cannot be guessed without limit', async () => {
    ctx = await apiContext({}, { rateLimits: { ip: TINY, key: 'off' } });
    const api = ctx.api;
    const guess = () =>
      api.inject({
        method: 'GET',
        url: '/v1/deliveries?state=unknown',
        headers: { authorization: 'Bearer not-a-key-of-this-deployment' },
        remoteAddress: '203.0.113.9',
      });
    expect((await guess()).statusCode).toBe(401);
    expect((await guess()).statusCode).toBe(401);
    expect((await guess()).statusCode).toBe(429);
  });
});
