import { randomUUID } from 'node:crypto';
import type { MessageChannel, SendContext, SendOutcome } from '../channels/types.ts';
import { isConcordError } from '../errors.ts';
import type {
  ClaimGuards,
  ClaimSkipReason,
  DeliveryReply,
  FailReason,
  HoldReason,
  Ledger,
  QueuedChannel,
  SendFailureReason,
} from '../ledger/index.ts';
import type { LinkSigner } from './links.ts';

/** What one delivery attempt came to, for the worker to map onto its queue. */
export type DeliveryOutcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'skipped'; readonly reason: ClaimSkipReason }
  | { readonly kind: 'held'; readonly reason: HoldReason; readonly retryAt: number; readonly now: number }
  | { readonly kind: 'retry'; readonly reason: SendFailureReason; readonly retryAfterMs?: number }
  | { readonly kind: 'failed'; readonly reason: FailReason }
  | { readonly kind: 'unknown'; readonly reason: SendFailureReason }
  | { readonly kind: 'stale' };

/** Per-channel rules of the send path. */
export interface ChannelPolicy {
  /** How long a claim leases the delivery: longer than a slow send, shorter than patience. */
  readonly leaseMs: number;
  /** The least validity an offer must have left to be sent on this channel. */
  readonly minRemainingMs: number;
}

export interface DeliveryDeps {
  readonly ledger: Ledger;
  readonly channels: Partial<Record<QueuedChannel, MessageChannel<unknown>>>;
  readonly links: LinkSigner;
  readonly policy: Readonly<Record<QueuedChannel, ChannelPolicy>>;
  /** Facts from outside the partition (quiet hours, feed watermarks, stock), read before the claim. */
  readonly guards?: (offerId: string, channel: QueuedChannel) => Promise<ClaimGuards | undefined>;
  /** Called between send and confirm: the window a crash leaves ambiguous (tests break it here). */
  readonly afterSend?: (offerId: string, channel: QueuedChannel) => void;
  /** Told how every attempt ended (metrics). */
  readonly onOutcome?: (channel: QueuedChannel, outcome: DeliveryOutcome) => void;
}

export interface DeliveryRequest {
  readonly offerId: string;
  readonly channel: QueuedChannel;
  /** The offer's customer as the job names it (a hint for the claim, see {@link Ledger.claim}). */
  readonly customerId?: string | undefined;
  /** The offer's SKU as the job names it (a hint for the claim's stock read, see {@link Ledger.claim}). */
  readonly skuHint?: string | undefined;
  /** This is the queue's last attempt: a transient failure now fails the delivery. */
  readonly finalAttempt: boolean;
}

/**
 * One delivery attempt: claim → render from the claim's snapshot → send → confirm. Nothing is
 * sent without a GO, and a send whose outcome cannot be known is confirmed `unknown`.
 */
export async function deliver(deps: DeliveryDeps, request: DeliveryRequest): Promise<DeliveryOutcome> {
  const outcome = await attempt(deps, request);
  deps.onOutcome?.(request.channel, outcome);
  return outcome;
}

async function attempt(deps: DeliveryDeps, request: DeliveryRequest): Promise<DeliveryOutcome> {
  const { ledger, links } = deps;
  const { offerId, channel } = request;
  const policy = deps.policy[channel];
  const guards = await deps.guards?.(offerId, channel);
  const answer = await ledger.deliveries.claim({
    offerId,
    channel,
    leaseMs: policy.leaseMs,
    minRemainingMs: policy.minRemainingMs,
    claimId: randomUUID(),
    ...(guards === undefined ? {} : { guards }),
    ...(request.customerId === undefined ? {} : { customerId: request.customerId }),
    ...(request.skuHint === undefined ? {} : { skuHint: request.skuHint }),
  });
  if (answer.answer === 'skip') return { kind: 'skipped', reason: answer.reason };
  if (answer.answer === 'hold') {
    return { kind: 'held', reason: answer.reason, retryAt: answer.retryAt, now: answer.now };
  }
  // The lease is in ledger time; measured on this process's clock from the moment of the GO.
  const leaseEndsAt = Date.now() + (answer.leaseUntil - answer.now);

  const confirm = (outcome: Parameters<Ledger['deliveries']['confirm']>[0]) =>
    confirmWithin(ledger, outcome, answer.leaseUntil);
  const base = { offerId, channel, token: answer.token };
  const adapter = deps.channels[channel];
  if (!adapter) {
    await confirm({ ...base, outcome: 'failed', reason: `no_${channel}_provider_configured` });
    return { kind: 'failed', reason: `no_${channel}_provider_configured` };
  }
  const context: SendContext = {
    offer: answer.offer,
    recipient: answer.recipient,
    links: {
      offerUrl: links.offerUrl(offerId),
      unsubscribeUrl: links.unsubscribeUrl(answer.offer.customerId, channel),
    },
  };
  let rendered: unknown;
  try {
    rendered = adapter.render(context);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // At most 300 characters in all, the prefix included.
    const reason: FailReason = `${RENDER_FAILED}${message.slice(0, 300 - RENDER_FAILED.length)}`;
    await confirm({ ...base, outcome: 'failed', reason });
    return { kind: 'failed', reason };
  }

  // A send must not start when the lease may run out before it is confirmed: past the lease the
  // delivery is `unknown` (or claimable again) and a late send would no longer be vouched for.
  const margin = Math.min(5_000, policy.leaseMs / 4);
  if (Date.now() > leaseEndsAt - margin) {
    const now = await ledger.now();
    await ledger.deliveries.hold({ ...base, reason: 'lease_nearly_over', retryAt: now + 1_000 });
    return { kind: 'held', reason: 'lease_nearly_over', retryAt: now + 1_000, now };
  }
  const outcome: SendOutcome = await adapter.send(rendered, context);
  deps.afterSend?.(offerId, channel);
  switch (outcome.status) {
    case 'sent': {
      const reply = await confirm({
        ...base,
        outcome: 'sent',
        ...optional('providerRef', outcome.providerRef),
      });
      return reply.result === 'stale' ? { kind: 'stale' } : { kind: 'sent' };
    }
    case 'permanent':
      await confirm({ ...base, outcome: 'failed', reason: outcome.reason });
      return { kind: 'failed', reason: outcome.reason };
    case 'unknown':
      await confirm({ ...base, outcome: 'unknown', reason: outcome.reason });
      return { kind: 'unknown', reason: outcome.reason };
    case 'transient':
      if (request.finalAttempt) {
        const reason: FailReason = `gave_up: ${outcome.reason}`;
        await confirm({ ...base, outcome: 'failed', reason });
        return { kind: 'failed', reason };
      }
      await confirm({ ...base, outcome: 'retry', reason: outcome.reason });
      return { kind: 'retry', reason: outcome.reason, ...optional('retryAfterMs', outcome.retryAfterMs) };
  }
}

const RENDER_FAILED = 'render_failed: ';

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Confirms, retrying while the ledger is unreachable and the lease still holds: the send has
 * happened, and only a confirm can say so. Past the lease the delivery goes `unknown` on its own.
 */
async function confirmWithin(
  ledger: Ledger,
  outcome: Parameters<Ledger['deliveries']['confirm']>[0],
  leaseUntil: number,
): Promise<DeliveryReply> {
  // The lease is in ledger time; this process's clock is close enough to bound the retries.
  const deadline = leaseUntil;
  for (let attempt = 0; ; attempt++) {
    try {
      return await ledger.deliveries.confirm(outcome);
    } catch (error) {
      if (!isConcordError(error, 'ledger_unavailable') || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}
