import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConcordError } from '../../errors.ts';
import { issueOfferInputSchema, offerIdSchema } from '../../ledger/index.ts';
import { isoInstantMsSchema } from '../../time.ts';
import { actorOf } from '../auth.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { errorBodySchema, errorResponses } from '../errors.ts';
import { supportOfferView, supportOfferViewSchema } from '../../support/views.ts';

const {
  validFrom: _from,
  validUntil: _until,
  holdDeadline: _deadline,
  campaignId,
  ...shared
} = issueOfferInputSchema.shape;

/** The offer body of `POST /v1/offers`: ISO instants, `campaignId` may be null. */
export const issueOfferBodySchema = z.strictObject({
  ...shared,
  campaignId: campaignId.unwrap().nullable().optional(),
  validFrom: isoInstantMsSchema.optional(),
  validUntil: isoInstantMsSchema,
});

const offerParams = z.strictObject({ offerId: offerIdSchema });

/** Issue, read, cancel and redeem offers. */
export const offerRoutes: FastifyPluginAsyncZod<Pick<ApiDependencies, 'ledger'>> = async (
  app,
  { ledger },
) => {
  app.post(
    '/v1/offers',
    {
      config: { roles: ['marketer', 'admin'] },
      schema: {
        description: 'Issue one offer; the slot policy decides in the same step',
        body: issueOfferBodySchema,
        response: {
          201: z.object({ offer: supportOfferViewSchema, superseded: z.array(z.string()) }),
          200: z.object({ offer: supportOfferViewSchema, superseded: z.array(z.string()) }),
          409: errorBodySchema.describe(
            'conflict: the slot policy rejected the offer, or its idempotencyKey was used for a different offer; open_offer_limit: the customer already holds as many open offers as allowed',
          ),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { campaignId: campaign, validFrom, ...rest } = request.body;
      const result = await ledger.offers.issue(
        {
          ...rest,
          ...(campaign === null || campaign === undefined ? {} : { campaignId: campaign }),
          ...(validFrom === undefined ? {} : { validFrom }),
        },
        actorOf(request),
      );
      // A replay of the same idempotency key answers the offer as it is, with 200.
      return reply
        .code(result.duplicate ? 200 : 201)
        .send({ offer: supportOfferView(result.offer), superseded: [...result.superseded] });
    },
  );

  app.get(
    '/v1/offers/:offerId',
    {
      config: { roles: ['marketer', 'support', 'admin'] },
      schema: {
        description: 'An offer with its deliveries',
        params: offerParams,
        response: { 200: supportOfferViewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const offer = await ledger.offers.getOffer(request.params.offerId);
      if (!offer) throw new ConcordError('not_found', `no offer ${request.params.offerId}`);
      return supportOfferView(offer);
    },
  );

  app.post(
    '/v1/offers/:offerId/cancel',
    {
      config: { roles: ['marketer', 'support', 'admin'] },
      schema: {
        description: 'End the offer on every channel',
        params: offerParams,
        body: z.strictObject({
          reason: z.string().min(1).max(500),
          expectedVersion: z.number().int().positive().optional(),
        }),
        response: { 200: z.object({ offer: supportOfferViewSchema }), ...errorResponses },
      },
    },
    async (request) => {
      const result = await ledger.offers.cancel(request.params.offerId, {
        ...request.body,
        actor: actorOf(request),
      });
      return { offer: supportOfferView(result.offer) };
    },
  );

  app.post(
    '/v1/offers/:offerId/redeem',
    {
      config: { roles: ['ingest', 'admin'] },
      schema: {
        description: 'Mark the offer redeemed',
        params: offerParams,
        body: z.strictObject({ orderId: z.string().max(200).optional() }).nullish(),
        response: { 200: z.object({ offer: supportOfferViewSchema }), ...errorResponses },
      },
    },
    async (request) => {
      const orderId = request.body?.orderId;
      const result = await ledger.offers.redeem(request.params.offerId, {
        actor: actorOf(request),
        ...(orderId === undefined ? {} : { reason: `order ${orderId}` }),
      });
      return { offer: supportOfferView(result.offer) };
    },
  );
};
