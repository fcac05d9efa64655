import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { offerView, type OfferView } from '../channels/index.ts';
import type { Channel, OfferRecord } from '../ledger/index.ts';

const TEMPLATES = fileURLToPath(new URL('../../templates/web/', import.meta.url));
// An isolated environment, strict, escaping on, Handlebars' prototype-access ban left in place.
const handlebars = Handlebars.create();
const compile = <T>(file: string) =>
  handlebars.compile<T>(readFileSync(`${TEMPLATES}${file}`, 'utf8'), { strict: false, noEscape: false });

interface OfferPageView {
  live: OfferView | null;
  upcoming: (OfferView & { validFromText: string }) | null;
  ended: OfferView | null;
  current: OfferView | null;
  currentUrl: string | null;
}
const offerTemplate = compile<OfferPageView>('offer-page.html.hbs');
const unsubscribeTemplate = compile<{ done: boolean; channelName: string; action: string }>(
  'unsubscribe.html.hbs',
);

const pageLinks = { offerUrl: 'http://localhost/', unsubscribeUrl: 'http://localhost/' };
const view = (offer: OfferRecord) =>
  offerView({ offer, recipient: { address: offer.customerId }, links: pageLinks });

/** The page behind an offer link: the live offer, or "this offer has ended" with the current one. */
export function offerPage(input: {
  offer: OfferRecord | undefined;
  upcoming: OfferRecord | undefined;
  ended: OfferRecord | undefined;
  current: OfferRecord | undefined;
  currentUrl: string | undefined;
}): string {
  return offerTemplate({
    live: input.offer ? view(input.offer) : null,
    upcoming: input.upcoming
      ? { ...view(input.upcoming), validFromText: new Date(input.upcoming.validFrom).toUTCString() }
      : null,
    ended: input.ended ? view(input.ended) : null,
    current: input.current ? view(input.current) : null,
    currentUrl: input.currentUrl ?? null,
  });
}

const CHANNEL_NAMES: Record<Channel, string> = {
  email: 'email',
  push: 'push notification',
  web: 'the website',
};

/** The one-click unsubscribe page: a confirmation button (GET) or the result (POST). */
export function unsubscribePage(input: { channel: Channel; done: boolean; action: string }): string {
  return unsubscribeTemplate({
    done: input.done,
    channelName: CHANNEL_NAMES[input.channel],
    action: input.action,
  });
}

const messageTemplate = compile<{ title: string; message: string }>('message.html.hbs');

/** A page for a person who followed a link that does not work (bad signature, gone, outage). */
export function messagePage(title: string, message: string): string {
  return messageTemplate({ title, message });
}
