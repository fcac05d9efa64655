/**
 * Why a send did not go through: a closed set. A provider's answer is outside data — an SMTP
 * reply may quote the recipient's address, a push service's body may be anything the endpoint's
 * host chose to say — and the reason is stored in the offer and the history that marketers and
 * support read, and logged. So only the status or reply code and a fixed word are kept; the
 * answer's text never is. The set itself ({@link SendFailureReason}) is the ledger's, which
 * stores these reasons; this module turns a provider's answer into one.
 */

import {
  NETWORK_CAUSES,
  type HttpStatusCode,
  type NetworkCause,
  type SmtpReplyCode,
} from '../ledger/index.ts';

export {
  MESSAGE_ERROR_CODES,
  SMTP_CONNECTION_CAUSES,
  type PushProviderName,
  type SendFailureReason,
  type SmtpConnectionCause,
} from '../ledger/index.ts';

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
