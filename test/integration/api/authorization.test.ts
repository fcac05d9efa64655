import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRole } from '../../../src/config/env.ts';
import { apiContext, KEYS, ROLES, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';
import { Campaigns } from '../../../src/campaigns/service.ts';

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
  await ctx.ledger.upsertProfile(
    customerId,
    { email: `${customerId}@example.com`, consent: { email: true, web: true } },
    { actor: 'test', source: 'fixture' },
  );
  const { offer } = await ctx.ledger.issue(offerInput(customerId), 'test');
  return { customerId, offerId: offer.offerId };
}

/** A campaign written by someone else, brought to `state` outside the API. */
async function campaignIn(state: 'draft' | 'approved' | 'scheduled' | 'paused'): Promise<string> {
  const campaigns = new Campaigns({ ledger: ctx.ledger, queue: ctx.queues.campaigns, links: ctx.links });
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
    name: 'PUT /v1/customers/:id',
    roles: ['ingest', 'admin'],
    request: async () => ({
      method: 'PUT',
      url: `/v1/customers/new-${fixture++}`,
      payload: { timezone: 'Europe/Paris' },
    }),
  },
  {
    name: 'GET /v1/customers/:id',
    roles: ['support', 'admin'],
    request: async () => ({ method: 'GET', url: `/v1/customers/${(await freshOffer()).customerId}` }),
  },
  {
    name: 'DELETE /v1/customers/:id',
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
    name: 'GET /v1/offers/:id',
    roles: ['marketer', 'support', 'admin'],
    request: async () => ({ method: 'GET', url: `/v1/offers/${(await freshOffer()).offerId}` }),
  },
  {
    name: 'POST /v1/offers/:id/cancel',
    roles: ['marketer', 'support', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/offers/${(await freshOffer()).offerId}/cancel`,
      payload: { reason: 'matrix' },
    }),
  },
  {
    name: 'POST /v1/offers/:id/redeem',
    roles: ['ingest', 'admin'],
    request: async () => ({
      method: 'POST',
      url: `/v1/offers/${(await freshOffer()).offerId}/redeem`,
      payload: {},
    }),
  },
  {
    name: 'GET /v1/customers/:id/offers/current',
    roles: ['web', 'marketer', 'support', 'admin'],
    request: async () => ({
      method: 'GET',
      url: `/v1/customers/${(await freshOffer()).customerId}/offers/current?slot=promo`,
    }),
  },
  {
    name: 'GET /v1/customers/:id/history',
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
];

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
