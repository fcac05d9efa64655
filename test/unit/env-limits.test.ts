import { describe, expect, it } from 'vitest';
import { durationMs, loadEnv, signerSettings, signingSecrets } from '../../src/config/env.ts';
import { errorOf } from '../support/errors.ts';

const messageOf = (fn: () => unknown): string => errorOf(fn).message;

describe('loadEnv: limits and listeners', () => {
  it('applies the documented defaults', () => {
    const env = loadEnv({});
    expect(durationMs(env.CONCORD_HISTORY_RETENTION)).toBe(180 * 86_400_000);
    expect(durationMs(env.CONCORD_EVENT_MAX_AHEAD)).toBe(5 * 60_000);
    expect(durationMs(env.CONCORD_EVENT_DEDUPE_TTL)).toBe(30 * 86_400_000);
    expect(env.CONCORD_MAX_OPEN_OFFERS).toBe(50);
    expect(env.CONCORD_RATE_LIMIT_IP).toEqual({ max: 1200, windowMs: 60_000 });
    expect(env.CONCORD_RATE_LIMIT_KEY).toEqual({ max: 12_000, windowMs: 60_000 });
    expect(env.ADMIN_PORT).toBeUndefined();
    expect(env.ADMIN_HOST).toBe('127.0.0.1');
    expect(env.CONCORD_PUSH_HOSTS).toBeUndefined();
  });

  it('reads rate limits, durations and host lists', () => {
    const env = loadEnv({
      CONCORD_RATE_LIMIT_IP: 'off',
      CONCORD_RATE_LIMIT_KEY: '30/PT10S',
      CONCORD_HISTORY_RETENTION: 'P1Y',
      CONCORD_PUSH_HOSTS: ' FCM.googleapis.com ,updates.push.services.mozilla.com,',
      ADMIN_PORT: '9090',
    });
    expect(env.CONCORD_RATE_LIMIT_IP).toBe('off');
    expect(env.CONCORD_RATE_LIMIT_KEY).toEqual({ max: 30, windowMs: 10_000 });
    expect(durationMs(env.CONCORD_HISTORY_RETENTION)).toBe(365 * 86_400_000);
    expect(env.CONCORD_PUSH_HOSTS).toEqual(['fcm.googleapis.com', 'updates.push.services.mozilla.com']);
    expect(env.ADMIN_PORT).toBe(9090);
  });

  it.each([
    ['CONCORD_RATE_LIMIT_IP', '0/PT1M'],
    ['CONCORD_RATE_LIMIT_IP', '100 per minute'],
    ['CONCORD_RATE_LIMIT_KEY', '10/P'],
    ['CONCORD_HISTORY_RETENTION', '180 days'],
    ['CONCORD_EVENT_MAX_AHEAD', 'PT0S'],
    ['CONCORD_PUSH_HOSTS', 'http://fcm.googleapis.com'],
    ['CONCORD_PUSH_HOSTS', 'localhost'],
    ['CONCORD_MAX_OPEN_OFFERS', '0'],
    ['ADMIN_PORT', '-1'],
  ])('stops on a bad %s (%s) with one line naming it', (name, value) => {
    const message = messageOf(() => loadEnv({ [name]: value }));
    expect(message.startsWith(`${name}: `)).toBe(true);
    expect(message).not.toContain('\n');
  });
});

describe('loadEnv: signing secrets', () => {
  const ONE = 'first-signing-secret-0123456789abcdef';
  const TWO = 'second-signing-secret-0123456789abcdef';

  it('reads CONCORD_SIGNING_SECRETS newest first, or the single secret', () => {
    expect(signingSecrets(loadEnv({ CONCORD_SIGNING_SECRETS: ` ${ONE}, ${TWO} ,` }))).toEqual([ONE, TWO]);
    expect(signingSecrets(loadEnv({ CONCORD_SIGNING_SECRET: ONE }))).toEqual([ONE]);
    expect(messageOf(() => signingSecrets(loadEnv({})))).toMatch(/^CONCORD_SIGNING_SECRET: required/);
  });

  it('refuses both settings at once, and short secrets in the list', () => {
    const both = messageOf(() =>
      loadEnv({ CONCORD_SIGNING_SECRET: ONE, CONCORD_SIGNING_SECRETS: `${TWO},${ONE}` }),
    );
    expect(both).toMatch(/^CONCORD_SIGNING_SECRETS: set it or CONCORD_SIGNING_SECRET, not both/);
    expect(both).not.toContain(ONE);
    const short = messageOf(() => loadEnv({ CONCORD_SIGNING_SECRETS: `${ONE},too-short` }));
    expect(short.startsWith('CONCORD_SIGNING_SECRETS: ')).toBe(true);
    expect(short).not.toContain(ONE);
    expect(messageOf(() => loadEnv({ CONCORD_SIGNING_SECRETS: ' , ' }))).toMatch(
      /^CONCORD_SIGNING_SECRETS: /,
    );
  });

  it('reads the banner token lifetime as an ISO duration; unset means no expiry', () => {
    expect(signerSettings(loadEnv({ CONCORD_SIGNING_SECRET: ONE }))).toEqual({ secrets: [ONE] });
    expect(
      signerSettings(loadEnv({ CONCORD_SIGNING_SECRET: ONE, CONCORD_BANNER_TOKEN_TTL: 'PT12H' }))
        .bannerTokenTtlMs,
    ).toBe(12 * 3_600_000);
    expect(messageOf(() => loadEnv({ CONCORD_BANNER_TOKEN_TTL: '12 hours' }))).toMatch(
      /^CONCORD_BANNER_TOKEN_TTL: /,
    );
  });
});
