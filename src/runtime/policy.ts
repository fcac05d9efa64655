/** The send path's per-channel rules, written once for every process that runs the workers. */
import type { ChannelPolicy } from '../delivery/deliver.ts';
import type { QueuedChannel } from '../ledger/index.ts';

/**
 * The least validity an offer must have left to go out: an email is read later than a push is
 * seen, so it needs more of the offer's window left to be worth sending.
 */
const MIN_REMAINING_MS: Record<QueuedChannel, number> = {
  email: 15 * 60_000,
  push: 5 * 60_000,
};

/** Lease lengths when none is configured: an SMTP hand-off may take longer than a push request. */
const DEFAULT_LEASE_MS: Record<QueuedChannel, number> = {
  email: 60_000,
  push: 30_000,
};

/**
 * The policy of every queued channel. With `leaseMs` (CONCORD_LEASE_MS in a deployment) every
 * channel leases its claims that long; without it each channel keeps its own default lease.
 */
export function channelPolicy(leaseMs?: number): Record<QueuedChannel, ChannelPolicy> {
  return {
    email: { leaseMs: leaseMs ?? DEFAULT_LEASE_MS.email, minRemainingMs: MIN_REMAINING_MS.email },
    push: { leaseMs: leaseMs ?? DEFAULT_LEASE_MS.push, minRemainingMs: MIN_REMAINING_MS.push },
  };
}
