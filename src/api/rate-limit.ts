import { isIP } from 'node:net';
import { ConcordError } from '../errors.ts';

/** At most `max` requests in a window of `windowMs`, or no limit. */
export type RateLimit = { readonly max: number; readonly windowMs: number } | 'off';

/**
 * How many clients one window tracks. Past it, clients not yet seen in the window share one
 * counter: a flood of fresh addresses is then limited as one client, and memory stays bounded.
 */
export const MAX_TRACKED_CLIENTS = 100_000;
/** The counter clients beyond {@link MAX_TRACKED_CLIENTS} share. */
const OVERFLOW = '\u0000overflow';

/**
 * A fixed-window counter per client (an address or a key id), in this process only. One window
 * is shared by every client — it opens with the first request after the last one closed — so a
 * new window starts with a fresh map: constant time per request whatever the number of clients,
 * no sweep, no timer, no Redis. Being per process, each API process counts on its own (N processes allow up to N × max).
 */
export function createRateLimiter(
  limit: RateLimit,
  now: () => number = Date.now,
  maxClients: number = MAX_TRACKED_CLIENTS,
) {
  let windowStart = Number.NEGATIVE_INFINITY;
  let counts = new Map<string, number>();
  return {
    /** Counts one request; returns the seconds to wait when it is over the limit. */
    take(client: string): number | undefined {
      if (limit === 'off') return undefined;
      const at = now();
      if (at - windowStart >= limit.windowMs) {
        windowStart = at;
        counts = new Map();
      }
      const name = counts.has(client) || counts.size < maxClients ? client : OVERFLOW;
      const count = (counts.get(name) ?? 0) + 1;
      counts.set(name, count);
      if (count <= limit.max) return undefined;
      return Math.max(1, Math.ceil((windowStart + limit.windowMs - at) / 1000));
    },
  };
}

/**
 * The client an address counts as: an IPv4 address itself (also written IPv4-mapped), an IPv6
 * address by its /64 — one subscriber usually holds a whole /64, so counting single IPv6
 * addresses would let one client take a fresh limit per request.
 */
export function addressClient(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [bare = ''] = address.toLowerCase().split('%');
  const [head = '', tail = ''] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The refusal of a request over its limit: 429 with `Retry-After` (errors.ts). */
export function rateLimited(retryAfterSeconds: number): ConcordError {
  return new ConcordError('rate_limited', `too many requests; retry in ${retryAfterSeconds} s`, {
    details: { retryAfterSeconds },
  });
}
