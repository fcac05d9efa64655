import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import { DEFAULT_TEMPLATES_DIR, defaultTemplates, offerTermsView } from '../channels/index.ts';
import type { Channel, OfferRecord } from '../ledger/index.ts';

/**
 * The pages' one stylesheet, inlined in a <style> element and allowed by its hash: no inline
 * script or style attribute runs, and no second request is needed for the styles.
 */
const CSS = readFileSync(join(DEFAULT_TEMPLATES_DIR, 'web', 'page.css'), 'utf8');
const CSS_HASH = createHash('sha256').update(CSS).digest('base64');

/**
 * The headers of every HTML page. Nothing but the hashed stylesheet loads; the form may post only
 * back to this origin; no site may frame a page (a click-jacked unsubscribe); no page is cached
 * (they carry signed links) nor leaks its URL, with its signature, as a referrer.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${CSS_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/** Sends an HTML page with {@link PAGE_HEADERS}. */
export function sendPage(reply: FastifyReply, html: string): FastifyReply {
  return reply.headers(PAGE_HEADERS).send(html);
}

/** The page behind an offer link: the live offer, or "this offer has ended" with the current one. */
export function offerPage(input: {
  offer: OfferRecord | undefined;
  upcoming: OfferRecord | undefined;
  ended: OfferRecord | undefined;
  current: OfferRecord | undefined;
  currentUrl: string | undefined;
}): string {
  // A page knows no recipient: its text is formatted as for a reader with no locale or zone.
  return defaultTemplates().render('web/offer-page.html', {
    css: CSS,
    live: input.offer ? offerTermsView(input.offer) : null,
    upcoming: input.upcoming
      ? { ...offerTermsView(input.upcoming), validFromText: new Date(input.upcoming.validFrom).toUTCString() }
      : null,
    ended: input.ended ? offerTermsView(input.ended) : null,
    current: input.current ? offerTermsView(input.current) : null,
    currentUrl: input.currentUrl ?? null,
  });
}

const CHANNEL_NAMES: Record<Channel, string> = {
  email: 'email',
  push: 'push notification',
  web: 'the website',
};

/**
 * The one-click unsubscribe page: a confirmation button (GET) or the result (POST). `action` is
 * the form's target, built by the caller from validated parameters (never the request's URL).
 */
export function unsubscribePage(input: { channel: Channel; done: boolean; action: string }): string {
  return defaultTemplates().render('web/unsubscribe.html', {
    css: CSS,
    done: input.done,
    channelName: CHANNEL_NAMES[input.channel],
    action: input.action,
  });
}

/** A page for a person who followed a link that does not work (bad signature, gone, outage). */
export function messagePage(title: string, message: string): string {
  return defaultTemplates().render('web/message.html', { css: CSS, title, message });
}
