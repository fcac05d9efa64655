import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../../src/config/env.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';

const ALICE_ONE = 'alice-first-key-0123456789abcdef';
const ALICE_TWO = 'alice-second-key-0123456789abcdef';
const BOB = 'bob-marketer-key-0123456789abcdef';
const SHARED = 'shared-marketer-key-0123456789abcdef';

let ctx: ApiContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const DEFINITION = {
  name: 'Four eyes',
  offer: { title: 'Ten off', discount: { kind: 'percent', value: 10 }, validFor: 'P1D' },
  channels: ['web'],
  audience: { customerIds: ['c-four-eyes'] },
};

describe('four-eyes approval compares principals, not keys', () => {
  it('refuses an approval by a second key of the author', async () => {
    const keys = loadEnv({
      CONCORD_API_KEYS: [
        `marketer:alice:${ALICE_ONE}`,
        `marketer:alice:${ALICE_TWO}`,
        `marketer:bob:${BOB}`,
        `marketer:${SHARED}`,
      ].join(','),
    }).CONCORD_API_KEYS;
    ctx = await apiContext({}, { apiKeys: keys ?? [] });
    const api = ctx.api;
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const created = await api.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: as(ALICE_ONE),
      payload: DEFINITION,
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id, author } = created.json<{ campaign: { id: string; author: string } }>().campaign;
    expect(author).toMatch(/^api:marketer:[0-9a-f]{16}:alice$/);
    expect(author).not.toContain(ALICE_ONE);

    const own = await api.inject({
      method: 'POST',
      url: `/v1/campaigns/${id}/approve`,
      headers: as(ALICE_TWO),
      payload: {},
    });
    expect(own.statusCode, own.body).toBe(403);
    expect(own.json()).toMatchObject({ error: { code: 'forbidden' } });

    const bob = await api.inject({
      method: 'POST',
      url: `/v1/campaigns/${id}/approve`,
      headers: as(BOB),
      payload: {},
    });
    expect(bob.statusCode, bob.body).toBe(200);
    expect(bob.json<{ campaign: { approvedBy: string } }>().campaign.approvedBy).toMatch(
      /^api:marketer:[0-9a-f]{16}:bob$/,
    );
  });

  it('a key without a principal is its own principal', async () => {
    const keys = loadEnv({
      CONCORD_API_KEYS: `marketer:alice:${ALICE_ONE},marketer:${SHARED}`,
    }).CONCORD_API_KEYS;
    ctx = await apiContext({}, { apiKeys: keys ?? [] });
    const api = ctx.api;
    const created = await api.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: `Bearer ${SHARED}` },
      payload: DEFINITION,
    });
    const { id, author } = created.json<{ campaign: { id: string; author: string } }>().campaign;
    expect(author).toMatch(/^api:marketer:[0-9a-f]{16}$/);
    const again = await api.inject({
      method: 'POST',
      url: `/v1/campaigns/${id}/approve`,
      headers: { authorization: `Bearer ${SHARED}` },
      payload: {},
    });
    expect(again.statusCode).toBe(403);
    const alice = await api.inject({
      method: 'POST',
      url: `/v1/campaigns/${id}/approve`,
      headers: { authorization: `Bearer ${ALICE_ONE}` },
      payload: {},
    });
    expect(alice.statusCode, alice.body).toBe(200);
  });
});
