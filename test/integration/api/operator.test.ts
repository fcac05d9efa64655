import { afterEach, describe, expect, it } from 'vitest';
import { buildAdminApi } from '../../../src/api/app.ts';
import { createMetrics } from '../../../src/metrics/registry.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';

const OPERATOR_PATHS = ['/metrics', '/docs', '/admin/queues'] as const;

let ctx: ApiContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('operator pages (metrics, OpenAPI, queue dashboard)', () => {
  it('on the public listener, answer only to the admin key', async () => {
    ctx = await apiContext();
    for (const path of OPERATOR_PATHS) {
      const anonymous = await ctx.api.inject({ method: 'GET', url: path });
      expect(anonymous.statusCode, `${path} without a key`).toBe(401);
      expect(anonymous.json(), path).toMatchObject({ error: { code: 'unauthorized' } });
      const marketer = await ctx.api.inject({ method: 'GET', url: path, headers: ctx.auth('marketer') });
      expect(marketer.statusCode, `${path} as marketer`).toBe(403);
      const admin = await ctx.api.inject({ method: 'GET', url: path, headers: ctx.auth('admin') });
      expect(admin.statusCode, `${path} as admin`).toBe(200);
    }
    // The doors customers use stay open without a key.
    const banner = await ctx.api.inject({
      method: 'GET',
      url: `/v1/banner?customer=c-op&token=${ctx.links.bannerToken('c-op')}`,
    });
    expect(banner.statusCode).toBe(204);
  });
});

describe('with an admin listener', () => {
  it('the public listener has no operator pages; the admin listener serves them without a key', async () => {
    ctx = await apiContext({}, { adminListener: true });
    for (const path of OPERATOR_PATHS) {
      const publicReply = await ctx.api.inject({ method: 'GET', url: path, headers: ctx.auth('admin') });
      expect(publicReply.statusCode, `${path} on the public listener`).toBe(404);
    }
    const admin = await buildAdminApi({ metrics: createMetrics(), queues: ctx.queues, api: ctx.api });
    try {
      const address = await admin.listen({ port: 0, host: '127.0.0.1' });
      const metrics = await fetch(`${address}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('concord_queue_jobs');
      const docs = (await (await fetch(`${address}/docs`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(docs.paths)).toContain('/v1/banner');
      expect((await fetch(`${address}/admin/queues`)).status).toBe(200);
      // Nothing of the public API answers there.
      expect((await fetch(`${address}/v1/banner`)).status).toBe(404);
    } finally {
      await admin.close();
    }
  });
});
