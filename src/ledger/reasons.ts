/**
 * Every reason the ledger and the send path write into a delivery's or an offer's `reason`, a
 * history entry, or a claim's answer: closed sets, grouped by what happened. A reason is a code,
 * never text from outside: a provider's answer, for one, may quote the recipient's address, and
 * reasons are stored, shown to support and marketers, and logged. The one exception is a note an
 * operator types (a cancel's or a support resolution's why), never one of these codes.
 *
 * Records written by earlier versions may hold any text, so schemas of stored data keep reading
 * any string; the closed schemas here are for what the scripts answer now.
 */
import { z } from 'zod';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
const digit = z.literal(DIGITS);

/** An HTTP status code, 100–599, as text. */
export const httpStatusCodeSchema = z.templateLiteral([z.literal(['1', '2', '3', '4', '5']), digit, digit]);
export type HttpStatusCode = z.infer<typeof httpStatusCodeSchema>;
/** An SMTP reply code that refuses (4xx transient, 5xx permanent), as text. */
export const smtpReplyCodeSchema = z.templateLiteral([z.literal(['4', '5']), digit, digit]);
export type SmtpReplyCode = z.infer<typeof smtpReplyCodeSchema>;

/**
 * What a request that got no answer ran into: the system error codes worth telling apart, `tls`
 * for a failed handshake or certificate, and `other` for anything else.
 */
export const NETWORK_CAUSES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'tls',
  'other',
] as const;
export type NetworkCause = (typeof NETWORK_CAUSES)[number];

/** The push providers, as reasons name them: the HTTP provider (`push`) and Web Push (`webpush`). */
export const PUSH_PROVIDER_NAMES = ['push', 'webpush'] as const;
export type PushProviderName = (typeof PUSH_PROVIDER_NAMES)[number];
const pushProvider = z.enum(PUSH_PROVIDER_NAMES);

/** Why a push (or a push retraction) did not go through. */
export const pushFailureReasonSchema = z.union([
  /** The provider answered with this status (429, 5xx: transient; other 4xx, 3xx: permanent). */
  z.templateLiteral([pushProvider, '_', httpStatusCodeSchema]),
  /** No answer within the channel's timeout (connect or total). */
  z.templateLiteral([pushProvider, '_timeout']),
  z.templateLiteral([pushProvider, '_network: ', z.enum(NETWORK_CAUSES)]),
  z.enum([
    /** Web Push 404 or 410: the browser dropped the subscription. */
    'subscription_gone',
    /** The endpoint is not a public https host on port 443 (or resolves to a non-public address). */
    'webpush_endpoint_refused',
    /** `CONCORD_PUSH_HOSTS` is set and the endpoint's host is not on it. */
    'webpush_host_not_allowed',
    /** web-push could not build the request (a subscription key it cannot use). */
    'webpush_invalid',
    /** The offer could not be rendered for the push (a retraction's render). */
    'render_failed',
  ]),
]);

/** The nodemailer error codes that say the message itself was refused before any server saw it. */
export const MESSAGE_ERROR_CODES = [
  'EENVELOPE',
  'EMESSAGE',
  'EMAXRECIPIENTS',
  'EFILEACCESS',
  'EURLACCESS',
  'EOTP',
] as const;

/** The nodemailer causes of a connection that failed before the message went out. */
export const SMTP_CONNECTION_CAUSES = [
  ...NETWORK_CAUSES,
  'ECONNECTION',
  'ESOCKET',
  'ETLS',
  'EDNS',
  'EAUTH',
  'EPROTOCOL',
  'CONNECTION_TIMEOUT',
  'GREETING_TIMEOUT',
  'SOCKET_TIMEOUT',
] as const;
export type SmtpConnectionCause = (typeof SMTP_CONNECTION_CAUSES)[number];

/** Why an email did not go through. */
export const emailFailureReasonSchema = z.union([
  /** The server refused with this reply code (4xx transient, 5xx permanent). */
  z.templateLiteral(['smtp_', smtpReplyCodeSchema]),
  /** The server refused the deployment's login: retryable, the message is not at fault. */
  z.templateLiteral(['smtp_auth_', smtpReplyCodeSchema]),
  z.templateLiteral(['smtp_connection: ', z.enum(SMTP_CONNECTION_CAUSES)]),
  z.templateLiteral(['message_rejected: ', z.enum(MESSAGE_ERROR_CODES)]),
  z.enum([
    /** The body went out and no reply came: the server may have queued it (never resent). */
    'connection_lost_after_data',
    /** nodemailer could not compose the message (an input it cannot encode). */
    'message_rejected',
    /** A rendered header held a CR or LF: refused before it reached the transport. */
    'invalid_header',
  ]),
]);

/** Every reason a channel may give for a send that did not go through: a code, never provider text. */
export const sendFailureReasonSchema = z.union([pushFailureReasonSchema, emailFailureReasonSchema]);
export type SendFailureReason = z.infer<typeof sendFailureReasonSchema>;

/** Why a claim answers HOLD (transient: the delivery is claimed again at `retryAt`). */
export const CLAIM_HOLD_REASONS = [
  'not_yet_valid',
  'waiting_for_slot',
  /** Another claim's lease holds (answered only; nothing is written). */
  'in_flight',
  /** The SKU's latest stock event is older than the bound. */
  'stock_unknown',
  'stale_data',
  /** A feed the decision depends on has a watermark behind the decision time. */
  'feed_behind',
  /** Email and push wait for the end of the customer's quiet hours (retryAt). */
  'quiet_hours',
  /** An earlier offer's push retraction in the slot is being sent (see claimDelivery). */
  'retraction_in_flight',
] as const;
export type ClaimHoldReason = (typeof CLAIM_HOLD_REASONS)[number];

/**
 * The holds that mean a fact could not be read fresh enough: a delivery still held for one of
 * these when its deadline comes is skipped as `uncertain:<reason>`, the others as
 * `held_past_deadline:<reason>`.
 */
export const UNCERTAIN_HOLD_REASONS = [
  'feed_behind',
  'stale_data',
  'stock_unknown',
] as const satisfies readonly ClaimHoldReason[];

/** Why the send path gives a claimed delivery back unsent (holdDelivery). */
export const SEND_HOLD_REASONS = [
  /** Too little of the lease is left to send and confirm within it. */
  'lease_nearly_over',
] as const;

/** Why a delivery is held: by its claim, or given back by the send path. */
export const holdReasonSchema = z.enum([...CLAIM_HOLD_REASONS, ...SEND_HOLD_REASONS]);
export type HoldReason = z.infer<typeof holdReasonSchema>;

/**
 * Why an offer is not issued to a customer: a guardrail of docs/API.md, or (for a campaign) no
 * profile. `POST /v1/offers` answers 422 `guardrail` with the reason in `details.reason`; a
 * campaign counts the customer under it, in its preview and its run alike.
 */
export const ISSUE_REFUSAL_REASONS = [
  'no_profile',
  'sensitive_category',
  'lifecycle_mismatch',
  'recently_returned',
  'recently_purchased',
  'out_of_stock',
] as const;
export const issueRefusalReasonSchema = z.enum(ISSUE_REFUSAL_REASONS);
export type IssueRefusalReason = z.infer<typeof issueRefusalReasonSchema>;

/** The guardrails that skip a delivery at its claim (docs/API.md, "Guardrails"). */
export const GUARDRAIL_SKIP_REASONS = [
  'sensitive_category',
  'lifecycle_mismatch',
  'recently_returned',
  'recently_purchased',
  'out_of_stock',
  'frequency_cap',
  'not_in_audience',
] as const;

/** Why a claim skipped a delivery for good, as the delivery stores it (state `skipped`). */
export const deliverySkipReasonSchema = z.union([
  z.enum(['too_little_validity_left', 'no_consent', 'no_address', ...GUARDRAIL_SKIP_REASONS]),
  z.templateLiteral(['uncertain:', z.enum(UNCERTAIN_HOLD_REASONS)]),
  z.templateLiteral(['held_past_deadline:', holdReasonSchema]),
]);
export type DeliverySkipReason = z.infer<typeof deliverySkipReasonSchema>;

/**
 * The SKIP answers that do not mark the delivery skipped: the offer or the channel is not the
 * claim's to send, or the delivery has already ended (`unknown`: the claim found an email's
 * lease lost, so its outcome is unknown now; `delivery_cancelled`: its offer has ended).
 */
export const CLAIM_REFUSALS = [
  'unknown_offer',
  'channel_not_requested',
  'not_queued',
  'unknown',
  'already_sent',
  'delivery_skipped',
  'delivery_cancelled',
  'delivery_failed',
  'delivery_unknown',
] as const;

/** Every reason of a claim's SKIP answer. */
export const claimSkipReasonSchema = z.union([z.enum(CLAIM_REFUSALS), deliverySkipReasonSchema]);
export type ClaimSkipReason = z.infer<typeof claimSkipReasonSchema>;
/** Every reason of a claim's HOLD answer. */
export const claimHoldReasonSchema = z.enum(CLAIM_HOLD_REASONS);

/** The states an offer ends in. */
export const ENDED_OFFER_STATES = ['redeemed', 'expired', 'cancelled', 'superseded'] as const;
/**
 * `offer_<state>`: the offer ended, so its delivery was cancelled (or, in history, its push is
 * to be taken back, its banner withdrawn).
 */
export const offerEndedReasonSchema = z.templateLiteral(['offer_', z.enum(ENDED_OFFER_STATES)]);

/** Why a delivery failed for good: the channel's word, or the send path's. */
export const failReasonSchema = z.union([
  sendFailureReasonSchema,
  /** Transient failures until the queue's last attempt. */
  z.templateLiteral(['gave_up: ', sendFailureReasonSchema]),
  z.templateLiteral(['no_', z.enum(['email', 'push']), '_provider_configured']),
  /** The channel could not render the offer; the error's message follows (at most 300 characters in all). */
  z.templateLiteral(['render_failed: ', z.string()]),
  /** A failed confirm without a reason. */
  z.literal('provider_refused'),
]);
export type FailReason = z.infer<typeof failReasonSchema>;

/** What a retry confirm names: the channel's transient failure, or `transient` when it names none. */
export const retryCauseSchema = z.union([sendFailureReasonSchema, z.literal('transient')]);
/** A delivery scheduled again after a transient failure: `retry:<cause>`. */
export const retryReasonSchema = z.templateLiteral(['retry:', retryCauseSchema]);

/** Why a delivery's outcome is unknown: the channel's word, a confirm that named none, or a lost lease. */
export const unknownOutcomeReasonSchema = z.union([
  sendFailureReasonSchema,
  z.enum(['outcome_unknown', 'lease_expired']),
]);

/** Every code a delivery's `reason` can hold now (a support resolution's note aside). */
export const deliveryReasonSchema = z.union([
  holdReasonSchema,
  deliverySkipReasonSchema,
  offerEndedReasonSchema,
  failReasonSchema,
  retryReasonSchema,
  unknownOutcomeReasonSchema,
  /** A banner published when its offer became live; support's resolution when it gave no note. */
  z.enum(['published', 'resolved_by_support']),
]);
export type DeliveryReason = z.infer<typeof deliveryReasonSchema>;

/** Why the ledger ended an offer by itself: time, or a contradicting offer in the slot. */
export const LEDGER_END_REASONS = ['validity_ended', 'slot_taken', 'outranked'] as const;
/** Why an offer was cancelled by a signal or a use case: a purchase or return, a stock-out, its campaign. */
export const SIGNAL_END_REASONS = ['purchased', 'returned', 'out_of_stock', 'campaign_cancelled'] as const;
/** A cancel or redeem that gave no reason ends with its state's name. */
export const DEFAULT_END_REASONS = ['cancelled', 'redeemed'] as const;
/** Every code an offer's `endReason` can hold now (an operator's note aside). */
export const offerEndReasonSchema = z.enum([
  ...LEDGER_END_REASONS,
  ...SIGNAL_END_REASONS,
  ...DEFAULT_END_REASONS,
]);
export type OfferEndCode = z.infer<typeof offerEndReasonSchema>;

/** Why a push retraction was not sent, as beginRetraction answers it: no address is left. */
export const retractionStartFailureSchema = z.literal('no_address');
/** Why a push retraction failed for good (history `retraction_failed`). */
export const retractionFailReasonSchema = z.union([
  retractionStartFailureSchema,
  /** The channel has no way to take a message back. */
  z.literal('cannot_retract'),
  sendFailureReasonSchema,
  z.templateLiteral(['gave_up: ', sendFailureReasonSchema]),
]);
export type RetractionFailReason = z.infer<typeof retractionFailReasonSchema>;
/** A retraction made needless by a newer offer's push, already on the device (history `retracted`). */
export const retractedReasonSchema = z.templateLiteral(['replaced_by:', z.string()]);

/** Why the banner shows nothing for a slot. */
export const BANNER_MISS_REASONS = ['no_live_offer', 'not_for_web', 'no_consent'] as const;
export const bannerMissReasonSchema = z.enum(BANNER_MISS_REASONS);
export type BannerMissReason = (typeof BANNER_MISS_REASONS)[number];

/**
 * Every code the ledger and the send path write into a delivery, an offer or a history entry
 * now. (A `queued` entry's `slot_taken` is among the end reasons.)
 */
export const storedReasonSchema = z.union([
  deliveryReasonSchema,
  offerEndReasonSchema,
  retractionFailReasonSchema,
  retractedReasonSchema,
]);
export type StoredReason = z.infer<typeof storedReasonSchema>;

/** Every reason code the ledger writes or answers now (claims, banner reads, records, history). */
export const reasonCodeSchema = z.union([storedReasonSchema, claimSkipReasonSchema, bannerMissReasonSchema]);

/**
 * Codes only earlier versions wrote, still found in their records: `customer_erased` ended the
 * offers of an erased customer before erasure deleted them.
 */
export const LEGACY_REASONS = ['customer_erased'] as const;
export type LegacyReason = (typeof LEGACY_REASONS)[number];

/**
 * A reason outside the codes: an operator's note, or text a record from an earlier version
 * holds. Branded so a union with the codes keeps the codes visible to the type checker.
 */
export const unlistedReasonSchema = z.string().brand<'UnlistedReason'>();

/**
 * A delivery's reason as a script reports it from the stored delivery: a code now written, or,
 * for a delivery an earlier version wrote or a support note, any other text (so such replies
 * still parse).
 */
export const reportedDeliveryReasonSchema = z.union([deliveryReasonSchema, unlistedReasonSchema]);
