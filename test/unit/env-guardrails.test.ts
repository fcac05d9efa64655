import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { guardrailRulesFromEnv } from '../../src/config/guardrails.ts';
import { errorOf } from '../support/errors.ts';

const DAY = 86_400_000;

describe('loadEnv: guardrails', () => {
  it('applies the documented defaults', () => {
    expect(guardrailRulesFromEnv(loadEnv({}))).toEqual({
      sensitiveCategories: ['health', 'baby', 'adult'],
      returnBlockMs: 30 * DAY,
      purchaseBlockMs: 14 * DAY,
      stockMaxAgeMs: 6 * 3_600_000,
      signalMaxAgeMs: 30 * DAY,
      caps: [
        { scope: 'email', count: 3, windowMs: DAY },
        { scope: 'push', count: 3, windowMs: DAY },
        { scope: 'any', count: 10, windowMs: 7 * DAY },
      ],
      quietHours: { startMin: 21 * 60, endMin: 8 * 60 },
    });
  });

  it('turns caps, quiet hours and sensitive categories off', () => {
    const rules = guardrailRulesFromEnv(
      loadEnv({ CONCORD_CAPS: 'off', CONCORD_QUIET_HOURS: 'off', CONCORD_SENSITIVE_CATEGORIES: 'off' }),
    );
    expect(rules).toMatchObject({ caps: [], quietHours: null, sensitiveCategories: [] });
  });

  it('reads a window that does not cross midnight and a cap in hours', () => {
    const rules = guardrailRulesFromEnv(loadEnv({ CONCORD_QUIET_HOURS: '12:00-14:30', CONCORD_CAPS: 'push:2/PT6H' }));
    expect(rules.quietHours).toEqual({ startMin: 720, endMin: 870 });
    expect(rules.caps).toEqual([{ scope: 'push', count: 2, windowMs: 6 * 3_600_000 }]);
  });

  it.each([
    ['CONCORD_CAPS', 'email:3/PXD', 'CONCORD_CAPS: expected count/duration for email'],
    ['CONCORD_CAPS', 'sms:3/P1D', 'CONCORD_CAPS: expected scope:count/duration with scope email, push or any'],
    ['CONCORD_CAPS', 'push:1/P1D,push:2/P7D', 'CONCORD_CAPS: the push cap is given twice'],
    ['CONCORD_CAPS', 'push:1/PT10S', 'CONCORD_CAPS: expected count/duration for push'],
    ['CONCORD_QUIET_HOURS', '25:00-08:00', 'CONCORD_QUIET_HOURS: expected a window HH:MM-HH:MM'],
    ['CONCORD_QUIET_HOURS', '08:00-08:00', 'CONCORD_QUIET_HOURS: a quiet-hours window must not start where it ends'],
    ['CONCORD_RETURN_BLOCK', '30 days', 'CONCORD_RETURN_BLOCK: expected an ISO 8601 duration'],
    ['CONCORD_STOCK_MAX_AGE', 'P2Y', 'CONCORD_STOCK_MAX_AGE: expected at most 400 days'],
    ['CONCORD_SENSITIVE_CATEGORIES', 'health,bad category', 'CONCORD_SENSITIVE_CATEGORIES: expected categories'],
  ])('%s=%s stops the start with one line', (name, value, message) => {
    const error = errorOf(() => loadEnv({ [name]: value }));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
  });
});
