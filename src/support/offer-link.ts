import { ConcordError } from '../errors.ts';
import type { Ledger, OfferRecord } from '../ledger/index.ts';

/** What the page behind an offer link shows. */
export type OfferLinkView =
  | { readonly kind: 'live'; readonly offer: OfferRecord }
  | { readonly kind: 'upcoming'; readonly offer: OfferRecord }
  | { readonly kind: 'ended'; readonly offer: OfferRecord; readonly current?: OfferRecord };

/**
 * Resolves an offer link at the ledger clock: the offer while it is live, a note while it has not
 * started, or that it ended together with the slot's live offer on any channel (the link may come
 * from an email while the customer has no web banner). Throws `not_found` for an unknown offer.
 */
export async function resolveOfferLink(ledger: Ledger, offerId: string): Promise<OfferLinkView> {
  const offer = await ledger.offers.getOffer(offerId);
  if (!offer) throw new ConcordError('not_found', `no offer ${offerId}`);
  const now = await ledger.now();
  const isLive = (candidate: OfferRecord) =>
    candidate.state === 'active' && candidate.validFrom <= now && now < candidate.validUntil;
  if (isLive(offer)) return { kind: 'live', offer };
  if (offer.state === 'pending') return { kind: 'upcoming', offer };
  // The customer's open offers only (bounded by the open-offer cap), never every offer they had.
  const current = (await ledger.offers.openOffers(offer.customerId)).find(
    (other) => other.offerId !== offerId && other.slot === offer.slot && isLive(other),
  );
  return current ? { kind: 'ended', offer, current } : { kind: 'ended', offer };
}
