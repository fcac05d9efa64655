import { describe, expect, it } from 'vitest';
import { addressClient, createRateLimiter } from '../../src/api/rate-limit.ts';

describe('rate limiter', () => {
  it('refuses past the limit until the window ends, and says how long to wait', () => {
    let clock = 1_000;
    const limiter = createRateLimiter({ max: 2, windowMs: 10_000 }, () => clock);
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toBeUndefined();
    clock += 2_500;
    expect(limiter.take('a')).toBe(8);
    expect(limiter.take('b')).toBeUndefined();
    clock += 7_500;
    expect(limiter.take('a')).toBeUndefined();
  });

  it('takes constant time per request however many clients a window holds', () => {
    const limiter = createRateLimiter({ max: 1200, windowMs: 60_000 }, () => 0);
    // Far more clients than it tracks: the ones past the cap share one counter, so memory is
    // bounded and a flood of fresh addresses is limited as one client.
    let refused = 0;
    for (let i = 0; i < 150_000; i++)
      if (limiter.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`)) refused++;
    expect(refused).toBe(50_000 - 1200);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4', () => {
    expect(addressClient('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressClient('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(addressClient('2001:0db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressClient('::1')).toBe('0:0:0:0::/64');
    expect(addressClient('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressClient('192.0.2.7')).toBe('192.0.2.7');
  });
});
