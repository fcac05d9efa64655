import type { OfferRecord } from '../../ledger/index.ts';
import { httpStatusCode, networkCause, type PushProviderName } from '../reasons.ts';
import type { TemplateRenderer } from '../templates.ts';
import type { SendContext, SendOutcome } from '../types.ts';
import { offerView } from '../view.ts';

/** Whether a push shows an offer or takes an ended one back. */
export type PushKind = 'offer' | 'retract';

/** The JSON a push provider receives (docs/API.md, "Push provider requests"). */
export interface PushPayload {
  readonly to: string;
  readonly title: string;
  readonly body: string;
  readonly url: string;
  readonly offerId: string;
  /** `<customerId>:<slot>`: a retraction or a newer offer replaces the one shown under it. */
  readonly collapseKey: string;
  readonly kind: PushKind;
}

/** The collapse key of an offer: one per customer and slot. */
export function collapseKey(offer: Pick<OfferRecord, 'customerId' | 'slot'>): string {
  return `${offer.customerId}:${offer.slot}`;
}

/** `<offerId>:push:<version>`, with `:retract` for a retraction: a provider stores each once. */
export function pushIdempotencyKey(offer: Pick<OfferRecord, 'offerId' | 'version'>, kind: PushKind): string {
  const key = `${offer.offerId}:push:${offer.version}`;
  return kind === 'retract' ? `${key}:retract` : key;
}

/** The title of the push that replaces an ended offer. */
export const RETRACT_TITLE = 'This offer has ended';

/**
 * The provider payload for an offer (`kind: "offer"`, body from `templates/push/offer.hbs`) or
 * for its retraction (`kind: "retract"`, from `templates/push/retract.hbs`), addressed to `to`.
 * Template line breaks and runs of ASCII spaces collapse to one space: a push body is one paragraph.
 */
export function pushPayload(
  context: SendContext,
  kind: PushKind,
  to: string,
  templates: TemplateRenderer,
): PushPayload {
  const view = offerView(context);
  const template = kind === 'offer' ? 'push/offer' : 'push/retract';
  return {
    to,
    title: kind === 'offer' ? view.title : RETRACT_TITLE,
    // ASCII whitespace only: Intl's output holds U+202F (e.g. before "AM"), which must survive
    // so the push says exactly what the email and the banner say.
    body: templates
      .render(template, view)
      .replace(/[\t\n\r ]+/g, ' ')
      .trim(),
    url: view.offerUrl,
    offerId: context.offer.offerId,
    collapseKey: collapseKey(context.offer),
    kind,
  };
}

/**
 * Milliseconds to wait from a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A provider's HTTP answer, as far as the outcome depends on it: never its body. */
export interface ProviderResponse {
  readonly status: number;
  readonly retryAfter: string | null;
}

/**
 * Maps a provider's HTTP answer to an outcome: 2xx sent; 409 sent (the provider already holds this
 * idempotency key); 429 and 5xx transient `<prefix>_<status>` with the Retry-After as
 * `retryAfterMs`; `gone` statuses permanent `subscription_gone`; any other status permanent
 * `<prefix>_<status>`. The answer's text is not kept: only the status says what happened.
 */
export function outcomeForResponse(
  response: ProviderResponse,
  options: { readonly prefix: PushProviderName; readonly gone?: readonly number[]; readonly now?: number },
): SendOutcome {
  const { status } = response;
  if ((status >= 200 && status <= 299) || status === 409) return { status: 'sent' };
  // A status outside 100–599 is a broken answer: a gateway fault (502), worth another try.
  const code = httpStatusCode(status) ?? '502';
  if (status === 429 || code.startsWith('5')) {
    const retryAfterMs = parseRetryAfter(response.retryAfter, options.now);
    const reason = `${options.prefix}_${code}` as const;
    return retryAfterMs === undefined
      ? { status: 'transient', reason }
      : { status: 'transient', reason, retryAfterMs };
  }
  if (options.gone?.includes(status) === true) return { status: 'permanent', reason: 'subscription_gone' };
  return { status: 'permanent', reason: `${options.prefix}_${code}` };
}

/**
 * A request that got no answer (refused, reset, DNS, timeout) is transient: the idempotency key
 * (HTTP provider) or the topic (Web Push) makes sending it again safe.
 */
export function outcomeForNetworkError(error: unknown, prefix: PushProviderName): SendOutcome {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { status: 'transient', reason: `${prefix}_timeout` };
  }
  return { status: 'transient', reason: `${prefix}_network: ${networkCause(error)}` };
}

/** Reads a response body as text, never throwing (a body cut off reads as what arrived, or ''). */
export async function readBody(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}
