/**
 * Why a send did not go through: a closed set. A provider's answer is outside data — an SMTP
 * reply may quote the recipient's address, a push service's body may be anything the endpoint's
 * host chose to say — and the reason is stored in the offer and the history that marketers and
 * support read, and logged. So only the status or reply code and a fixed word are kept; the
 * answer's text never is.
 */

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
/** An HTTP status code, 100–599, as text. */
export type HttpStatusCode = `${1 | 2 | 3 | 4 | 5}${Digit}${Digit}`;
/** An SMTP reply code that refuses (4xx transient, 5xx permanent), as text. */
export type SmtpReplyCode = `${4 | 5}${Digit}${Digit}`;

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
export type PushProviderName = 'push' | 'webpush';

export type PushFailureReason =
  /** The provider answered with this status (429, 5xx: transient; other 4xx, 3xx: permanent). */
  | `${PushProviderName}_${HttpStatusCode}`
  /** No answer within the channel's timeout (connect or total). */
  | `${PushProviderName}_timeout`
  | `${PushProviderName}_network: ${NetworkCause}`
  /** Web Push 404 or 410: the browser dropped the subscription. */
  | 'subscription_gone'
  /** The endpoint is not a public https host on port 443 (or resolves to a non-public address). */
  | 'webpush_endpoint_refused'
  /** `CONCORD_PUSH_HOSTS` is set and the endpoint's host is not on it. */
  | 'webpush_host_not_allowed'
  /** web-push could not build the request (a subscription key it cannot use). */
  | 'webpush_invalid'
  /** The offer could not be rendered for the push (a retraction's render). */
  | 'render_failed';

/** The nodemailer error codes that say the message itself was refused before any server saw it. */
export const MESSAGE_ERROR_CODES = [
  'EENVELOPE',
  'EMESSAGE',
  'EMAXRECIPIENTS',
  'EFILEACCESS',
  'EURLACCESS',
  'EOTP',
] as const;
export type MessageErrorCode = (typeof MESSAGE_ERROR_CODES)[number];

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

export type EmailFailureReason =
  /** The server refused with this reply code (4xx transient, 5xx permanent). */
  | `smtp_${SmtpReplyCode}`
  /** The server refused the deployment's login: retryable, the message is not at fault. */
  | `smtp_auth_${SmtpReplyCode}`
  | `smtp_connection: ${SmtpConnectionCause}`
  /** The body went out and no reply came: the server may have queued it (never resent). */
  | 'connection_lost_after_data'
  | `message_rejected: ${MessageErrorCode}`
  /** nodemailer could not compose the message (an input it cannot encode). */
  | 'message_rejected'
  /** A rendered header held a CR or LF: refused before it reached the transport. */
  | 'invalid_header';

/** Every reason a channel may give for a send that did not go through. */
export type SendFailureReason = PushFailureReason | EmailFailureReason;

/** The cause among {@link NETWORK_CAUSES} of an error from a request that got no answer. */
export function networkCause(error: unknown): NetworkCause {
  // undici and node:https keep the system error (ECONNREFUSED, …) as a cause or on the error.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') {
      if (isOneOf(NETWORK_CAUSES, code)) return code;
      if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/.test(code)) return 'tls';
    }
    current = current.cause;
  }
  return 'other';
}

/** True when `value` is one of `values` (narrows it to their union). */
export function isOneOf<const T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/** `value` as an HTTP status code, when it is one (100–599). */
export function httpStatusCode(value: number): HttpStatusCode | undefined {
  return Number.isInteger(value) && value >= 100 && value <= 599
    ? (String(value) as HttpStatusCode)
    : undefined;
}

/** `value` as an SMTP refusal code, when it is one (400–599). */
export function smtpReplyCode(value: number): SmtpReplyCode | undefined {
  return Number.isInteger(value) && value >= 400 && value <= 599
    ? (String(value) as SmtpReplyCode)
    : undefined;
}
