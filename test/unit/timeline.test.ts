import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/ledger/index.ts';
import { describeHistory, explainReason } from '../../src/support/timeline.ts';

describe('the words for a reason', () => {
  it.each([
    ['no_consent', 'no consent for this channel'],
    ['uncertain:stale_data', 'given up: could not be sure in time (the data behind the decision is too old)'],
    ['held_past_deadline:lease_nearly_over', 'given up: still held when time ran out (lease nearly over)'],
    ['offer_superseded', 'the offer was superseded'],
    ['retry:smtp_451', 'temporary failure (smtp_451), will retry'],
    [
      'gave_up: push_network: ECONNRESET',
      'gave up after repeated temporary failures (push_network: ECONNRESET)',
    ],
    ['replaced_by:o07-X', "offer o07-X's message already replaced it on the device"],
    ['provider_refused', 'provider refused'],
    ['customer_erased', 'the customer asked for erasure'],
  ])('%s', (reason, words) => {
    expect(explainReason(reason)).toBe(words);
  });

  it('outranked names the winner from the entry detail', () => {
    expect(explainReason('outranked', { by: 'o1', priority: 1, winnerPriority: 5 })).toBe(
      'superseded by offer o1 (priority 5 > 1)',
    );
    expect(explainReason('outranked')).toBe('outranked');
  });

  it('a channel code, an operator note or older text reads as itself, `_` as spaces', () => {
    expect(explainReason('smtp_connection: EAI_AGAIN')).toBe('smtp connection: EAI AGAIN');
    expect(explainReason('wrong code')).toBe('wrong code');
    expect(explainReason('550 ada_b@example.com: mailbox full')).toBe('550 ada b@example.com: mailbox full');
    expect(explainReason('constructor')).toBe('constructor');
    expect(explainReason(undefined)).toBe('');
  });
});

describe('the guardrails in words', () => {
  // 18:00 UTC on 2 December 2026: 03:00 on 3 December in Tokyo, 19:00 on 2 December in Paris.
  const AT = Date.parse('2026-12-02T18:00:00Z');
  const line = (entry: Partial<HistoryEntry>, timezone?: string) =>
    describeHistory([{ id: '1-0', at: AT, actor: 'ledger', action: 'issued', ...entry }], { timezone })[0]
      ?.text;
  const held = (reason: string, detail: unknown, timezone?: string) =>
    line({ action: 'delivery_held', offer: 'o1', channel: 'push', reason, detail }, timezone);
  const skipped = (reason: string, detail: unknown) =>
    line({ action: 'delivery_skipped', offer: 'o1', channel: 'push', reason, detail });
  const notOffered = (reason: string, detail: unknown, timezone?: string) =>
    line({ action: 'not_offered', slot: 'promo', reason, detail }, timezone);

  it('a quiet-hours hold ends on the clock of the zone it names, with the date on another local day', () => {
    const tokyo8 = Date.parse('2026-12-02T23:00:00Z');
    expect(held('quiet_hours', { retryAt: tokyo8, timezone: 'Asia/Tokyo' })).toBe(
      'push of offer o1: held: quiet hours in Asia/Tokyo until 08:00',
    );
    const paris8 = Date.parse('2026-12-03T07:00:00Z');
    expect(held('quiet_hours', { retryAt: paris8, timezone: 'Europe/Paris' }, 'UTC')).toBe(
      'push of offer o1: held: quiet hours in Europe/Paris until 08:00 on 3 Dec',
    );
    expect(held('quiet_hours', { retryAt: paris8 })).toBe(
      "push of offer o1: held: customer's quiet hours until 3 Dec, 07:00 UTC",
    );
  });

  it('a stock hold names the SKU and since when its stock is not known', () => {
    const detail = { retryAt: AT + 300_000, sku: 'SKU-1', at: Date.parse('2026-12-02T12:00:00Z') };
    expect(held('stock_unknown', detail)).toBe(
      'push of offer o1: held: stock of SKU-1 not known since 12:00, checked again at 2 Dec, 18:05 UTC',
    );
    expect(held('stock_unknown', { retryAt: AT + 300_000 })).toBe(
      'push of offer o1: held: stock is not known recently enough, checked again at 2 Dec, 18:05 UTC',
    );
  });

  it('a refusal says what blocks the offer, dates in the customer’s zone', () => {
    const returned = Date.parse('2026-11-30T23:30:00Z');
    expect(notOffered('recently_returned', { sku: 'SKU-1', at: returned })).toBe(
      'not offered: returned this product on 30 Nov',
    );
    expect(notOffered('recently_returned', { sku: 'SKU-1', at: returned }, 'Europe/Paris')).toBe(
      'not offered: returned this product on 1 Dec',
    );
    expect(notOffered('recently_purchased', { sku: 'SKU-1', at: Date.parse('2025-11-30T12:00:00Z') })).toBe(
      'not offered: bought this product on 30 Nov 2025',
    );
    expect(notOffered('sensitive_category', { category: 'health', campaignId: 'cmp-1' })).toBe(
      'not offered: health is a sensitive category and the customer has not opted in',
    );
    expect(notOffered('out_of_stock', { sku: 'SKU-1' })).toBe('not offered: the product is out of stock');
    expect(notOffered('lifecycle_mismatch', { lifecycle: 'returning' })).toBe(
      'not offered: the customer has no earlier purchase (the offer is for returning customers)',
    );
    expect(notOffered('lifecycle_mismatch', { lifecycle: 'new' })).toBe(
      'not offered: the customer has bought before (the offer is for new customers)',
    );
    expect(notOffered('recently_returned', undefined)).toBe(
      'not offered: the customer returned this product recently',
    );
  });

  it('a skip at the send says what changed since the offer was issued, or which cap is full', () => {
    expect(skipped('frequency_cap', { scope: 'push', count: 1, windowMs: 86_400_000 })).toBe(
      'push of offer o1: skipped: already 1 push in the last 1 day (cap 1/P1D)',
    );
    expect(skipped('frequency_cap', { scope: 'any', count: 10, windowMs: 7 * 86_400_000 })).toBe(
      'push of offer o1: skipped: already 10 messages (email or push) in the last 7 days (cap 10/P7D)',
    );
    expect(skipped('frequency_cap', { scope: 'email', count: 3, windowMs: 6 * 3_600_000 })).toBe(
      'push of offer o1: skipped: already 3 emails in the last 6 hours (cap 3/PT6H)',
    );
    expect(skipped('frequency_cap', undefined)).toBe(
      'push of offer o1: skipped: the customer has had as many messages as the cap allows',
    );
    expect(skipped('sensitive_category', { category: 'health' })).toBe(
      'push of offer o1: skipped: the customer withdrew the opt-in for health',
    );
    expect(skipped('recently_purchased', { sku: 'SKU-1', at: Date.parse('2026-11-30T10:00:00Z') })).toBe(
      'push of offer o1: skipped: bought this product on 30 Nov',
    );
    expect(skipped('uncertain:stock_unknown', undefined)).toBe(
      'push of offer o1: skipped: given up: could not be sure in time (stock is not known recently enough)',
    );
  });
});
