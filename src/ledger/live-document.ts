import { Unpackr } from 'msgpackr';
import type { BannerMissReason } from './reasons.ts';

/**
 * The stored offer form's field numbers, as `lua/includes/codec.lua` lists them (a unit test
 * holds the two lists equal). Append-only there, so append-only here.
 */
// prettier-ignore
export const OFFER_FIELDS = [
  'offerId', 'customerId', 'slot', 'title', 'body', 'code', 'discount', 'sku', 'category', 'channels',
  'validFrom', 'validUntil', 'priority', 'campaignId', 'policy', 'holdDeadline', 'state', 'version',
  'createdAt', 'updatedAt', 'activatedAt', 'endedAt', 'endReason', 'supersededBy', 'queued', 'deliveries',
  'guardrails', 'lifecycle',
] as const;
// prettier-ignore
export const DELIVERY_FIELDS = [
  'state', 'reason', 'attempts', 'token', 'claimId', 'leaseUntil', 'retryAt', 'sentAt', 'retraction',
] as const;

type OfferField = (typeof OFFER_FIELDS)[number];
const OFFER_NUMBER = Object.fromEntries(
  OFFER_FIELDS.map((name, index) => [name, String(index + 1)]),
) as Record<OfferField, string>;
const WEB_STATE = String(DELIVERY_FIELDS.indexOf('state') + 1);

/**
 * Lua's MessagePack writes a table with holes as a map keyed by number and one without as a list;
 * this reader sees both as an object keyed by the number as a string. Ledger times pass 2^32, so
 * they arrive as 64-bit integers, read here as plain numbers (they stay far below 2^53).
 */
const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'number' });

type Packed = Readonly<Record<string, unknown>>;

function packedRecord(value: unknown): Packed {
  if (value === null || typeof value !== 'object')
    throw new Error('ledger live document: not a packed offer');
  if (!Array.isArray(value)) return value as Packed;
  return Object.fromEntries(value.map((item, index) => [String(index + 1), item]));
}

function unpackFields(packed: Packed, fields: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [number, value] of Object.entries(packed)) {
    const name = fields[Number(number) - 1];
    if (name === undefined) throw new Error(`ledger live document: unknown field number ${number}`);
    record[name] = value;
  }
  return record;
}

/** The customer's open offers in the stored, numbered form, in offer id order. */
export function decodeLiveDocument(raw: Buffer | null): Packed[] {
  if (raw === null) return [];
  const list: unknown = unpackr.unpack(raw);
  // An empty Lua table is written as an empty map or list alike.
  const items = Array.isArray(list) ? list : Object.values(packedRecord(list));
  return items.map(packedRecord);
}

/** Why the banner shows nothing, or the live offer unpacked (still to be parsed by its schema). */
export interface LiveOfferChoice {
  readonly offer?: Record<string, unknown>;
  readonly reason?: BannerMissReason;
  readonly now: number;
}

/**
 * What the web banner shows for a slot at ledger time `now`: the active offer of the slot whose
 * validity window holds `now` (with `minRemainingMs` to spare), whose web delivery was published,
 * for a customer who consented to the web channel. The inputs must come from one atomic read
 * (`readLiveDocument`), so the answer is the ledger's at one instant.
 */
export function liveOfferAt(input: {
  live: readonly Packed[];
  webConsent: string | null;
  slot: string;
  now: number;
  minRemainingMs: number;
}): LiveOfferChoice {
  const { now } = input;
  let reason: LiveOfferChoice['reason'] = 'no_live_offer';
  for (const packed of input.live) {
    const validFrom = packed[OFFER_NUMBER.validFrom];
    const validUntil = packed[OFFER_NUMBER.validUntil];
    if (
      packed[OFFER_NUMBER.slot] !== input.slot ||
      packed[OFFER_NUMBER.state] !== 'active' ||
      typeof validFrom !== 'number' ||
      typeof validUntil !== 'number' ||
      validFrom > now ||
      now + input.minRemainingMs >= validUntil
    ) {
      continue;
    }
    const deliveries = packed[OFFER_NUMBER.deliveries];
    const web =
      deliveries !== null && typeof deliveries === 'object' && !Array.isArray(deliveries)
        ? (deliveries as Packed)['web']
        : undefined;
    if (web === undefined) {
      reason = 'not_for_web';
      continue;
    }
    if (packedRecord(web)[WEB_STATE] !== 'sent' || !consented(input.webConsent)) {
      reason = 'no_consent';
      continue;
    }
    // The reader renders the terms; the deliveries are most of the document and of no use to it.
    return { offer: { ...unpackFields(packed, OFFER_FIELDS), deliveries: {} }, now };
  }
  return { reason, now };
}

function consented(raw: string | null): boolean {
  if (raw === null) return false;
  const consent: unknown = JSON.parse(raw);
  return (
    typeof consent === 'object' && consent !== null && (consent as { granted?: unknown }).granted === true
  );
}
