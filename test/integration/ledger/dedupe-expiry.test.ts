import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerContext, type LedgerContext } from '../../support/ledger-context.ts';

const TTL = 60_000;

let ctx: LedgerContext;
beforeEach(() => {
  ctx = ledgerContext({ limits: { eventDedupeTtlMs: TTL } });
});
afterEach(async () => {
  await ctx.cleanup();
});

describe('event ids are remembered for CONCORD_EVENT_DEDUPE_TTL, then forgotten', () => {
  it('a replay within the TTL is a duplicate; after it, the id is stored again and old ids are trimmed', async () => {
    const now = await ctx.ledger.now();
    const view = (eventId: string, at: number) =>
      ({ type: 'view', eventId, source: 'web', at, customerId: 'c-1' }) as const;
    expect((await ctx.ledger.signals.recordEvent(view('v-1', now))).duplicate).toBe(false);
    expect((await ctx.ledger.signals.recordEvent(view('v-1', now))).duplicate).toBe(true);

    // The ledger clock moved past the TTL (the same ledger, seen later).
    const later = ctx.ledger.withClockSkew(2 * TTL);
    expect((await later.signals.recordEvent(view('v-2', now + 2 * TTL))).duplicate).toBe(false);
    const seen = ctx.ledger.keys.eventKeys('c-1').at(-1) ?? '';
    expect(await ctx.redis.zrange(seen, '0', '-1')).toEqual(['v-2']);
    expect((await later.signals.recordEvent(view('v-1', now + 2 * TTL))).duplicate).toBe(false);
  });

  it('stock event ids expire the same way', async () => {
    const now = await ctx.ledger.now();
    const stock = (at: number) =>
      ({ type: 'stock', eventId: 's-1', source: 'wms', at, sku: 'S-1', inStock: true }) as const;
    expect((await ctx.ledger.signals.recordStock(stock(now))).duplicate).toBe(false);
    expect((await ctx.ledger.signals.recordStock(stock(now))).duplicate).toBe(true);
    const later = ctx.ledger.withClockSkew(2 * TTL);
    expect((await later.signals.recordStock(stock(now + 2 * TTL))).duplicate).toBe(false);
  });

  it('the never-expiring hash of earlier versions is still read, and gets the TTL when next written', async () => {
    const now = await ctx.ledger.now();
    const legacy = ctx.ledger.keys.eventKeys('c-2')[15] ?? '';
    await ctx.redis.hset(legacy, 'old-1', String(now - 1_000));
    const event = { type: 'view', eventId: 'old-1', source: 'web', at: now, customerId: 'c-2' } as const;
    expect((await ctx.ledger.signals.recordEvent(event)).duplicate).toBe(true);
    expect(await ctx.redis.pttl(legacy)).toBe(-1);
    await ctx.ledger.signals.recordEvent({ ...event, eventId: 'new-1' });
    const ttl = await ctx.redis.pttl(legacy);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL);
  });
});
