import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiActor, principalOf } from '../../src/actors.ts';
import { apiKeyId } from '../../src/api/auth.ts';
import { loadEnv } from '../../src/config/env.ts';
import { errorOf } from '../support/errors.ts';

const KEY = 'a-key-of-sixteen-or-more';
const SECRET = 'a-signing-secret-of-at-least-32-characters';

const messageOf = (fn: () => unknown): string => errorOf(fn).message;

describe('CONCORD_API_KEYS', () => {
  it('reads role:key and role:principal:key', () => {
    const keys = loadEnv({
      CONCORD_API_KEYS: `admin:${KEY}, marketer:alice:${KEY}-2 ,support:ops.team:with:colons:${KEY}`,
    }).CONCORD_API_KEYS;
    expect(keys).toEqual([
      { role: 'admin', key: KEY },
      { role: 'marketer', principal: 'alice', key: `${KEY}-2` },
      // After the role, the first ':' ends the principal: a key with ':' is written with one.
      { role: 'support', principal: 'ops.team', key: `with:colons:${KEY}` },
    ]);
  });

  it.each([
    ['boss:' + KEY, 'expected role:key or role:principal:key'],
    [`marketer:al ice:${KEY}`, 'a principal is'],
    [`marketer:alice@example.com:${KEY}`, 'a principal is'],
    [`marketer::${KEY}`, 'a principal is'],
    ['marketer:alice:short', 'shorter than 16'],
    [`marketer:${KEY},admin:${KEY}`, 'listed twice'],
  ])('refuses %s in one line', (value, expected) => {
    const message = messageOf(() => loadEnv({ CONCORD_API_KEYS: value }));
    expect(message.startsWith('CONCORD_API_KEYS: ')).toBe(true);
    expect(message).toContain(expected);
    expect(message).not.toContain(KEY);
  });
});

describe('key ids', () => {
  it('are 16 hex digits of an HMAC under the signing secret, not a bare hash of the key', () => {
    const id = apiKeyId(SECRET, KEY);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(apiKeyId(SECRET, KEY)).toBe(id);
    expect(apiKeyId(`${SECRET}-other`, KEY)).not.toBe(id);
    expect(apiKeyId(SECRET, `${KEY}x`)).not.toBe(id);
    expect(createHash('sha256').update(KEY).digest('hex')).not.toContain(id.slice(0, 8));
  });
});

describe('actors and principals', () => {
  it('carry role, key id and principal, never the key', () => {
    const keyId = apiKeyId(SECRET, KEY);
    expect(apiActor({ role: 'marketer', keyId, principal: 'alice' })).toBe(`api:marketer:${keyId}:alice`);
    expect(apiActor({ role: 'marketer', keyId })).toBe(`api:marketer:${keyId}`);
  });

  it('name one principal for every key and shell account of one person', () => {
    expect(principalOf('api:marketer:0123456789abcdef:alice')).toBe('alice');
    expect(principalOf('api:admin:fedcba9876543210:alice')).toBe('alice');
    expect(principalOf('cli:alice')).toBe('alice');
    // A key without a principal is its own; two such keys are two principals.
    expect(principalOf('api:marketer:0123456789abcdef')).toBe('key:0123456789abcdef');
    expect(principalOf('api:marketer:fedcba9876543210')).not.toBe(
      principalOf('api:marketer:0123456789abcdef'),
    );
    expect(principalOf('campaign:01J')).toBe('campaign:01J');
  });
});
