import { ConcordError } from '../errors.ts';

/** At most `max` requests in a window of `windowMs`, or no limit. */
export type RateLimit = { readonly max: number; readonly windowMs: number } | 'off';

/** How many entries a limiter holds before it drops those whose window has passed. */
const SWEEP_AT = 10_000;

/**
 * A fixed-window counter per client (an address or a key id), in this process only: each
 * client's window opens with its first request and lasts `windowMs`. It is cheap — one map
 * lookup per request, no timer, no Redis — and, being per process, each API process counts on
 * its own (N processes allow up to N × max). A window that has passed is reset when its client
 * comes back, and passed windows are swept when the map grows large.
 */
export function createRateLimiter(limit: RateLimit, now: () => number = Date.now) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** Counts one request; returns the seconds to wait when it is over the limit. */
    take(client: string): number | undefined {
      if (limit === 'off') return undefined;
      const at = now();
      const window = windows.get(client);
      if (window === undefined || at - window.start >= limit.windowMs) {
        if (window === undefined && windows.size >= SWEEP_AT) {
          for (const [name, open] of windows) if (at - open.start >= limit.windowMs) windows.delete(name);
        }
        windows.set(client, { start: at, count: 1 });
        return undefined;
      }
      window.count++;
      if (window.count <= limit.max) return undefined;
      return Math.max(1, Math.ceil((window.start + limit.windowMs - at) / 1000));
    },
  };
}

/** The refusal of a request over its limit: 429 with `Retry-After` (errors.ts). */
export function rateLimited(retryAfterSeconds: number): ConcordError {
  return new ConcordError('rate_limited', `too many requests; retry in ${retryAfterSeconds} s`, {
    details: { retryAfterSeconds },
  });
}
