import { ConcordError } from '../errors.ts';
import type { Discount, OfferRecord, Recipient } from '../ledger/index.ts';
import type { SendContext } from './types.ts';

/** The locale used when the recipient has none, or one Intl does not support. */
export const FALLBACK_LOCALE = 'en';
/** The time zone used when the recipient has none, or one Intl does not know. */
export const FALLBACK_TIME_ZONE = 'UTC';

/**
 * An offer's terms as a reader sees them: one snapshot, formatted once, so email, push, the banner
 * and the offer page cannot disagree about the title, the code, the discount or the end of
 * validity. Every key is always present (`null` when the offer has no such thing), as Handlebars'
 * strict mode requires.
 */
export interface OfferTermsView {
  readonly offerId: string;
  readonly title: string;
  /** The offer's body text; may be empty. */
  readonly body: string;
  readonly code: string | null;
  /** e.g. "20% off", "€5.00 off", "Free shipping": {@link discountText}. */
  readonly discountText: string;
  /** The end of validity in the reader's time zone and locale, with the zone named. */
  readonly validUntilText: string;
  /** The end of validity as ISO 8601 UTC, for `<time datetime>` and machines. */
  readonly validUntilIso: string;
  readonly recipientName: string | null;
  /** The locale and time zone the text was actually formatted with (after any fallback). */
  readonly locale: string;
  readonly timeZone: string;
}

/**
 * What a message (email, push, banner) renders from: the offer's terms for its recipient and the
 * two links every message carries, both checked to be http(s).
 */
export interface MessageOfferView extends OfferTermsView {
  readonly offerUrl: string;
  readonly unsubscribeUrl: string;
}

/**
 * The {@link OfferTermsView} of an offer for a reader; pure, the same input gives the same view.
 * Without a recipient (a page opened from a link, which knows no one), text is formatted in
 * {@link FALLBACK_LOCALE} and {@link FALLBACK_TIME_ZONE}, with no name.
 */
export function offerTermsView(
  offer: OfferRecord,
  recipient: Pick<Recipient, 'name' | 'locale' | 'timezone'> = {},
): OfferTermsView {
  const locale = resolveLocale(recipient.locale);
  const timeZone = resolveTimeZone(recipient.timezone);
  const name = recipient.name?.trim();
  return {
    offerId: offer.offerId,
    title: offer.title,
    body: offer.body,
    code: offer.code === undefined || offer.code === '' ? null : offer.code,
    discountText: discountText(offer.discount, locale),
    validUntilText: formatInstant(offer.validUntil, locale, timeZone),
    validUntilIso: new Date(offer.validUntil).toISOString(),
    recipientName: name === undefined || name === '' ? null : name,
    locale,
    timeZone,
  };
}

/**
 * Builds the {@link MessageOfferView} of a send context; pure, the same input gives the same view.
 * Throws `invalid_input` when a link is not an http(s) URL: templates escape text, not schemes,
 * so a `javascript:` link must never reach them.
 */
export function offerView(context: SendContext): MessageOfferView {
  const offerUrl = checkedLink('offerUrl', context.links.offerUrl);
  const unsubscribeUrl = checkedLink('unsubscribeUrl', context.links.unsubscribeUrl);
  return { ...offerTermsView(context.offer, context.recipient), offerUrl, unsubscribeUrl };
}

// Links are built by Concord's link signer for every send, so the check runs per render: a scheme
// test and WHATWG URL parsing, without a validation library's per-call overhead.
const HTTP_SCHEME = /^https?:\/\//i;

function checkedLink(name: string, url: string): string {
  if (!HTTP_SCHEME.test(url) || !URL.canParse(url)) {
    throw new ConcordError('invalid_input', `${name}: expected an http:// or https:// URL`);
  }
  return url;
}

/**
 * Memoizes a function of a string key. Intl objects and lookups cost far more than the render
 * they serve (tens of microseconds each); their inputs are a handful of locales, zones and
 * currencies, so the cache is small, and it is dropped whole should it ever grow large.
 */
function memo<T>(compute: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= 1000) cache.clear();
      value = compute(key);
      cache.set(key, value);
    }
    return value;
  };
}

const percentFormat = memo(
  (locale) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }),
);
const currencyFormat = memo((key) => {
  const [locale, currency] = key.split('|');
  return new Intl.NumberFormat(locale, { style: 'currency', currency });
});
const instantFormat = memo((key) => {
  const [locale, timeZone] = key.split('|');
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
    timeZone,
  });
});

/**
 * The one wording of a discount, wherever Concord shows one (messages, pages, the command line):
 * short English copy with its numbers formatted for `locale` (default {@link FALLBACK_LOCALE}).
 */
export function discountText(discount: Discount, locale: string = FALLBACK_LOCALE): string {
  switch (discount.kind) {
    case 'percent':
      return `${percentFormat(locale).format(discount.value / 100)} off`;
    case 'amount':
      return `${currencyFormat(`${locale}|${discount.currency}`).format(discount.value)} off`;
    case 'free_shipping':
      return 'Free shipping';
  }
}

/** An epoch-ms instant as date, time and zone name, e.g. "December 8, 2026 at 10:00 AM GMT+1". */
export function formatInstant(epochMs: number, locale: string, timeZone: string): string {
  return instantFormat(`${locale}|${timeZone}`).format(new Date(epochMs));
}

const supportedLocale = memo((locale) => {
  try {
    const [supported] = Intl.DateTimeFormat.supportedLocalesOf([locale]);
    return supported ?? FALLBACK_LOCALE;
  } catch {
    return FALLBACK_LOCALE;
  }
});

const knownTimeZone = memo((timeZone) => {
  try {
    return new Intl.DateTimeFormat(FALLBACK_LOCALE, { timeZone }).resolvedOptions().timeZone;
  } catch {
    return FALLBACK_TIME_ZONE;
  }
});

/**
 * The recipient's locale if Intl supports it, else {@link FALLBACK_LOCALE}. An unsupported tag
 * would otherwise fall back to the host's default locale, and output would depend on the machine.
 */
export function resolveLocale(locale: string | undefined): string {
  if (locale === undefined || locale === '') return FALLBACK_LOCALE;
  return supportedLocale(locale);
}

/** The recipient's IANA time zone if Intl knows it, else {@link FALLBACK_TIME_ZONE}. */
export function resolveTimeZone(timeZone: string | undefined): string {
  if (timeZone === undefined || timeZone === '') return FALLBACK_TIME_ZONE;
  return knownTimeZone(timeZone);
}
