import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../../src/config/env.ts';
import { startServices, type Services } from '../../../src/runtime/services.ts';
import { EXAMPLE_OFFER } from '../../support/example-offer.ts';
import { iso, zoneAtLocalHour } from '../../support/guardrails.ts';
import { ledgerContext, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import { startSinks, type Sinks } from '../../support/pipeline.ts';
import { waitFor } from '../../support/redis-server.ts';

const KEYS = {
  marketer: 'marketer-key-0123456789abcdef',
  ingest: 'ingest-key-0123456789abcdef',
  support: 'support-key-0123456789abcdef',
};

let ctx: LedgerContext | undefined;
let sinks: Sinks | undefined;
let services: Services | undefined;

afterEach(async () => {
  await services?.close();
  services = undefined;
  await sinks?.close();
  sinks = undefined;
  // Deletes every key under the prefix the services used.
  await ctx?.cleanup();
  ctx = undefined;
});

describe("the deployment's guardrails come from its environment", () => {
  it('CONCORD_CAPS=push:1/P1D and CONCORD_QUIET_HOURS=off reach the API and the workers', async () => {
    ctx = ledgerContext();
    sinks = await startSinks();
    const env = loadEnv({
      REDIS_URL: redisUrl(),
      CONCORD_PREFIX: ctx.prefix,
      PORT: '0',
      CONCORD_API_KEYS: Object.entries(KEYS)
        .map(([role, key]) => `${role}:${key}`)
        .join(','),
      CONCORD_SIGNING_SECRET: 'a-signing-secret-of-at-least-32-characters',
      SMTP_URL: sinks.smtp.url,
      PUSH_URL: sinks.push.url,
      CONCORD_CAPS: 'push:1/P1D',
      CONCORD_QUIET_HOURS: 'off',
    });
    services = await startServices({
      env,
      api: { host: '127.0.0.1', logLevel: 'silent' },
      workers: { concurrency: 4 },
    });
    const base = services.url!;
    const call = async (role: keyof typeof KEYS, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${KEYS[role]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };

    // 03:00 where the customer lives: the default quiet hours (21:00-08:00) would hold the push.
    const now = await ctx.ledger.now();
    const customer = await call('ingest', 'PUT', '/v1/customers/c-1', {
      email: 'c-1@example.com',
      pushEndpoint: 'device-c-1',
      timezone: zoneAtLocalHour(3, now),
      consent: { email: true, push: true, web: true },
    });
    expect(customer.status).toBe(200);
    // The other defaults stay: health is a sensitive category.
    const offer = (slot: string, extra: Record<string, unknown> = {}) => ({
      customerId: 'c-1',
      ...EXAMPLE_OFFER,
      slot,
      channels: ['push'],
      validUntil: iso(now + 3_600_000),
      ...extra,
    });
    const refused = await call('marketer', 'POST', '/v1/offers', offer('care', { category: 'health' }));
    expect(refused).toMatchObject({
      status: 422,
      json: { error: { code: 'guardrail', details: { reason: 'sensitive_category' } } },
    });

    const ids: string[] = [];
    for (const slot of ['promo', 'news']) {
      const issued = await call('marketer', 'POST', '/v1/offers', offer(slot));
      expect(issued.status).toBe(201);
      ids.push((issued.json['offer'] as { offerId: string }).offerId);
    }
    const pushStates = async () =>
      Promise.all(
        ids.map(async (id) => {
          const { json } = await call('support', 'GET', `/v1/offers/${id}`);
          return (json['deliveries'] as { push?: { state: string; reason?: string } }).push;
        }),
      );
    await waitFor(
      async () => (await pushStates()).every((push) => push?.state === 'sent' || push?.state === 'skipped'),
      30_000,
      'both pushes to end',
    );
    const states = await pushStates();
    expect(states.filter((push) => push?.state === 'sent')).toHaveLength(1);
    expect(states.filter((push) => push?.state === 'skipped')).toEqual([
      expect.objectContaining({ reason: 'frequency_cap' }),
    ]);
    expect(sinks.push.deliveries).toHaveLength(1);
  });
});
