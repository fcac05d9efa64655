import { ConcordError } from '../errors.ts';

/** How a deployment lays out its ledger keys: the key prefix and the fixed partition count. */
export interface KeyLayout {
  readonly prefix: string;
  readonly partitions: number;
}

/** The keys of one customer and of the partition it lives in, in the order the scripts expect. */
export interface CustomerKeys {
  /** hash offerId → offer document, for the customer's offers that have ended */
  readonly offers: string;
  /** string: the customer's open offers (active or pending), together in one document */
  readonly live: string;
  /** stream: the customer's history, one entry per transition */
  readonly history: string;
  /** hash: the customer's profile (contact, consent, attributes) */
  readonly profile: string;
  /** partition hash offerId → customerId */
  readonly owners: string;
  /** partition hash "<customerId>|<idempotencyKey>" → "<offerId>|<fingerprint>" */
  readonly idem: string;
  /** partition stream of effects for the relay */
  readonly outbox: string;
  /** partition sorted set of time-driven transitions ("activate|offerId", "expire|offerId") */
  readonly due: string;
  /** partition sorted set of leased deliveries by lease end ("cid|offerId|channel") */
  readonly leases: string;
  /** partition sorted set of deliveries whose outcome is unknown ("cid|offerId|channel") */
  readonly unknown: string;
  /** partition lexicographic indexes of open offers: "<value>|offerId" (the owners hash names the customer) */
  readonly bySku: string;
  readonly byCategory: string;
  readonly byCampaign: string;
  /**
   * hash "<slot>|<channel>|<offerId>" → until: retractions being sent, which a newer offer's
   * message under the same collapse key waits for (it only exists while one is in flight)
   */
  readonly retracting: string;
  /**
   * sorted set of what the guardrails count, by time: "s|<channel>|<offerId>" a send (claimed),
   * "p|<sku>" the latest purchase and "r|<sku>" the latest return of a SKU, "first|purchase" the
   * first purchase ever (lifecycle); pruned past the longest window a rule may look back over
   */
  readonly marks: string;
}

/** The partition-wide keys, for sweeps and the relay. */
export type PartitionKeys = Pick<
  CustomerKeys,
  'owners' | 'idem' | 'outbox' | 'due' | 'leases' | 'unknown' | 'bySku' | 'byCategory' | 'byCampaign'
>;

/**
 * The KEYS of every customer-scoped transition script, in order: the one place that order is
 * written. The script loader builds the Lua table that names them from this list.
 */
export const TRANSITION_KEYS = [
  'offers',
  'live',
  'history',
  'profile',
  'owners',
  'idem',
  'outbox',
  'due',
  'leases',
  'unknown',
  'bySku',
  'byCategory',
  'byCampaign',
  'retracting',
  'marks',
] as const satisfies readonly (keyof CustomerKeys)[];

const OFFER_ID = /^o(\d{2,4})-[0-9A-HJKMNP-TV-Z]{26}$/;

/** 32-bit FNV-1a over the UTF-8 bytes: stable across processes, languages and restarts. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The one key builder of the ledger. Every key of a customer and of its partition carries the
 * hash tag `{pNN}`, so one script can touch them all atomically, on a single Redis or a cluster.
 */
export class LedgerKeys {
  readonly prefix: string;
  readonly partitions: number;
  private readonly width: number;

  constructor(layout: KeyLayout) {
    if (!Number.isInteger(layout.partitions) || layout.partitions < 1 || layout.partitions > 1024) {
      throw new ConcordError('invalid_config', 'partitions must be an integer from 1 to 1024');
    }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(layout.prefix)) {
      throw new ConcordError('invalid_config', 'the key prefix must be 1 to 64 of A-Z a-z 0-9 _ . -');
    }
    this.prefix = layout.prefix;
    this.partitions = layout.partitions;
    this.width = Math.max(2, String(layout.partitions - 1).length);
  }

  /** The partition a customer belongs to. */
  partitionOf(customerId: string): number {
    return fnv1a32(customerId) % this.partitions;
  }

  /** The zero-padded partition label used in tags and offer ids, e.g. `07`. */
  label(partition: number): string {
    return String(partition).padStart(this.width, '0');
  }

  /** The Redis hash tag of a partition, e.g. `{p07}`. */
  tag(partition: number): string {
    return `{p${this.label(partition)}}`;
  }

  /** A new offer id for the customer's partition: `o07-<ulid>`. */
  offerIdFor(customerId: string, ulid: string): string {
    return `o${this.label(this.partitionOf(customerId))}-${ulid}`;
  }

  /** The partition named by an offer id; throws `not_found` for an id this deployment cannot own. */
  partitionOfOffer(offerId: string): number {
    const match = OFFER_ID.exec(offerId);
    const partition = match?.[1] === undefined ? Number.NaN : Number(match[1]);
    if (match?.[1]?.length !== this.width || !(partition < this.partitions)) {
      throw new ConcordError('not_found', `no offer ${offerId}`);
    }
    return partition;
  }

  /** The keys of one partition. */
  partition(partition: number): PartitionKeys {
    const base = `${this.prefix}:${this.tag(partition)}`;
    return {
      owners: `${base}:owners`,
      idem: `${base}:idem`,
      outbox: `${base}:outbox`,
      due: `${base}:due`,
      leases: `${base}:leases`,
      unknown: `${base}:unknown`,
      bySku: `${base}:idx:sku`,
      byCategory: `${base}:idx:category`,
      byCampaign: `${base}:idx:campaign`,
    };
  }

  /** The keys of one customer together with its partition's keys. */
  customer(customerId: string): CustomerKeys {
    const partition = this.partitionOf(customerId);
    const base = `${this.prefix}:${this.tag(partition)}:c:${customerId}`;
    return {
      offers: `${base}:offers`,
      live: `${base}:live`,
      history: `${base}:history`,
      profile: `${base}:profile`,
      retracting: `${base}:retracting`,
      marks: `${base}:marks`,
      ...this.partition(partition),
    };
  }

  /** The KEYS list of every customer-scoped transition script, in {@link TRANSITION_KEYS} order. */
  transitionKeys(customerId: string): string[] {
    const keys = this.customer(customerId);
    return TRANSITION_KEYS.map((name) => keys[name]);
  }

  /**
   * The KEYS of `recordEvent`: the customer scope, the partition's recorded events (the hash of
   * earlier versions), the customer's signals, the partition's recorded events (sorted by time).
   */
  eventKeys(customerId: string): string[] {
    const partition = this.partitionOf(customerId);
    const base = `${this.prefix}:${this.tag(partition)}`;
    return [
      ...this.transitionKeys(customerId),
      `${base}:events`,
      `${base}:c:${customerId}:signals`,
      `${base}:events-seen`,
    ];
  }

  /**
   * The KEYS of `eraseCustomer`: the customer scope and the customer's signals stream, every
   * key that holds something of the customer.
   */
  erasureKeys(customerId: string): string[] {
    const partition = this.partitionOf(customerId);
    return [
      ...this.transitionKeys(customerId),
      `${this.prefix}:${this.tag(partition)}:c:${customerId}:signals`,
    ];
  }

  /** Deployment-wide keys, under one hash tag `{g}` so a script may take several of them. */
  global(): {
    stock: string;
    stockEvents: string;
    stockEventsSeen: string;
    watermarks: string;
    campaigns: string;
  } {
    return {
      stock: `${this.prefix}:{g}:stock`,
      /** hash of earlier versions: stock event id → ledger time */
      stockEvents: `${this.prefix}:{g}:stock-events`,
      /** sorted set: stock event id by the ledger time it was recorded */
      stockEventsSeen: `${this.prefix}:{g}:stock-events-seen`,
      watermarks: `${this.prefix}:{g}:watermarks`,
      /** sorted set of campaign ids by creation time */
      campaigns: `${this.prefix}:{g}:campaigns`,
    };
  }

  /**
   * The KEYS of `updateCampaign`, under the campaign's own hash tag: the campaign hash, its log
   * stream and its per-customer outcomes.
   */
  campaignKeys(campaignId: string): [campaign: string, log: string, outcomes: string] {
    const base = `${this.prefix}:{k:${campaignId}}`;
    return [`${base}:campaign`, `${base}:log`, `${base}:outcomes`];
  }
}
