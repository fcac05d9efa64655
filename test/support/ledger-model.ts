/**
 * A plain in-memory model of the ledger's rules (contradictions, lifecycle, claims: docs/API.md and docs/ARCHITECTURE.md),
 * written independently of the Lua, for model-based tests. Each operation takes the ledger time
 * the real call reported, so both decide on the same clock. Its reasons are the ledger's own
 * unions, so a reason the model writes is one the ledger knows.
 */
import type {
  ClaimHoldReason,
  ClaimSkipReason,
  DeliveryReason,
  DeliverySkipReason,
} from '../../src/ledger/index.ts';

export type ModelChannel = 'email' | 'push' | 'web';
export type ModelPolicy = 'replace' | 'reject' | 'queue';

export interface ModelDelivery {
  state: 'scheduled' | 'held' | 'sending' | 'sent' | 'skipped' | 'cancelled' | 'failed' | 'unknown';
  reason?: DeliveryReason | undefined;
  attempts: number;
  token?: number;
  claimId?: string;
  leaseUntil?: number;
  retraction?: 'due' | 'done';
}

export interface ModelOffer {
  offerId: string;
  customerId: string;
  slot: string;
  priority: number;
  policy: ModelPolicy;
  validFrom: number;
  validUntil: number;
  createdAt: number;
  sku?: string | undefined;
  discount: number;
  channels: ModelChannel[];
  state: 'pending' | 'active' | 'redeemed' | 'expired' | 'cancelled' | 'superseded';
  version: number;
  queued: boolean;
  deliveries: Partial<Record<ModelChannel, ModelDelivery>>;
}

export interface ModelCustomer {
  consent: Record<ModelChannel, boolean>;
  address: { email: boolean; push: boolean };
}

export type ModelClaim =
  | { answer: 'go'; token: number }
  | { answer: 'skip'; reason: ClaimSkipReason }
  | { answer: 'hold'; reason: ClaimHoldReason; retryAt: number };

const ENDED = new Set(['redeemed', 'expired', 'cancelled', 'superseded']);
const DELIVERY_ENDED = new Set(['sent', 'skipped', 'cancelled', 'failed', 'unknown']);
type EndedDeliveryState = 'sent' | 'skipped' | 'cancelled' | 'failed' | 'unknown';
const deliveryEnded = (state: ModelDelivery['state']): state is EndedDeliveryState =>
  DELIVERY_ENDED.has(state);
type EndedOfferState = 'redeemed' | 'expired' | 'cancelled' | 'superseded';
const offerEnded = (state: ModelOffer['state']): state is EndedOfferState => ENDED.has(state);
const DEDUPES: Record<ModelChannel, boolean> = { email: false, push: true, web: false };

export class LedgerModel {
  readonly offers = new Map<string, ModelOffer>();

  constructor(readonly customers: Record<string, ModelCustomer>) {}

  open(customerId: string): ModelOffer[] {
    return [...this.offers.values()]
      .filter((o) => o.customerId === customerId && !ENDED.has(o.state))
      .sort((a, b) => (a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0));
  }

  private contradicts(a: ModelOffer, b: ModelOffer): boolean {
    if (a.offerId === b.offerId) return false;
    if (!(a.validFrom < b.validUntil && b.validFrom < a.validUntil)) return false;
    if (a.slot === b.slot) return true;
    if (a.discount === b.discount) return false;
    return a.sku !== undefined && a.sku === b.sku;
  }

  private outranks(a: ModelOffer, b: ModelOffer): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
    return a.offerId > b.offerId;
  }

  /** A push that may be on the device (sent, unknown, or handed over before) is retracted. */
  private retractIfMaybeShown(channel: ModelChannel, d: ModelDelivery): void {
    if (channel !== 'push' || d.retraction !== undefined) return;
    if (d.state === 'sent' || d.state === 'unknown' || d.attempts > 0) d.retraction = 'due';
  }

  private cancelDelivery(offer: ModelOffer, channel: ModelChannel, d: ModelDelivery): void {
    if (!offerEnded(offer.state)) throw new Error(`model: cancelling a delivery of a ${offer.state} offer`);
    delete d.leaseUntil;
    d.state = 'cancelled';
    d.reason = `offer_${offer.state}`;
    this.retractIfMaybeShown(channel, d);
  }

  private end(offer: ModelOffer, state: ModelOffer['state']): void {
    offer.state = state;
    offer.version += 1;
    offer.queued = false;
    for (const channel of offer.channels) {
      const d = offer.deliveries[channel]!;
      if (d.state === 'scheduled' || d.state === 'held') {
        this.cancelDelivery(offer, channel, d);
      } else if (d.state === 'sent' || d.state === 'unknown') {
        this.retractIfMaybeShown(channel, d);
        if (d.state === 'sent' && channel === 'web') d.retraction = 'done';
      }
    }
  }

  private activate(offer: ModelOffer): void {
    offer.state = 'active';
    offer.version += 1;
    offer.queued = false;
    const web = offer.deliveries.web;
    if (web?.state === 'scheduled') {
      if (this.customers[offer.customerId]!.consent.web) {
        web.state = 'sent';
        web.reason = 'published';
      } else {
        web.state = 'skipped';
        web.reason = 'no_consent';
      }
    }
  }

  private tryActivate(offer: ModelOffer): ModelOffer['state'] {
    const rivals = this.open(offer.customerId).filter(
      (o) => o.state === 'active' && this.contradicts(offer, o),
    );
    if (rivals.length === 0) {
      this.activate(offer);
      return 'active';
    }
    if (offer.policy === 'queue') {
      offer.queued = true;
      return 'pending';
    }
    if (offer.policy === 'reject') {
      this.end(offer, 'superseded');
      return 'superseded';
    }
    const stronger = rivals.filter((rival) => this.outranks(rival, offer));
    if (stronger.length > 0) {
      this.end(offer, 'superseded');
      return 'superseded';
    }
    for (const rival of rivals) this.end(rival, 'superseded');
    this.activate(offer);
    return 'active';
  }

  settle(customerId: string, now: number): void {
    for (const offer of this.open(customerId)) if (offer.validUntil <= now) this.end(offer, 'expired');
    for (let round = 0; round < 64; round++) {
      const waiting = this.open(customerId)
        .filter((o) => o.state === 'pending' && o.validFrom <= now)
        .sort((a, b) =>
          a.priority !== b.priority
            ? b.priority - a.priority
            : a.createdAt !== b.createdAt
              ? a.createdAt - b.createdAt
              : a.offerId < b.offerId
                ? -1
                : 1,
        );
      const moved = waiting.find((offer) => this.tryActivate(offer) !== 'pending');
      if (!moved) return;
    }
  }

  /** Issue; answers the expected outcome ('invalid' and 'rejected' store nothing). */
  issue(
    input: Omit<ModelOffer, 'state' | 'version' | 'queued' | 'deliveries' | 'createdAt' | 'validFrom'> & {
      validFrom?: number | undefined;
    },
    now: number,
  ): 'invalid' | { rejected: string[] } | ModelOffer {
    if (input.validUntil <= now) return 'invalid';
    this.settle(input.customerId, now);
    const offer: ModelOffer = {
      ...input,
      validFrom: input.validFrom ?? now,
      createdAt: now,
      state: 'pending',
      version: 1,
      queued: false,
      deliveries: Object.fromEntries(input.channels.map((ch) => [ch, { state: 'scheduled', attempts: 0 }])),
    };
    if (offer.policy === 'reject') {
      const conflicting = this.open(offer.customerId).filter(
        (o) => o.state === 'active' && this.contradicts(offer, o),
      );
      if (conflicting.length > 0) return { rejected: conflicting.map((o) => o.offerId) };
    }
    this.offers.set(offer.offerId, offer);
    if (offer.validFrom <= now) this.tryActivate(offer);
    return offer;
  }

  /** Cancel or redeem; answers 'ended', 'unchanged' or 'conflict'. */
  endOnRequest(
    offerId: string,
    as: 'cancelled' | 'redeemed',
    now: number,
  ): 'ended' | 'unchanged' | 'conflict' {
    const offer = this.offers.get(offerId)!;
    this.settle(offer.customerId, now);
    if (ENDED.has(offer.state)) return offer.state === as ? 'unchanged' : 'conflict';
    if (as === 'redeemed' && offer.state !== 'active') return 'conflict';
    this.end(offer, as);
    this.settle(offer.customerId, now);
    return 'ended';
  }

  claim(
    offerId: string,
    channel: 'email' | 'push',
    claimId: string,
    leaseMs: number,
    now: number,
  ): ModelClaim {
    const offer = this.offers.get(offerId)!;
    this.settle(offer.customerId, now);
    const d = offer.deliveries[channel];
    if (!d) return { answer: 'skip', reason: 'channel_not_requested' };
    let resent = false;
    if (d.state === 'sending') {
      if (d.claimId === claimId && d.leaseUntil! > now) {
        resent = true;
      } else if (d.leaseUntil! > now) {
        return { answer: 'hold', reason: 'in_flight', retryAt: d.leaseUntil! };
      } else if (!DEDUPES[channel]) {
        delete d.leaseUntil;
        d.state = 'unknown';
        d.reason = 'lease_expired';
        return { answer: 'skip', reason: 'unknown' };
      } else if (ENDED.has(offer.state)) {
        this.cancelDelivery(offer, channel, d);
        return { answer: 'skip', reason: 'delivery_cancelled' };
      } else {
        delete d.leaseUntil;
        d.state = 'scheduled';
        d.reason = 'lease_expired';
      }
    }
    if (deliveryEnded(d.state)) {
      return { answer: 'skip', reason: d.state === 'sent' ? 'already_sent' : `delivery_${d.state}` };
    }
    if (offerEnded(offer.state)) {
      d.state = 'cancelled';
      d.reason = `offer_${offer.state}`;
      return { answer: 'skip', reason: 'delivery_cancelled' };
    }
    const hold = (reason: ClaimHoldReason, retryAt: number): ModelClaim => {
      delete d.leaseUntil;
      if (retryAt >= offer.validUntil) {
        d.state = 'skipped';
        d.reason = `held_past_deadline:${reason}`;
        return { answer: 'skip', reason: d.reason };
      }
      d.state = 'held';
      d.reason = reason;
      return { answer: 'hold', reason, retryAt };
    };
    const skip = (reason: DeliverySkipReason): ModelClaim => {
      delete d.leaseUntil;
      d.state = 'skipped';
      d.reason = reason;
      return { answer: 'skip', reason };
    };
    if (offer.state === 'pending') {
      return offer.validFrom > now
        ? hold('not_yet_valid', offer.validFrom)
        : hold('waiting_for_slot', now + 30_000);
    }
    const customer = this.customers[offer.customerId]!;
    if (!customer.consent[channel]) return skip('no_consent');
    if (!customer.address[channel]) return skip('no_address');
    if (resent) return { answer: 'go', token: d.token! };
    d.attempts += 1;
    d.token = d.attempts;
    d.claimId = claimId;
    d.leaseUntil = Math.min(now + leaseMs, offer.validUntil);
    d.state = 'sending';
    d.reason = undefined;
    return { answer: 'go', token: d.token };
  }

  confirm(
    offerId: string,
    channel: 'email' | 'push',
    token: number,
    outcome: 'sent' | 'failed' | 'retry' | 'unknown',
    now: number,
  ): 'confirmed' | 'unchanged' | 'stale' {
    const offer = this.offers.get(offerId)!;
    this.settle(offer.customerId, now);
    const d = offer.deliveries[channel]!;
    if (d.token !== token) return 'stale';
    const resolvesUnknown = d.state === 'unknown' && (outcome === 'sent' || outcome === 'failed');
    if (d.state !== 'sending' && !resolvesUnknown) {
      const outcomeState = { sent: 'sent', failed: 'failed', unknown: 'unknown', retry: 'scheduled' }[
        outcome
      ];
      return d.state === outcomeState || (outcome === 'retry' && d.state === 'cancelled')
        ? 'unchanged'
        : 'stale';
    }
    delete d.leaseUntil;
    if (outcome === 'sent') {
      d.state = 'sent';
      d.reason = undefined;
      if (ENDED.has(offer.state) && channel === 'push' && d.retraction === undefined) d.retraction = 'due';
    } else if (outcome === 'failed') {
      d.state = 'failed';
      d.reason = 'provider_refused';
    } else if (outcome === 'unknown') {
      d.state = 'unknown';
      d.reason = 'outcome_unknown';
    } else if (ENDED.has(offer.state)) {
      this.cancelDelivery(offer, channel, d);
    } else {
      d.state = 'scheduled';
      d.reason = 'retry:transient';
    }
    return 'confirmed';
  }

  expireLease(offerId: string, channel: 'email' | 'push', now: number): 'expired' | 'unchanged' {
    const offer = this.offers.get(offerId)!;
    this.settle(offer.customerId, now);
    const d = offer.deliveries[channel];
    if (!d || d.state !== 'sending' || d.leaseUntil! > now) return 'unchanged';
    delete d.leaseUntil;
    if (!DEDUPES[channel]) {
      d.state = 'unknown';
      d.reason = 'lease_expired';
    } else if (ENDED.has(offer.state)) {
      this.cancelDelivery(offer, channel, d);
    } else {
      d.state = 'scheduled';
      d.reason = 'lease_expired';
    }
    return 'expired';
  }

  /** What the banner shows (a read: nothing settles). */
  live(customerId: string, slot: string, now: number): string | undefined {
    for (const offer of this.open(customerId)) {
      if (offer.slot !== slot || offer.state !== 'active' || offer.validFrom > now || now >= offer.validUntil)
        continue;
      const web = offer.deliveries.web;
      if (web?.state === 'sent' && this.customers[customerId]!.consent.web) return offer.offerId;
    }
    return undefined;
  }
}
