import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiContext, type ApiContext } from '../../support/api-context.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

const DAY = 86_400_000;

async function unsubscribe(customerId: string): Promise<void> {
  const url = ctx.links.unsubscribeUrl(customerId, 'email').replace('http://127.0.0.1:3000', '');
  const reply = await ctx.api.inject({ method: 'POST', url });
  expect(reply.statusCode).toBe(200);
}

function consentEvent(
  customerId: string,
  eventId: string,
  at: number,
  granted: boolean,
  byCustomer?: boolean,
) {
  return ctx.api.inject({
    method: 'POST',
    url: '/v1/events',
    headers: ctx.auth('ingest'),
    payload: {
      type: 'consent',
      eventId,
      source: 'crm',
      at: new Date(at).toISOString(),
      customerId,
      channel: 'email',
      granted,
      ...(byCustomer === undefined ? {} : { byCustomer }),
    },
  });
}

describe('consent keeps when and from where it was decided', () => {
  it('an old consent event after a one-click unsubscribe leaves it unsubscribed', async () => {
    const put = await ctx.api.inject({
      method: 'PUT',
      url: '/v1/customers/c-1',
      headers: ctx.auth('ingest'),
      payload: { email: 'c1@example.com', consent: { email: true } },
    });
    expect(put.statusCode).toBe(200);
    await unsubscribe('c-1');

    // The feed replays the grant the customer made yesterday, before unsubscribing.
    const now = await ctx.ledger.now();
    const reply = await consentEvent('c-1', 'grant-yesterday', now - DAY, true);
    const consent = (await ctx.ledger.customers.getProfile('c-1'))?.consent.email;
    expect(consent).toMatchObject({ granted: false, source: 'one-click-unsubscribe' });
    expect(consent?.byCustomer).toBe(true);
    expect(reply.json()).toEqual({
      results: [
        {
          index: 0,
          status: 'stored',
          eventId: 'grant-yesterday',
          cancelled: [],
          consent: 'older_than_last_change',
        },
      ],
    });
    expect(consent?.recordedAt).toBeGreaterThanOrEqual(now - 60_000);
    const history = await ctx.ledger.customers.history('c-1');
    expect(history.at(-1)).toMatchObject({
      action: 'consent_not_applied',
      channel: 'email',
      reason: 'older_than_last_change',
    });
  });

  it("an operator's profile write does not re-grant what the customer unsubscribed; the reply says so", async () => {
    await ctx.ledger.customers.upsertProfile(
      'c-2',
      { consent: { email: true, push: true } },
      { actor: 'a', source: 'crm' },
    );
    await unsubscribe('c-2');
    const put = await ctx.api.inject({
      method: 'PUT',
      url: '/v1/customers/c-2',
      headers: ctx.auth('ingest'),
      payload: { consent: { email: true, push: false } },
    });
    expect(put.statusCode).toBe(200);
    const body = put.json<{
      changed: string[];
      kept?: unknown;
      profile: { consent: Record<string, unknown> };
    }>();
    expect(body.kept).toEqual([{ channel: 'email', reason: 'customer_unsubscribed' }]);
    expect(body.profile.consent['email']).toMatchObject({ granted: false, byCustomer: true });
    expect(body.profile.consent['push']).toMatchObject({ granted: false });
  });

  it("a later consent event lifts the unsubscribe only when it is the customer's own choice", async () => {
    await ctx.ledger.customers.upsertProfile(
      'c-3',
      { consent: { email: true } },
      { actor: 'a', source: 'crm' },
    );
    await unsubscribe('c-3');
    const now = await ctx.ledger.now();
    // A feed syncing another system's state, dated after the unsubscribe: kept back.
    const synced = await consentEvent('c-3', 'grant-synced', now + 1_000, true);
    expect(synced.json()).toEqual({
      results: [
        {
          index: 0,
          status: 'stored',
          eventId: 'grant-synced',
          cancelled: [],
          consent: 'customer_unsubscribed',
        },
      ],
    });
    expect((await ctx.ledger.customers.getProfile('c-3'))?.consent.email).toMatchObject({
      granted: false,
      byCustomer: true,
    });
    expect((await ctx.ledger.customers.history('c-3')).at(-1)).toMatchObject({
      action: 'consent_not_applied',
      reason: 'customer_unsubscribed',
    });

    // The customer opted in again themselves, and the feed says so.
    const optIn = await consentEvent('c-3', 'grant-later', now + 2_000, true, true);
    expect(optIn.json()).toEqual({
      results: [{ index: 0, status: 'stored', eventId: 'grant-later', cancelled: [] }],
    });
    expect((await ctx.ledger.customers.getProfile('c-3'))?.consent.email).toMatchObject({
      granted: true,
      at: now + 2_000,
      byCustomer: false,
    });
  });

  it('reads consent stored by earlier versions', async () => {
    const key = ctx.ledger.keys.customer('c-4').profile;
    await ctx.redis.hset(key, {
      'consent.email': JSON.stringify({ granted: false, at: 1_000, source: 'one-click-unsubscribe' }),
      'consent.push': JSON.stringify({ granted: true, at: 5_000, source: 'crm', eventAt: 4_000 }),
    });
    const consent = (await ctx.ledger.customers.getProfile('c-4'))?.consent;
    expect(consent?.email).toEqual({
      granted: false,
      at: 1_000,
      source: 'one-click-unsubscribe',
      recordedAt: 1_000,
      byCustomer: true,
    });
    expect(consent?.push).toEqual({
      granted: true,
      at: 4_000,
      source: 'crm',
      recordedAt: 5_000,
      byCustomer: false,
    });
    // The stored unsubscribe is still final against an operator's grant.
    const result = await ctx.ledger.customers.upsertProfile(
      'c-4',
      { consent: { email: true } },
      { actor: 'a', source: 'crm' },
    );
    expect(result.kept).toEqual([{ channel: 'email', reason: 'customer_unsubscribed' }]);
  });
});
