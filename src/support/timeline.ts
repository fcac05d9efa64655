import type {
  ConsentRefusal,
  HistoryEntry,
  LegacyReason,
  SendFailureReason,
  StoredReason,
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

/** Words for one reason code, given the text after the code's `:` and the entry's detail. */
type Wording = (rest: string, detail: unknown, reason: string) => string;

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
  stock_unknown: () => 'stock is not known recently enough',
  out_of_stock: () => 'the product is out of stock',
  sensitive_category: () => 'a sensitive category the customer has not opted in to',
  lifecycle_mismatch: () => 'the customer is not of the lifecycle the offer targets',
  recently_returned: () => 'the customer returned this product recently',
  recently_purchased: () => 'the customer bought this product recently',
  frequency_cap: () => 'the customer has had as many messages as the cap allows',
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

/**
 * Plain words for a reason the ledger writes. Anything else — a channel's failure code, an
 * operator's note, text an earlier version stored — reads as itself with `_` as spaces.
 */
export function explainReason(reason: string | undefined, detail?: unknown): string {
  if (!reason) return '';
  const [code, rest] = splitOnce(reason, ':');
  return isWorded(code) ? WORDING[code](rest, detail, reason) : reason.replaceAll('_', ' ');
}

function describe(entry: HistoryEntry, timezone: string | undefined): string {
  // Delivery lines name their offer: after a supersede, two offers' lines share a millisecond.
  const channelName = entry.channel ? (CHANNEL_NAMES[entry.channel] ?? entry.channel) : '';
  const channel = entry.offer ? `${channelName} of offer ${entry.offer}` : channelName;
  const why = explainReason(entry.reason, entry.detail);
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
      const when = until ? ` until ${formatTime(Number(until), timezone)}` : '';
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
