import { describe, expect, it } from 'vitest';
import { loadEnv, requireSetting } from '../../src/config/env.ts';
import { errorOf } from '../support/errors.ts';

describe('loadEnv', () => {
  it('applies the documented defaults', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 3000,
      EMAIL_FROM: 'offers@example.com',
      CONCORD_PARTITIONS: 16,
      CONCORD_PREFIX: 'concord',
    });
    expect(env.SMTP_URL).toBeUndefined();
  });

  it('parses API keys into roles', () => {
    const env = loadEnv({ CONCORD_API_KEYS: 'admin:aaaaaaaaaaaaaaaa1, web:bbbbbbbbbbbbbbbb2' });
    expect(env.CONCORD_API_KEYS).toEqual([
      { role: 'admin', key: 'aaaaaaaaaaaaaaaa1' },
      { role: 'web', key: 'bbbbbbbbbbbbbbbb2' },
    ]);
  });

  it.each([
    ['CONCORD_PARTITIONS', 'abc'],
    ['CONCORD_PARTITIONS', '0'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://localhost'],
    ['SMTP_URL', 'not a url'],
    ['PUSH_URL', 'ftp://x'],
    ['EMAIL_FROM', 'nobody'],
    ['CONCORD_API_KEYS', 'root:aaaaaaaaaaaaaaaaaaaa'],
    ['CONCORD_API_KEYS', 'admin:short'],
    ['CONCORD_SIGNING_SECRET', 'too-short'],
    ['CONCORD_PREFIX', 'has space'],
  ])('stops on a bad %s with one line naming it', (name, value) => {
    const error = errorOf(() => loadEnv({ [name]: value }));
    expect(error.code).toBe('invalid_config');
    expect(error.message.startsWith(`${name}: `)).toBe(true);
    expect(error.message).not.toContain('\n');
  });

  it('treats an empty variable as unset', () => {
    expect(loadEnv({ PORT: '' }).PORT).toBe(3000);
  });

  it('names a setting that a command requires', () => {
    expect(errorOf(() => requireSetting(loadEnv({}), 'SMTP_URL')).message).toBe(
      'SMTP_URL: required, but not set',
    );
  });
});
