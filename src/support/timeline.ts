import type { HistoryEntry } from '../ledger/index.ts';

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

/** Plain words for the reason codes the ledger writes. */
export function explainReason(reason: string | undefined, detail?: unknown): string {
  if (!reason) return '';
  const [code, rest] = splitOnce(reason, ':');
  switch (code) {
    case 'no_consent':
      return 'no consent for this channel';
    case 'no_address':
      return 'no address for this channel in the profile';
    case 'too_little_validity_left':
      return 'too little validity left to send it';
    case 'quiet_hours':
      return "customer's quiet hours";
    case 'watermark_behind':
      return 'the order feed is behind: the customer may already have bought';
    case 'stale_data':
      return 'the data behind the decision is too old';
    case 'stock_unknown':
      return 'stock is not known recently enough';
    case 'out_of_stock':
      return 'the product is out of stock';
    case 'not_yet_valid':
      return 'the offer is not valid yet';
    case 'waiting_for_slot':
      return 'waiting for the slot to free';
    case 'in_flight':
      return 'another attempt is in flight';
    case 'retraction_in_flight':
      return "an earlier offer's message is being taken back first, so this one arrives after it";
    case 'replaced_by':
      return `offer ${rest}'s message already replaced it on the device`;
    case 'uncertain':
      return `given up: could not be sure in time (${explainReason(rest)})`;
    case 'held_past_deadline':
      return `given up: still held when time ran out (${explainReason(rest)})`;
    case 'lease_expired':
      return 'the worker sending it stopped answering';
    case 'connection_lost_after_data':
      return 'the mail server dropped the connection after receiving the message: it may or may not have arrived';
    case 'offer_cancelled':
    case 'offer_expired':
    case 'offer_superseded':
    case 'offer_redeemed':
      return `the offer was ${code.slice('offer_'.length)}`;
    case 'outranked': {
      const by = text(detailField(detail, 'by'));
      const priority = text(detailField(detail, 'priority'));
      const winner = text(detailField(detail, 'winnerPriority'));
      if (!by) return 'outranked';
      return winner === priority
        ? `superseded by offer ${by} (same priority ${priority}, newer)`
        : `superseded by offer ${by} (priority ${winner} > ${priority})`;
    }
    case 'slot_taken':
      return 'the slot already had a live offer';
    case 'validity_ended':
      return 'its validity ended';
    case 'retry':
      return `temporary failure (${rest}), will retry`;
    case 'gave_up':
      return `gave up after repeated temporary failures (${rest.trim()})`;
    case 'published':
      return 'shown on the website';
    case 'customer_erased':
      return 'the customer asked for erasure';
    case 'campaign_cancelled':
      return 'its campaign was cancelled';
    default:
      return reason.replaceAll('_', ' ');
  }
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
