import type { OfferRecord, Recipient } from '../ledger/index.ts';
import type { SendFailureReason } from './reasons.ts';

/** Where a message's links point; built and signed by the delivery use case. */
export interface OfferLinks {
  /** `GET /o/:offerId?sig=…`: the live offer, or a page saying it ended. */
  readonly offerUrl: string;
  /** RFC 8058 one-click unsubscribe for this channel (`POST` changes, `GET` confirms). */
  readonly unsubscribeUrl: string;
}

/** Everything a channel needs to render and send one offer: the ledger's snapshot, never a read. */
export interface SendContext {
  readonly offer: OfferRecord;
  readonly recipient: Recipient;
  readonly links: OfferLinks;
}

/**
 * What became of a send, as the delivery use case maps it onto the ledger:
 * `sent` confirms; `transient` is retried with backoff; `permanent` fails the delivery with the
 * provider's reason; `unknown` means the message may or may not have left (never resent by itself).
 * Reasons are a closed set ({@link SendFailureReason}): a provider's answer text is never kept.
 */
export type SendOutcome =
  | { readonly status: 'sent'; readonly providerRef?: string }
  | { readonly status: 'transient'; readonly reason: SendFailureReason; readonly retryAfterMs?: number }
  | { readonly status: 'permanent'; readonly reason: SendFailureReason }
  | { readonly status: 'unknown'; readonly reason: SendFailureReason };

/** A channel that sends through a provider (email, push). */
export interface MessageChannel<Rendered> {
  readonly name: 'email' | 'push';
  /** Renders the offer; pure, so one render can be inspected, logged or compared. */
  render(context: SendContext): Rendered;
  /** Sends a rendered offer; never throws for a provider's answer, only reports it. */
  send(rendered: Rendered, context: SendContext): Promise<SendOutcome>;
  /**
   * Takes back an offer that ended after it was sent, where the channel can (push: a replacement
   * under the same collapse key). Undefined where it cannot (an email cannot be unsent).
   */
  retract?(context: SendContext): Promise<SendOutcome>;
  close(): Promise<void>;
}
