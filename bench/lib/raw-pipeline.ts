import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import {
  discountText,
  formatInstant,
  type MessageOfferView,
  type TemplateRenderer,
} from '../../src/channels/index.ts';
import type { LinkSigner } from '../../src/delivery/links.ts';
import type { Discount } from '../../src/ledger/index.ts';

/**
 * The raw baseline: what a plain BullMQ + nodemailer + HTTP push pipeline does for the same
 * offers, with no ledger. One hash per offer (offer and contact copied in), one job per channel,
 * the same templates, links and pooled transport as Concord, and a "sent at" field when done.
 * It has no claim, no confirm, no outbox, no history: the difference is what consistency costs.
 */
export const RAW_QUEUE_PREFIX = 'raw-q';

/** Finished jobs are kept as Concord keeps them, so both pay the same for BullMQ's bookkeeping. */
export const RAW_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 24 * 3600, count: 100_000 },
};

export function rawKey(customerId: string): string {
  return `raw:o:${customerId}`;
}

export interface RawDeps {
  readonly redis: Redis;
  readonly transport: Transporter;
  readonly pushUrl: string;
  readonly templates: TemplateRenderer;
  readonly links: LinkSigner;
}

function viewOf(
  offer: Record<string, string>,
  links: LinkSigner,
  channel: 'email' | 'push',
): MessageOfferView {
  const validUntil = Number(offer['validUntil']);
  const locale = offer['locale'] ?? 'en';
  const timeZone = offer['timezone'] ?? 'UTC';
  const offerId = offer['offerId'] ?? '';
  return {
    offerId,
    title: offer['title'] ?? '',
    body: offer['body'] ?? '',
    code: offer['code'] ?? null,
    discountText: discountText(JSON.parse(offer['discount'] ?? '{}') as Discount, locale),
    validUntilText: formatInstant(validUntil, locale, timeZone),
    validUntilIso: new Date(validUntil).toISOString(),
    offerUrl: links.offerUrl(offerId),
    unsubscribeUrl: links.unsubscribeUrl(offer['customerId'] ?? '', channel),
    recipientName: null,
    locale,
    timeZone,
  };
}

/** Reads the offer's hash, renders the email from the same templates, sends it, marks it sent. */
export async function rawEmail(deps: RawDeps, customerId: string): Promise<void> {
  const offer = await deps.redis.hgetall(rawKey(customerId));
  const view = viewOf(offer, deps.links, 'email');
  await deps.transport.sendMail({
    from: 'offers@example.com',
    to: offer['email'] ?? '',
    subject: view.title,
    html: deps.templates.render('email/offer.html', view),
    text: deps.templates.render('email/offer.text', view),
    messageId: `<${view.offerId}.email.1@example.com>`,
    headers: {
      'X-Concord-Offer': view.offerId,
      'List-Unsubscribe': `<${view.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  });
  await deps.redis.hset(rawKey(customerId), 'emailSentAt', String(Date.now()));
}

/** Reads the offer's hash, renders the push, POSTs it to the provider, marks it sent. */
export async function rawPush(deps: RawDeps, customerId: string): Promise<void> {
  const offer = await deps.redis.hgetall(rawKey(customerId));
  const view = viewOf(offer, deps.links, 'push');
  const response = await fetch(deps.pushUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${view.offerId}:push:1` },
    body: JSON.stringify({
      to: offer['pushEndpoint'],
      title: view.title,
      body: deps.templates.render('push/offer', view).replace(/[\t\n\r ]+/g, ' ').trim(),
      url: view.offerUrl,
      offerId: view.offerId,
      collapseKey: `${customerId}:promo`,
      kind: 'offer',
    }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.text();
  if (!response.ok && response.status !== 409) throw new Error(`push provider answered ${response.status}`);
  await deps.redis.hset(rawKey(customerId), 'pushSentAt', String(Date.now()));
}
