import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerContext, type LedgerContext } from '../../support/ledger-context.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';

const HOUR = 3_600_000;

describe('events dated far ahead of the ledger clock are refused', () => {
  let ctx: LedgerContext;
  beforeEach(() => {
    ctx = ledgerContext();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  it('a consent event, a stock event and a watermark an hour ahead change nothing', async () => {
    const now = await ctx.ledger.now();
    const before = await ctx.snapshot();
    await expect(
      ctx.ledger.signals.recordEvent({
        type: 'consent',
        eventId: 'far-1',
        source: 'crm',
        at: now + HOUR,
        customerId: 'c-1',
        channel: 'email',
        granted: true,
      }),
    ).rejects.toMatchObject({ code: 'in_the_future' });
    await expect(
      ctx.ledger.signals.recordStock({
        type: 'stock',
        eventId: 'far-2',
        source: 'wms',
        at: now + HOUR,
        sku: 'S-1',
        inStock: false,
      }),
    ).rejects.toMatchObject({ code: 'in_the_future' });
    await expect(ctx.ledger.signals.advanceWatermark('crm', now + HOUR)).rejects.toMatchObject({
      code: 'in_the_future',
    });
    expect(await ctx.snapshot()).toEqual(before);
  });

  it('a few seconds ahead is accepted (clocks of feeds drift)', async () => {
    const now = await ctx.ledger.now();
    const recorded = await ctx.ledger.signals.recordEvent({
      type: 'view',
      eventId: 'near-1',
      source: 'web',
      at: now + 10_000,
      customerId: 'c-2',
    });
    expect(recorded.duplicate).toBe(false);
    expect(await ctx.ledger.signals.advanceWatermark('web', now + 10_000)).toBe(now + 10_000);
  });

  it('the limit is a setting', async () => {
    const strict = ledgerContext({ limits: { eventMaxAheadMs: 1_000 } });
    try {
      const now = await strict.ledger.now();
      await expect(strict.ledger.signals.advanceWatermark('web', now + 10_000)).rejects.toMatchObject({
        code: 'in_the_future',
      });
    } finally {
      await strict.cleanup();
    }
  });
});

describe('POST /v1/events with an event dated far ahead', () => {
  let api: ApiContext;
  beforeEach(async () => {
    api = await apiContext();
  });
  afterEach(async () => {
    await api.close();
  });

  it('is rejected with the reason code; the feed watermark does not move', async () => {
    const now = await api.ledger.now();
    const reply = await api.api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: api.auth('ingest'),
      payload: {
        type: 'consent',
        eventId: 'year-3000',
        source: 'crm',
        at: new Date(now + 24 * HOUR).toISOString(),
        customerId: 'c-9',
        channel: 'email',
        granted: false,
      },
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toMatchObject({
      results: [{ index: 0, status: 'rejected', code: 'in_the_future' }],
    });
    expect(await api.ledger.signals.watermarks()).toEqual({});
    expect(await api.ledger.customers.getProfile('c-9')).toBeUndefined();
  });
});
