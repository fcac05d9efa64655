import { CAP_SCOPES, formatCap, type CapScope } from '../config/guardrails.ts';
import {
  UNCERTAIN_HOLD_REASONS,
  type ConsentRefusal,
  type HistoryEntry,
  type IssueRefusalReason,
  type LegacyReason,
  type SendFailureReason,
  type StoredReason,
} from '../ledger/index.ts';

/** One line of a customer's timeline, in words a support agent reads without a manual. */
export interface TimelineLine {
  readonly at: string;
  readonly text: string;
  readonly action: string;
  readonly actor: string;
  readonly offerId?: string;
  readonly channel?: string;
  readonly reason?: string;
}

const CHANNEL_NAMES: Record<string, string> = { email: 'email', push: 'push', web: 'web banner' };

/** The code of a reason: its text before the first `:` (`retry:smtp_451` → `retry`). */
type CodeOf<R extends string> = R extends `${infer Code}:${string}` ? Code : R;

/** Every reason a history entry can hold: what the ledger writes now, and what earlier versions wrote. */
type HistoryReason = StoredReason | ConsentRefusal | LegacyReason;

/**
 * The codes with words of their own: every code of {@link HistoryReason}, but a channel's failure
 * reasons (the provider's status or reply code) read as themselves, bar one.
 */
type WordedCode =
  | CodeOf<Exclude<HistoryReason, SendFailureReason>>
  | Extract<SendFailureReason, 'connection_lost_after_data'>;

/** When an entry was written and the customer's time zone, for the times its words name. */
interface WordingTime {
  /** The entry's time; without it a date is always given in full. */
  readonly at?: number | undefined;
  /** The customer's zone; times read in UTC without one. */
  readonly timezone?: string | undefined;
}

/** Words for one reason code, given the text after the code's `:` and the entry's detail. */
type Wording = (rest: string, detail: unknown, reason: string, time: WordingTime) => string;

/** The code itself, spelled out: for codes that say what they mean (`provider_refused`). */
const spelledOut: Wording = (_rest, _detail, reason) => reason.replaceAll('_', ' ');

// Keyed by every code, so a reason added to the ledger without words here fails the typecheck.
const WORDING = {
  no_consent: () => 'no consent for this channel',
  no_address: () => 'no address for this channel in the profile',
  too_little_validity_left: () => 'too little validity left to send it',
  quiet_hours: () => "customer's quiet hours",
  feed_behind: () => 'the order feed is behind: the customer may already have bought',
  stale_data: () => 'the data behind the decision is too old',
  stock_unknown: (_rest, detail, _reason, time) => {
    const sku = text(detailField(detail, 'sku'));
    const since = detailField(detail, 'at');
    return sku && typeof since === 'number'
      ? `stock of ${sku} not known since ${clockTime(since, time)}`
      : 'stock is not known recently enough';
  },
  out_of_stock: () => 'the product is out of stock',
  sensitive_category: (_rest, detail) => {
    const category = text(detailField(detail, 'category'));
    return category
      ? `the customer withdrew the opt-in for ${category}`
      : 'a sensitive category the customer has not opted in to';
  },
  lifecycle_mismatch: (_rest, detail) => {
    const lifecycle = detailField(detail, 'lifecycle');
    if (lifecycle === 'returning') {
      return 'the customer has no earlier purchase (the offer is for returning customers)';
    }
    if (lifecycle === 'new') return 'the customer has bought before (the offer is for new customers)';
    return 'the customer is not of the lifecycle the offer targets';
  },
  recently_returned: (_rest, detail, _reason, time) => {
    const at = detailField(detail, 'at');
    return typeof at === 'number'
      ? `returned this product on ${day(at, time)}`
      : 'the customer returned this product recently';
  },
  recently_purchased: (_rest, detail, _reason, time) => {
    const at = detailField(detail, 'at');
    return typeof at === 'number'
      ? `bought this product on ${day(at, time)}`
      : 'the customer bought this product recently';
  },
  frequency_cap: (_rest, detail) => {
    const scope = detailField(detail, 'scope');
    const count = detailField(detail, 'count');
    const windowMs = detailField(detail, 'windowMs');
    if (!isCapScope(scope) || typeof count !== 'number' || typeof windowMs !== 'number') {
      return 'the customer has had as many messages as the cap allows';
    }
    const [one, many] = CAP_NOUNS[scope];
    const cap = `cap ${formatCap({ count, windowMs })}`;
    return count === 0
      ? `no ${many} are allowed (${cap})`
      : `already ${count} ${count === 1 ? one : many} in the last ${windowWords(windowMs)} (${cap})`;
  },
  not_in_audience: () => 'the customer no longer matches the audience',
  not_yet_valid: () => 'the offer is not valid yet',
  waiting_for_slot: () => 'waiting for the slot to free',
  in_flight: () => 'another attempt is in flight',
  retraction_in_flight: () =>
    "an earlier offer's message is being taken back first, so this one arrives after it",
  lease_nearly_over: spelledOut,
  replaced_by: (rest) => `offer ${rest}'s message already replaced it on the device`,
  uncertain: (rest) => `given up: could not be sure in time (${explainReason(rest)})`,
  held_past_deadline: (rest) => `given up: still held when time ran out (${explainReason(rest)})`,
  lease_expired: () => 'the worker sending it stopped answering',
  outcome_unknown: spelledOut,
  connection_lost_after_data: () =>
    'the mail server dropped the connection after receiving the message: it may or may not have arrived',
  offer_cancelled: () => 'the offer was cancelled',
  offer_expired: () => 'the offer was expired',
  offer_superseded: () => 'the offer was superseded',
  offer_redeemed: () => 'the offer was redeemed',
  outranked: (_rest, detail) => {
    const by = text(detailField(detail, 'by'));
    const priority = text(detailField(detail, 'priority'));
    const winner = text(detailField(detail, 'winnerPriority'));
    if (!by) return 'outranked';
    return winner === priority
      ? `superseded by offer ${by} (same priority ${priority}, newer)`
      : `superseded by offer ${by} (priority ${winner} > ${priority})`;
  },
  slot_taken: () => 'the slot already had a live offer',
  validity_ended: () => 'its validity ended',
  purchased: spelledOut,
  returned: spelledOut,
  cancelled: spelledOut,
  redeemed: spelledOut,
  campaign_cancelled: () => 'its campaign was cancelled',
  retry: (rest) => `temporary failure (${rest}), will retry`,
  gave_up: (rest) => `gave up after repeated temporary failures (${rest.trim()})`,
  provider_refused: spelledOut,
  no_email_provider_configured: spelledOut,
  no_push_provider_configured: spelledOut,
  render_failed: spelledOut,
  cannot_retract: spelledOut,
  published: () => 'shown on the website',
  resolved_by_support: spelledOut,
  older_than_last_change: spelledOut,
  customer_unsubscribed: spelledOut,
  customer_erased: () => 'the customer asked for erasure',
} satisfies Record<WordedCode, Wording>;

function isWorded(code: string): code is WordedCode {
  return Object.hasOwn(WORDING, code);
}

/** What a frequency cap counts, one and many. */
const CAP_NOUNS: Record<CapScope, readonly [string, string]> = {
  email: ['email', 'emails'],
  push: ['push', 'pushes'],
  any: ['message (email or push)', 'messages (email or push)'],
};

function isCapScope(value: unknown): value is CapScope {
  return CAP_SCOPES.includes(value as CapScope);
}

/**
 * Why an offer was not issued, where the words differ from the same reason's at a send: there a
 * sensitive category means an opt-in withdrawn since, here one never given.
 */
const REFUSAL_WORDING: Partial<Record<IssueRefusalReason, Wording>> = {
  no_profile: () => 'the customer has no profile',
  sensitive_category: (_rest, detail) => {
    const category = text(detailField(detail, 'category'));
    return category
      ? `${category} is a sensitive category and the customer has not opted in`
      : 'a sensitive category the customer has not opted in to';
  },
};

function isRefusalWorded(reason: string): reason is keyof typeof REFUSAL_WORDING {
  return Object.hasOwn(REFUSAL_WORDING, reason);
}

/**
 * Plain words for a reason the ledger writes, the times its detail names in the customer's zone
 * (UTC without one). Anything else — a channel's failure code, an operator's note, text an
 * earlier version stored — reads as itself with `_` as spaces.
 */
export function explainReason(reason: string | undefined, detail?: unknown, time: WordingTime = {}): string {
  if (!reason) return '';
  const [code, rest] = splitOnce(reason, ':');
  return isWorded(code) ? WORDING[code](rest, detail, reason, time) : reason.replaceAll('_', ' ');
}

/** Plain words for why an offer was not issued to the customer (history `not_offered`). */
export function explainRefusal(reason: string | undefined, detail?: unknown, time: WordingTime = {}): string {
  const wording = reason !== undefined && isRefusalWorded(reason) ? REFUSAL_WORDING[reason] : undefined;
  return wording ? wording('', detail, reason ?? '', time) : explainReason(reason, detail, time);
}

function describe(entry: HistoryEntry, timezone: string | undefined): string {
  // Delivery lines name their offer: after a supersede, two offers' lines share a millisecond.
  const channelName = entry.channel ? (CHANNEL_NAMES[entry.channel] ?? entry.channel) : '';
  const channel = entry.offer ? `${channelName} of offer ${entry.offer}` : channelName;
  const time = { at: entry.at, timezone };
  const why = explainReason(entry.reason, entry.detail, time);
  const because = why ? `: ${why}` : '';
  switch (entry.action) {
    case 'issued':
      return `offer ${entry.offer ?? ''} issued for slot ${entry.slot ?? ''}`;
    case 'activated':
      return `offer ${entry.offer ?? ''} became live in slot ${entry.slot ?? ''}`;
    case 'queued':
      return `offer ${entry.offer ?? ''} is waiting: ${why}`;
    case 'superseded':
    case 'cancelled':
    case 'expired':
    case 'redeemed':
      return `offer ${entry.offer ?? ''} ${entry.action}${because}`;
    case 'delivery_claimed':
      return `${channel}: sending (attempt ${entry.attempt ?? 1})`;
    case 'delivery_sent':
      return `${channel}: sent${entry.reason ? because : ''}`;
    case 'delivery_held': {
      const until = detailField(detail(entry), 'retryAt');
      const zone = text(detailField(detail(entry), 'timezone'));
      if (entry.reason === 'quiet_hours' && zone && typeof until === 'number') {
        // Quiet hours are the customer's own: their end reads on the customer's clock.
        const end = clockTime(until, { at: entry.at, timezone: zone });
        return `${channel}: held: quiet hours in ${zone} until ${end}`;
      }
      // A fact not known recently enough is read again then: that is a next look, not an end.
      const next = isUncertainHold(entry.reason) ? ', checked again at' : ' until';
      const when = until ? `${next} ${formatTime(Number(until), timezone)}` : '';
      return `${channel}: held${because}${when}`;
    }
    case 'delivery_retry':
      return `${channel}${because}`;
    case 'delivery_resolved':
      return entry.state === 'sent'
        ? `${channel}: support confirmed it was sent${because}`
        : entry.state === 'scheduled'
          ? `${channel}: support asked to send it again${because}`
          : `${channel}: support asked to send it again, but the offer had ended${because}`;
    case 'delivery_unknown':
      return `${channel}: outcome unknown${because}. It may have arrived; it is not resent automatically: resolve it as sent, or send it again`;
    case 'retraction_due':
      return `${channel}: to be taken back${because}`;
    case 'retracted':
      return `${channel}: taken back${because}`;
    case 'retraction_failed':
      return `${channel}: could not be taken back${because}`;
    case 'withdrawn':
      return `${channel}: no longer shown${because}`;
    case 'profile_updated':
      return `profile updated (${(detailField(entry.detail, 'fields') as string[] | undefined)?.join(', ') ?? ''})`;
    case 'consent_granted':
    case 'consent_revoked':
      return `${channel} consent ${entry.action === 'consent_granted' ? 'granted' : 'revoked'} (via ${entry.reason ?? 'unknown source'})`;
    case 'erased':
      return 'personal data erased';
    case 'not_offered': {
      const refusal = explainRefusal(entry.reason, entry.detail, time);
      return refusal ? `not offered: ${refusal}` : 'not offered';
    }
    default:
      if (entry.action.startsWith('delivery_'))
        return `${channel}: ${entry.action.slice('delivery_'.length)}${because}`;
      return `${entry.action.replaceAll('_', ' ')}${because}`;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function detail(entry: HistoryEntry): unknown {
  return entry.detail;
}

function detailField(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

function isUncertainHold(reason: string | undefined): boolean {
  return (UNCERTAIN_HOLD_REASONS as readonly (string | undefined)[]).includes(reason);
}

/** A zone Intl knows: the one given, or UTC (a record may name a zone this runtime lacks). */
function knownZone(timezone: string | undefined): string {
  if (timezone === undefined) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: timezone });
    return timezone;
  } catch {
    return 'UTC';
  }
}

/** The local calendar day of `ms` in `zone` (`2026-12-01`), to tell days apart. */
function localDate(ms: number, zone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, dateStyle: 'short' }).format(ms);
}

/** A day as `1 Dec` in the customer's zone (UTC without one), with the year when not the entry's. */
function day(ms: number, time: WordingTime): string {
  const zone = knownZone(time.timezone);
  const year = (at: number) => localDate(at, zone).slice(0, 4);
  const sameYear = time.at !== undefined && year(ms) === year(time.at);
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(ms);
}

/** `08:00` in the customer's zone (UTC without one), and ` on 3 Dec` when not the entry's local day. */
function clockTime(ms: number, time: WordingTime): string {
  const zone = knownZone(time.timezone);
  const clock = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(ms);
  return time.at !== undefined && localDate(ms, zone) === localDate(time.at, zone)
    ? clock
    : `${clock} on ${day(ms, time)}`;
}

/** A cap's window in words: `1 day`, `7 days`, `6 hours`, `30 minutes`. */
function windowWords(ms: number): string {
  const [count, unit] =
    ms % 86_400_000 === 0
      ? [ms / 86_400_000, 'day']
      : ms % 3_600_000 === 0
        ? [ms / 3_600_000, 'hour']
        : ms % 60_000 === 0
          ? [ms / 60_000, 'minute']
          : [ms / 1000, 'second'];
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

function formatTime(ms: number, timezone: string | undefined): string {
  const zone = timezone ?? 'UTC';
  try {
    const text = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
    }).format(ms);
    return `${text} ${zone}`;
  } catch {
    return new Date(ms).toISOString();
  }
}

/** The customer's history as a timeline, in ledger-time order, each line in plain words. */
export function describeHistory(
  entries: readonly HistoryEntry[],
  options: { timezone?: string | undefined } = {},
): TimelineLine[] {
  return entries.map((entry) => ({
    at: new Date(entry.at).toISOString(),
    text: describe(entry, options.timezone),
    action: entry.action,
    actor: entry.actor,
    ...(entry.offer === undefined ? {} : { offerId: entry.offer }),
    ...(entry.channel === undefined ? {} : { channel: entry.channel }),
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
  }));
}
