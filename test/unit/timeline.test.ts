import { describe, expect, it } from 'vitest';
import { explainReason } from '../../src/support/timeline.ts';

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
