import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderBanner } from '../../channels/index.ts';
import { ConcordError, type ConcordErrorCode } from '../../errors.ts';
import { channelSchema, offerIdSchema, slotSchema, storedCustomerIdSchema } from '../../ledger/index.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { errorHandler, errorResponses, setRetryAfter, type errorBodySchema } from '../errors.ts';
import { messagePage, offerPage, sendPage, unsubscribePage } from '../pages.ts';
import { resolveOfferLink } from '../../support/offer-link.ts';
import { liveOfferView } from '../../support/views.ts';

const signature = z.string().min(1).max(128);

/** What a person sees instead of JSON when a link from a message cannot be followed. */
const PAGES: Partial<Record<ConcordErrorCode, { title: string; message: string }>> = {
  unauthorized: {
    title: 'This link is not valid',
    message: 'The link may have been cut or changed. Open it again from the message.',
  },
  not_found: { title: 'Offer not found', message: 'We could not find this offer.' },
  rate_limited: {
    title: 'Please try again',
    message: 'Too many requests came from your network. Please try again in a minute.',
  },
  ledger_unavailable: {
    title: 'Please try again',
    message: 'We cannot show this page right now. Please try again in a minute.',
  },
};

/** What the page routes answer: HTML for a person following a link, not JSON. */
const htmlPage = z.string();
const pageResponse = { description: 'An HTML page', content: { 'text/html': { schema: htmlPage } } };

/** The refusals of a page route: a page for those in {@link PAGES}, the JSON error for the rest. */
function pageOrError(schema: typeof errorBodySchema) {
  return {
    description: `${schema.description ?? ''}. What a person can meet on a link from a message (a bad signature, an unknown offer, a rate limit, an outage) answers an HTML page instead`,
    content: { 'application/json': { schema }, 'text/html': { schema: htmlPage } },
  };
}
const pageErrorResponses = {
  '4xx': pageOrError(errorResponses['4xx']),
  '5xx': pageOrError(errorResponses['5xx']),
};

/** The doors without keys, each guarded by an HMAC: browser banner, offer links, one-click unsubscribe. */
export const linkRoutes: FastifyPluginAsyncZod<Pick<ApiDependencies, 'ledger' | 'links'>> = async (
  app,
  { ledger, links },
) => {
  // Pages opened from an email or a push answer errors as HTML, with the status the JSON error has.
  const pageErrors = (error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    const page = error instanceof ConcordError ? PAGES[error.code] : undefined;
    if (!(error instanceof ConcordError) || !page) {
      errorHandler(error, request, reply);
      return;
    }
    setRetryAfter(reply, error);
    void sendPage(reply.code(error.status), messagePage(page.title, page.message));
  };

  app.get(
    '/v1/banner',
    {
      schema: {
        description:
          'The live offer for a browser, with its banner HTML (204 without a body when the slot has none); token = <kid>.[<expiry>.]<mac>, an HMAC of the customer id under the banner key',
        querystring: z.strictObject({
          // Signed for customers stored by earlier versions too (ids with `@`).
          customer: storedCustomerIdSchema,
          slot: slotSchema.default('promo'),
          token: signature,
        }),
        response: {
          200: z.unknown().describe('`{ offer, html }`: the live offer and its banner'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { customer, slot, token } = request.query;
      if (!links.verifyBanner(customer, token)) throw new ConcordError('unauthorized', 'bad banner token');
      const live = await ledger.offers.currentOffer(customer, slot);
      void reply.header('cache-control', 'no-store');
      if (!live.offer) return reply.code(204).send();
      return {
        offer: liveOfferView(live.offer),
        html: renderBanner({
          offer: live.offer,
          recipient: { address: customer },
          links: {
            offerUrl: links.offerUrl(live.offer.offerId),
            unsubscribeUrl: links.unsubscribeUrl(customer, 'web'),
          },
        }),
      };
    },
  );

  app.get(
    '/o/:offerId',
    {
      errorHandler: pageErrors,
      schema: {
        description:
          'The link in emails and pushes: the live offer, or a page saying it ended with the current one',
        params: z.strictObject({ offerId: offerIdSchema }),
        querystring: z.strictObject({ sig: signature }),
        response: { 200: pageResponse, ...pageErrorResponses },
      },
    },
    async (request, reply) => {
      const { offerId } = request.params;
      if (!links.verifyOffer(offerId, request.query.sig))
        throw new ConcordError('unauthorized', 'bad offer link signature');
      const view = await resolveOfferLink(ledger, offerId);
      const current = view.kind === 'ended' ? view.current : undefined;
      return sendPage(
        reply,
        offerPage({
          offer: view.kind === 'live' ? view.offer : undefined,
          upcoming: view.kind === 'upcoming' ? view.offer : undefined,
          ended: view.kind === 'ended' ? view.offer : undefined,
          current,
          currentUrl: current ? links.offerUrl(current.offerId) : undefined,
        }),
      );
    },
  );

  const unsubscribeQuery = z.strictObject({ c: storedCustomerIdSchema, ch: channelSchema, sig: signature });
  app.get(
    '/v1/unsubscribe',
    {
      errorHandler: pageErrors,
      schema: {
        description: 'Confirmation page for a one-click unsubscribe; changes nothing',
        querystring: unsubscribeQuery,
        response: { 200: pageResponse, ...pageErrorResponses },
      },
    },
    async (request, reply) => {
      const { c, ch, sig } = request.query;
      if (!links.verifyUnsubscribe(c, ch, sig))
        throw new ConcordError('unauthorized', 'bad unsubscribe signature');
      return sendPage(
        reply,
        unsubscribePage({ channel: ch, done: false, action: unsubscribeAction(c, ch, sig) }),
      );
    },
  );

  app.post(
    '/v1/unsubscribe',
    {
      errorHandler: pageErrors,
      schema: {
        description: 'RFC 8058 one-click unsubscribe for a channel; idempotent',
        querystring: unsubscribeQuery,
        body: z.unknown().optional(),
        response: { 200: pageResponse, ...pageErrorResponses },
      },
    },
    async (request, reply) => {
      const { c, ch, sig } = request.query;
      if (!links.verifyUnsubscribe(c, ch, sig))
        throw new ConcordError('unauthorized', 'bad unsubscribe signature');
      // An erased (or never known) customer has nothing to revoke: no profile is created for them.
      if (await ledger.customers.getProfile(c)) {
        await ledger.customers.upsertProfile(
          c,
          { consent: { [ch]: false } },
          { actor: 'customer', source: 'one-click-unsubscribe', byCustomer: true },
        );
      }
      return sendPage(
        reply,
        unsubscribePage({ channel: ch, done: true, action: unsubscribeAction(c, ch, sig) }),
      );
    },
  );
};

/**
 * The confirmation form's target: a relative reference (it resolves to this same route on
 * whatever origin and path prefix served the page) with the query rebuilt from the validated
 * parameters. The request's own URL is never echoed: its request-target may name another host.
 */
function unsubscribeAction(customerId: string, channel: string, sig: string): string {
  return `unsubscribe?${new URLSearchParams({ c: customerId, ch: channel, sig }).toString()}`;
}
