import type { MessageChannel } from '../channels/types.ts';
import type { Ledger, QueuedChannel } from '../ledger/index.ts';
import type { LinkSigner } from './links.ts';

export type RetractionOutcome =
  | { readonly kind: 'retracted' }
  | { readonly kind: 'not_due' }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number };

export interface RetractionDeps {
  readonly ledger: Ledger;
  readonly channels: Partial<Record<QueuedChannel, MessageChannel<unknown>>>;
  readonly links: LinkSigner;
}

/**
 * Takes back a sent offer that has ended (push: a replacement under the same collapse key).
 * Idempotent: a retraction already done is not sent again, and the provider deduplicates a
 * resend by its idempotency key.
 */
export async function retract(
  deps: RetractionDeps,
  request: { offerId: string; channel: QueuedChannel; finalAttempt: boolean },
): Promise<RetractionOutcome> {
  const target = await deps.ledger.retractionTarget(request.offerId, request.channel);
  if (!target) return { kind: 'not_due' };
  // A newer offer's push under the same collapse key has already replaced this one on the device;
  // a retraction now would overwrite the newer offer.
  const replacement = (await deps.ledger.customerOffers(target.offer.customerId)).find(
    (offer) =>
      offer.offerId !== request.offerId &&
      offer.slot === target.offer.slot &&
      offer.state === 'active' &&
      (offer.deliveries[request.channel]?.state === 'sent' ||
        offer.deliveries[request.channel]?.state === 'sending'),
  );
  if (replacement) {
    await deps.ledger.confirmRetraction(request.offerId, request.channel, {
      outcome: 'done',
      reason: `replaced_by:${replacement.offerId}`,
    });
    return { kind: 'retracted' };
  }
  const adapter = deps.channels[request.channel];
  if (!adapter?.retract) {
    await deps.ledger.confirmRetraction(request.offerId, request.channel, {
      outcome: 'failed',
      reason: 'cannot_retract',
    });
    return { kind: 'failed', reason: 'cannot_retract' };
  }
  const outcome = await adapter.retract({
    offer: target.offer,
    recipient: target.recipient,
    links: {
      offerUrl: deps.links.offerUrl(request.offerId),
      unsubscribeUrl: deps.links.unsubscribeUrl(target.offer.customerId, request.channel),
    },
  });
  switch (outcome.status) {
    case 'sent':
      await deps.ledger.confirmRetraction(request.offerId, request.channel, { outcome: 'done' });
      return { kind: 'retracted' };
    case 'permanent':
      await deps.ledger.confirmRetraction(request.offerId, request.channel, {
        outcome: 'failed',
        reason: outcome.reason,
      });
      return { kind: 'failed', reason: outcome.reason };
    case 'transient':
    case 'unknown':
      // The provider deduplicates by idempotency key, so an unknown retraction is simply sent again.
      if (request.finalAttempt) {
        const reason = `gave_up: ${outcome.reason}`;
        await deps.ledger.confirmRetraction(request.offerId, request.channel, { outcome: 'failed', reason });
        return { kind: 'failed', reason };
      }
      return {
        kind: 'retry',
        reason: outcome.reason,
        ...(outcome.status === 'transient' && outcome.retryAfterMs !== undefined
          ? { retryAfterMs: outcome.retryAfterMs }
          : {}),
      };
  }
}
