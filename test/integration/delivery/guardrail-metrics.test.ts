import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpPushChannel } from '../../../src/channels/index.ts';
import { GUARDRAILS_OFF, type GuardrailRules } from '../../../src/config/guardrails.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.ts';
import { openLedger } from '../../../src/runtime/ledger.ts';
import { startWorkers, type WorkerRuntime } from '../../../src/runtime/workers.ts';
import { ledgerContext, offerInput, redisUrl, type LedgerContext } from '../../support/ledger-context.ts';
import { startSinks, type Sinks } from '../../support/pipeline.ts';
import { waitFor } from '../../support/redis-server.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Asia/Tokyo has no DST: its local time is UTC+9 all year. */
const TOKYO_OFFSET_MS = 9 * 60 * MINUTE;

let ctx: LedgerContext;
let sinks: Sinks;
let runtime: WorkerRuntime | undefined;

beforeEach(async () => {
  ctx = ledgerContext();
  sinks = await startSinks();
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await sinks.close();
  await ctx.cleanup();
});

/** Quiet hours from an hour before to an hour after the ledger's now in Tokyo: the window moves, not the clock. */
async function quietAroundNow(): Promise<GuardrailRules['quietHours']> {
  const now = await ctx.ledger.now();
  const minute = Math.floor(((now + TOKYO_OFFSET_MS) % DAY) / MINUTE);
  return { startMin: (minute + 1440 - 60) % 1440, endMin: (minute + 60) % 1440 };
}

async function metricsText(metrics: Metrics): Promise<string> {
  return metrics.registry.metrics();
}

describe('guardrails in /metrics', () => {
  it('counts an issue refused by reason, a quiet-hours hold, and a skip naming its guardrail', async () => {
    const metrics = createMetrics();
    const guardrails: GuardrailRules = {
      ...GUARDRAILS_OFF,
      sensitiveCategories: ['health'],
      quietHours: await quietAroundNow(),
    };
    const place = { prefix: ctx.prefix, partitions: 16, limits: { guardrails } };
    const ledger = openLedger(ctx.redis, place, metrics);
    await ledger.customers.upsertProfile(
      'c-1',
      { pushEndpoint: 'device-c-1', timezone: 'Asia/Tokyo', consent: { push: true, web: true } },
      { actor: 'test', source: 'fixture' },
    );
    const now = await ledger.now();
    const terms = { channels: ['push', 'web'], sku: undefined, category: undefined };

    await expect(
      ledger.offers.issue(offerInput('c-1', { ...terms, category: 'health' }, now), 'marketer'),
    ).rejects.toMatchObject({ code: 'guardrail', details: { reason: 'sensitive_category' } });
    const refused = await metricsText(metrics);
    expect(refused).toContain('concord_offers_refused_total{reason="sensitive_category"} 1');
    // Every refusal reason is a series from the start, so none is missing from a dashboard.
    expect(refused).toContain('concord_offers_refused_total{reason="recently_returned"} 0');

    // Held until the window ends, an hour from now; the second offer's validity ends before that.
    await ledger.offers.issue(offerInput('c-1', { ...terms, validUntil: now + DAY }, now), 'marketer');
    await ledger.offers.issue(
      offerInput('c-1', { ...terms, slot: 'other', validUntil: now + 30 * MINUTE }, now),
      'marketer',
    );
    runtime = await startWorkers({
      redisUrl: redisUrl(),
      prefix: ctx.prefix,
      partitions: 16,
      limits: { guardrails },
      channels: { push: createHttpPushChannel({ url: sinks.push.url, timeoutMs: 5_000 }) },
      links: sinks.links,
      policy: { push: { leaseMs: 10_000, minRemainingMs: 0 } },
      metrics,
    });
    const held = 'concord_holds_total{channel="push",reason="quiet_hours"} 1';
    const heldDelivery = 'concord_deliveries_total{channel="push",state="held",reason="quiet_hours"} 1';
    const skipped =
      'concord_deliveries_total{channel="push",state="skipped",reason="held_past_deadline:quiet_hours"} 1';
    await waitFor(
      async () => {
        const text = await metricsText(metrics);
        return text.includes(held) && text.includes(heldDelivery) && text.includes(skipped);
      },
      30_000,
      `${held}, ${heldDelivery} and ${skipped} in /metrics`,
    );
    expect(sinks.push.requests).toHaveLength(0);
  });
});
