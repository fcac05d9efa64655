/** A transient failure, retried after at least `retryAfterMs` when the provider asked for it. */
export class TransientDeliveryError extends Error {
  override readonly name = 'TransientDeliveryError';
  constructor(
    readonly reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(`transient: ${reason}`);
  }
}

const BASE_MS = 1_000;
const CAP_MS = 10 * 60_000;

/**
 * Exponential backoff with "equal jitter" (half fixed, half random: spreads a herd of retries
 * while keeping a floor), capped at 10 minutes, never sooner than a provider's Retry-After.
 */
export function backoffDelay(
  attemptsMade: number,
  error?: Error,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  const floor = error instanceof TransientDeliveryError ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, floor);
}
