import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiContext, KEYS, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';
import { Campaigns } from '../../../src/campaigns/service.ts';

let ctx: ApiContext;
let offerId = '';
let campaignId = '';
beforeAll(async () => {
  ctx = await apiContext();
  await ctx.ledger.customers.upsertProfile(
    'c-1',
    { email: 'c1@example.com', consent: { email: true, web: true } },
    { actor: 't', source: 't' },
  );
  offerId = (await ctx.ledger.offers.issue(offerInput('c-1'), 'test')).offer.offerId;
  campaignId = (
    await new Campaigns({ ledger: ctx.ledger, queue: ctx.queues.campaigns }).create(
      {
        name: 'Fuzz',
        offer: { title: 'Ten off', discount: { kind: 'percent', value: 10 }, validFor: 'P1D' },
        channels: ['web'],
        audience: { customerIds: ['c-1'] },
      },
      'test:author',
    )
  ).id;
});
afterAll(async () => {
  await ctx.close();
});

const RUNS = Number(process.env['API_FUZZ_RUNS'] ?? 2000);

const nasty = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'lone \ud800 surrogate',
    'constructor',
    'prototype',
    '\r\nX-Injected: 1',
    'a\nb',
    '\u0000',
    '..%2f..%2f',
    '%00',
    '{{7*7}}',
    '<script>',
    'ö',
    '🙂',
  ),
  fc.string({ maxLength: 20 }),
  fc.nat({ max: 3 }).map((n) => 'x'.repeat(1_000 * (n + 1))),
);

const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: deep(depth - 1) });
const body = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constant(deep(200)),
  fc.constant('{"__proto__": {"polluted": true}}'),
  fc.constant('{"constructor": {"prototype": {"polluted": true}}}'),
  fc.constant('{"customerId": "c-1", "title": "x", "discount": {"kind": "percent", "value": 1e309}}'),
  fc.constant('{"reason": 12}'),
  fc.constant('not json at all'),
  fc.constant('x'.repeat(200_000)),
  fc.dictionary(nasty, fc.oneof(nasty, fc.integer(), fc.boolean(), fc.constant(null))),
);

const target = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
  path: fc.constantFrom(
    '/v1/customers/:id',
    '/v1/offers',
    '/v1/offers/:offer',
    '/v1/offers/:offer/cancel',
    '/v1/offers/:offer/redeem',
    '/v1/customers/:id/offers/current',
    '/v1/customers/:id/history',
    '/v1/deliveries',
    '/v1/events',
    '/v1/banner',
    '/o/:offer',
    '/v1/unsubscribe',
    '/v1/campaigns',
    '/v1/campaigns/:campaign',
    '/v1/campaigns/:campaign/preview',
    '/v1/campaigns/:campaign/approve',
    '/v1/campaigns/:campaign/schedule',
    '/v1/campaigns/:campaign/pause',
    '/v1/campaigns/:campaign/resume',
    '/v1/campaigns/:campaign/cancel',
    '/healthz',
    '/readyz',
    '/metrics',
    '/docs',
    '/admin/captured',
    '/admin/queues',
    '/admin/queues/api/queues',
  ),
  id: fc.oneof(nasty, fc.constant('c-1')),
  offer: fc.oneof(nasty, fc.constant('OFFER')),
  campaign: fc.oneof(nasty, fc.constant('CAMPAIGN')),
  query: fc.dictionary(
    fc.constantFrom('slot', 'state', 'customer', 'token', 'sig', 'c', 'ch', '__proto__', 'limit'),
    nasty,
  ),
  key: fc.constantFrom(
    KEYS.admin,
    KEYS.marketer,
    KEYS.ingest,
    KEYS.support,
    KEYS.web,
    'wrong',
    '\r\nBearer x',
  ),
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=utf-16',
  ),
  body,
});

describe('malformed requests', () => {
  it(`answer 4xx, never 5xx, and change nothing (${RUNS} cases)`, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        const url =
          t.path
            .replace(':id', encodeURIComponent(t.id.toWellFormed()))
            .replace(':offer', encodeURIComponent((t.offer === 'OFFER' ? offerId : t.offer).toWellFormed()))
            .replace(
              ':campaign',
              encodeURIComponent((t.campaign === 'CAMPAIGN' ? campaignId : t.campaign).toWellFormed()),
            ) +
          '?' +
          new URLSearchParams(Object.entries(t.query)).toString();
        const payload = typeof t.body === 'string' ? t.body : JSON.stringify(t.body ?? null);
        const before = await ctx.snapshot();
        const reply = await ctx.api.inject({
          method: t.method as 'GET',
          url,
          headers: { authorization: `Bearer ${t.key}`, 'content-type': t.contentType },
          ...(t.method === 'GET' ? {} : { payload }),
        });
        const where = `${t.method} ${url.slice(0, 200)} → ${reply.statusCode} ${reply.body.slice(0, 200)}`;
        expect(reply.statusCode, where).toBeLessThan(500);
        if (reply.statusCode >= 400) {
          // Pages people open from messages answer errors as HTML; everything else in the JSON shape.
          if (String(reply.headers['content-type']).includes('text/html')) {
            expect(['/o/:offer', '/v1/unsubscribe'], where).toContain(t.path);
          } else {
            expect(reply.json(), where).toHaveProperty('error.code');
          }
          expect(await ctx.snapshot(), where).toEqual(before);
        } else {
          accepted++;
        }
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    console.log(`API fuzz: ${RUNS} cases, ${accepted} were valid requests and answered 2xx/3xx`);
  }, 300_000);
});
