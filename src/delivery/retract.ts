import type { MessageChannel } from '../channels/types.ts';
import type { Ledger, QueuedChannel, RetractionFailReason, SendFailureReason } from '../ledger/index.ts';
import type { LinkSigner } from './links.ts';

export type RetractionOutcome =
  | { readonly kind: 'retracted' }
  | { readonly kind: 'not_due' }
  | { readonly kind: 'failed'; readonly reason: RetractionFailReason }
  | { readonly kind: 'retry'; readonly reason: SendFailureReason; readonly retryAfterMs?: number };

export interface RetractionDeps {
  readonly ledger: Ledger;
  readonly channels: Partial<Record<QueuedChannel, MessageChannel<unknown>>>;
  readonly links: LinkSigner;
}

/**
 * Takes back a sent offer that has ended (push: a replacement under the same collapse key).
 * The ledger decides whether it is still needed, atomically with the claims of newer offers in the
 * slot: a newer push already on its way has replaced it, and a newer push claimed after it waits
 * until this one is confirmed, so the device never ends up showing the retraction over the newer
 * offer. Idempotent: a retraction already done is not sent again, and the provider deduplicates a
 * resend by its idempotency key.
 */
export async function retract(
  deps: RetractionDeps,
  request: { offerId: string; channel: QueuedChannel; finalAttempt: boolean },
): Promise<RetractionOutcome> {
  const adapter = deps.channels[request.channel];
  const start = await deps.ledger.deliveries.beginRetraction(request.offerId, request.channel);
  if (start.answer === 'not_due') return { kind: 'not_due' };
  if (start.answer === 'replaced') return { kind: 'retracted' };
  if (start.answer === 'failed') return { kind: 'failed', reason: start.reason };
  if (!adapter?.retract) {
    await deps.ledger.deliveries.confirmRetraction(request.offerId, request.channel, {
      outcome: 'failed',
      reason: 'cannot_retract',
    });
    return { kind: 'failed', reason: 'cannot_retract' };
  }
  const outcome = await adapter.retract({
    offer: start.offer,
    recipient: start.recipient,
    links: {
      offerUrl: deps.links.offerUrl(request.offerId),
      unsubscribeUrl: deps.links.unsubscribeUrl(start.offer.customerId, request.channel),
    },
  });
  switch (outcome.status) {
    case 'sent':
      await deps.ledger.deliveries.confirmRetraction(request.offerId, request.channel, { outcome: 'done' });
      return { kind: 'retracted' };
    case 'permanent':
      await deps.ledger.deliveries.confirmRetraction(request.offerId, request.channel, {
        outcome: 'failed',
        reason: outcome.reason,
      });
      return { kind: 'failed', reason: outcome.reason };
    case 'transient':
    case 'unknown':
      // The provider deduplicates by idempotency key, so an unknown retraction is simply sent again.
      if (request.finalAttempt) {
        const reason: RetractionFailReason = `gave_up: ${outcome.reason}`;
        await deps.ledger.deliveries.confirmRetraction(request.offerId, request.channel, {
          outcome: 'failed',
          reason,
        });
        return { kind: 'failed', reason };
      }
      // Refused for now: newer pushes in the slot need not wait for the next attempt. An unknown
      // one may still arrive, so they wait until its lease ends.
      if (outcome.status === 'transient') {
        await deps.ledger.deliveries.confirmRetraction(request.offerId, request.channel, {
          outcome: 'retry',
        });
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
