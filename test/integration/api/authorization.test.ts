import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRole } from '../../../src/config/env.ts';
import { apiContext, KEYS, ROLES, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';
import { Campaigns } from '../../../src/campaigns/service.ts';
import { buildAdminApi } from '../../../src/api/app.ts';
import { createMetrics } from '../../../src/metrics/registry.ts';
import { routeTable } from '../../support/route-table.ts';

let ctx: ApiContext;
let fixture = 0;
beforeAll(async () => {
  ctx = await apiContext();
});
afterAll(async () => {
  await ctx.close();
});

/** A fresh customer with a live offer, so every cell of the matrix starts from a valid request. */
async function freshOffer(): Promise<{ customerId: string; offerId: string }> {
  const customerId = `m-${fixture++}`;
  await ctx.ledger.customers.upsertProfile(
    customerId,
    { email: `${customerId}@example.com`, consent: { email: true, web: true } },
    { actor: 'test', source: 'fixture' },
  );
  const { offer } = await ctx.ledger.offers.issue(offerInput(customerId), 'test');
  return { customerId, offerId: offer.offerId };
}

/** A campaign written by someone else, brought to `state` outside the API. */
async function campaignIn(state: 'draft' | 'approved' | 'scheduled' | 'paused'): Promise<string> {
  const campaigns = new Campaigns({ ledger: ctx.ledger, queue: ctx.queues.campaigns });
  const { id } = await campaigns.create(
    {
      name: 'Matrix',
      offer: { title: 'Ten off', discount: { kind: 'percent', value: 10 }, validFor: 'P1D' },
      channels: ['web'],
      audience: { customerIds: [`cm-${fixture++}`] },
    },
    'test:author',
  );
  if (state === 'draft') return id;
  await campaigns.approve(id, 'test:approver');
  if (state === 'approved') return id;
  await campaigns.schedule(id, { at: new Date(Date.now() + 3_600_000).toISOString() }, 'test:author');
  if (state === 'scheduled') return id;
  await campaigns.pause(id, 'test:author');
  return id;
}

interface Route {
  readonly name: string;
  readonly roles: readonly ApiRole[];
  request(): Promise<InjectOptions>;
}

const ROUTES: Route[] = [
  {
    name: 'PUT /v1/customers/:customerId',
    roles: ['ingest', 'admin'],
    request: async () => ({
      method: 'PUT',
      url: `/v1/customers/new-${fixture++}`,
      payload: { timezone: 'Europe/Paris' },
    }),
  },
  {
    name: 'GET /v1/customers/:customerId',
    roles: ['support', 'admin'],
    request: async () => ({ method: 'GET', url: `/v1/customers/${(await freshOffer()).customerId}` }),
  },
  {
    name: 'DELETE /v1/customers/:customerId',
    roles: ['admin'],
    request: async () => ({ method: 'DELETE', url: `/v1/customers/${(await freshOffer()).customerId}` }),
  },
  {
    name: 'POST /v1/offers',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: '/v1/offers',
      payload: {
        customerId: `o-${fixture++}`,
        title: 'Ten off',
        discount: { kind: 'percent', value: 10 },
        channels: ['email'],
        validUntil: new Date(Date.now() + 3_600_000).toISOString(),
      },
    }),
  },
  {
    name: 'GET /v1/offers/:offerId',
    roles: ['marketer', 'support', 'admin'],
    request: async () => ({ method: 'GET', url: `/v1/offers/${(await freshOffer()).offerId}` }),
  },
  {
    name: 'POST /v1/offers/:offerId/cancel',
    roles: ['marketer', 'support', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/offers/${(await freshOffer()).offerId}/cancel`,
      payload: { reason: 'matrix' },
    }),
  },
  {
    name: 'POST /v1/offers/:offerId/redeem',
    roles: ['ingest', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/offers/${(await freshOffer()).offerId}/redeem`,
      payload: {},
    }),
  },
  {
    name: 'GET /v1/customers/:customerId/offers/current',
    roles: ['web', 'marketer', 'support', 'admin'],
    request: async () => ({
      method: 'GET',
      url: `/v1/customers/${(await freshOffer()).customerId}/offers/current?slot=promo`,
    }),
  },
  {
    name: 'GET /v1/customers/:customerId/history',
    roles: ['support', 'admin'],
    request: async () => ({ method: 'GET', url: `/v1/customers/${(await freshOffer()).customerId}/history` }),
  },
  {
    name: 'POST /v1/events',
    roles: ['ingest', 'admin'],
    request: async () => ({
      method: 'POST',
      url: '/v1/events',
      payload: {
        type: 'view',
        eventId: `ev-${fixture++}`,
        source: 'web',
        at: new Date().toISOString(),
        customerId: 'c-ev',
      },
    }),
  },
  {
    name: 'GET /v1/deliveries',
    roles: ['support', 'admin'],
    request: async () => ({ method: 'GET', url: '/v1/deliveries?state=unknown' }),
  },
  {
    name: 'POST /v1/campaigns',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: '/v1/campaigns',
      payload: {
        name: 'Matrix',
        offer: { title: 'Ten off', discount: { kind: 'percent', value: 10 }, validFor: 'P1D' },
        channels: ['web'],
        audience: { customerIds: ['cm-new'] },
      },
    }),
  },
  {
    name: 'GET /v1/campaigns/:id',
    roles: ['marketer', 'support', 'admin'],
    request: async () => ({ method: 'GET', url: `/v1/campaigns/${await campaignIn('draft')}` }),
  },
  {
    name: 'POST /v1/campaigns/:id/preview',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/campaigns/${await campaignIn('draft')}/preview`,
      payload: {},
    }),
  },
  {
    name: 'POST /v1/campaigns/:id/approve',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/campaigns/${await campaignIn('draft')}/approve`,
      payload: {},
    }),
  },
  {
    name: 'POST /v1/campaigns/:id/schedule',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/campaigns/${await campaignIn('approved')}/schedule`,
      payload: { at: new Date(Date.now() + 3_600_000).toISOString() },
    }),
  },
  {
    name: 'POST /v1/campaigns/:id/pause',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/campaigns/${await campaignIn('scheduled')}/pause`,
      payload: {},
    }),
  },
  {
    name: 'POST /v1/campaigns/:id/resume',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/campaigns/${await campaignIn('paused')}/resume`,
      payload: {},
    }),
  },
  {
    name: 'POST /v1/campaigns/:id/cancel',
    roles: ['marketer', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/campaigns/${await campaignIn('draft')}/cancel`,
      payload: { reason: 'matrix' },
    }),
  },
  {
    name: 'GET /admin/captured',
    roles: ['admin'],
    request: async () => ({ method: 'GET', url: '/admin/captured' }),
  },
  {
    name: 'GET /admin/queues',
    roles: ['admin'],
    request: async () => ({ method: 'GET', url: '/admin/queues' }),
  },
  // Bull Board's own routes all sit under one guard hook; two of its API calls stand for the rest.
  {
    name: 'GET /admin/queues/api/queues',
    roles: ['admin'],
    request: async () => ({ method: 'GET', url: '/admin/queues/api/queues' }),
  },
  {
    name: 'GET /admin/queues/api/redis/stats',
    roles: ['admin'],
    request: async () => ({ method: 'GET', url: '/admin/queues/api/redis/stats' }),
  },
  {
    name: 'GET /metrics',
    roles: ['admin'],
    request: async () => ({ method: 'GET', url: '/metrics' }),
  },
  {
    name: 'GET /docs',
    roles: ['admin'],
    request: async () => ({ method: 'GET', url: '/docs' }),
  },
];

/** The routes without keys: each answers a valid request from anyone (its own HMAC or nothing guards it). */
const PUBLIC: { name: string; request(): Promise<InjectOptions> }[] = [
  { name: 'GET /healthz', request: async () => ({ method: 'GET', url: '/healthz' }) },
  { name: 'GET /readyz', request: async () => ({ method: 'GET', url: '/readyz' }) },
  {
    name: 'GET /v1/banner',
    request: async () => {
      const { customerId } = await freshOffer();
      return {
        method: 'GET',
        url: `/v1/banner?customer=${customerId}&token=${ctx.links.bannerToken(customerId)}`,
      };
    },
  },
  {
    name: 'GET /o/:offerId',
    request: async () => ({ method: 'GET', url: ctx.links.offerUrl((await freshOffer()).offerId) }),
  },
  {
    name: 'GET /v1/unsubscribe',
    request: async () => ({
      method: 'GET',
      url: ctx.links.unsubscribeUrl((await freshOffer()).customerId, 'email'),
    }),
  },
  {
    name: 'POST /v1/unsubscribe',
    request: async () => ({
      method: 'POST',
      url: ctx.links.unsubscribeUrl((await freshOffer()).customerId, 'email'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    }),
  },
];

/** Routes under this prefix are Bull Board's, guarded as one (see the two samples above). */
const BOARD = '/admin/queues/';

describe('the matrix lists every route', () => {
  it('of the public listener', () => {
    const listed = new Set([...ROUTES, ...PUBLIC].map((route) => route.name));
    const registered = routeTable(ctx.api);
    const unlisted = registered.filter(
      (route) => !listed.has(route) && !(route.split(' ')[1] ?? '').startsWith(BOARD),
    );
    expect(unlisted, 'routes missing from the authorization matrix').toEqual([]);
    expect(
      [...listed].filter((route) => !registered.includes(route)),
      'listed but not registered',
    ).toEqual([]);
  });

  it('of the admin listener: operator pages only', async () => {
    const admin = await buildAdminApi({ metrics: createMetrics(), queues: ctx.queues, api: ctx.api });
    try {
      const routes = routeTable(admin).filter((route) => !(route.split(' ')[1] ?? '').startsWith(BOARD));
      expect(routes).toEqual(['GET /admin/queues', 'GET /docs', 'GET /metrics']);
      for (const route of routes) {
        const reply = await admin.inject({ method: 'GET', url: route.split(' ')[1] ?? '' });
        expect(reply.statusCode, route).toBe(200);
      }
    } finally {
      await admin.close();
    }
  });
});

describe('public routes answer without a key', () => {
  for (const route of PUBLIC) {
    it(route.name, async () => {
      const reply = await ctx.api.inject(await route.request());
      expect(reply.statusCode, `${route.name}: ${reply.body.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
      expect(reply.statusCode, route.name).toBeLessThan(300);
    });
  }
});

const IDENTITIES: { name: string; authorization?: string; role?: ApiRole }[] = [
  { name: 'no key' },
  { name: 'bad key', authorization: 'Bearer not-a-key-of-this-deployment' },
  { name: 'malformed header', authorization: `Basic ${KEYS.admin}` },
  ...ROLES.map((role) => ({ name: role, authorization: `Bearer ${KEYS[role]}`, role })),
];

describe('authorization matrix: every keyed route × no key, bad key, each role', () => {
  for (const route of ROUTES) {
    it(route.name, async () => {
      for (const identity of IDENTITIES) {
        const request = await route.request();
        const before = await ctx.snapshot();
        const reply = await ctx.api.inject({
          ...request,
          headers: identity.authorization === undefined ? {} : { authorization: identity.authorization },
        });
        const cell = `${route.name} as ${identity.name}: ${reply.statusCode} ${reply.body.slice(0, 200)}`;
        if (identity.role && route.roles.includes(identity.role)) {
          expect(reply.statusCode, cell).toBeGreaterThanOrEqual(200);
          expect(reply.statusCode, cell).toBeLessThan(300);
        } else {
          expect(reply.statusCode, cell).toBe(identity.role ? 403 : 401);
          expect(reply.json(), cell).toMatchObject({
            error: { code: identity.role ? 'forbidden' : 'unauthorized' },
          });
          expect(await ctx.snapshot(), cell).toEqual(before);
        }
      }
    });
  }
});
