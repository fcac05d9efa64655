import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConcordError } from '../../errors.ts';
import {
  customerIdSchema,
  historyEntryIdSchema,
  profilePatchSchema,
  slotSchema,
  storedCustomerIdSchema,
} from '../../ledger/index.ts';
import { eraseCustomer } from '../../support/erasure.ts';
import { customerHistory } from '../../support/history.ts';
import { actorOf } from '../auth.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { errorResponses } from '../errors.ts';
import { fastValidatorCompiler, keyCount, stringTest } from '../validation.ts';
import { liveOfferView, liveOfferViewSchema, matchesEtag, profileView } from '../../support/views.ts';

/** The `:customerId` of a route that writes: no email addresses. */
export const customerParams = z.strictObject({ customerId: customerIdSchema });
/** The `:customerId` of a route that reads or erases: ids stored by earlier versions too. */
export const storedCustomerParams = z.strictObject({ customerId: storedCustomerIdSchema });

const DEFAULT_SLOT = 'promo';
/** The banner read's query: the slot, `promo` when absent. */
export const slotQuery = z.strictObject({ slot: slotSchema.default(DEFAULT_SLOT) });
const isCustomerId = stringTest(storedCustomerIdSchema);
const isSlot = stringTest(slotSchema);

/**
 * The banner read's params and query, recognised without zod when they are plainly valid
 * (`customerParams` and `slotQuery` answer everything else, and every refusal).
 */
export const bannerValidator = fastValidatorCompiler({
  params:
    isCustomerId &&
    ((data) => {
      if (keyCount(data) !== 1) return undefined;
      const { customerId } = data as { customerId?: unknown };
      return typeof customerId === 'string' && isCustomerId(customerId) ? { customerId } : undefined;
    }),
  querystring:
    isSlot &&
    ((data) => {
      const count = keyCount(data);
      if (count === 0) return { slot: DEFAULT_SLOT };
      if (count !== 1) return undefined;
      const { slot } = data as { slot?: unknown };
      return typeof slot === 'string' && isSlot(slot) ? { slot } : undefined;
    }),
});

/** A history page: `limit` entries (default 100, at most 500) older than the entry id `before`. */
const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: historyEntryIdSchema.optional(),
});

/** Profiles, the live offer for a slot, the timeline, erasure, and deliveries of unknown outcome. */
export const customerRoutes: FastifyPluginAsyncZod<
  Pick<ApiDependencies, 'ledger' | 'queues' | 'redis'>
> = async (app, { ledger, queues, redis }) => {
  app.put(
    '/v1/customers/:customerId',
    {
      config: { roles: ['ingest', 'admin'] },
      schema: {
        description: 'Create or update a profile',
        params: customerParams,
        body: profilePatchSchema,
        response: {
          200: z
            .unknown()
            .describe(
              "`{ profile, changed, kept? }`: kept lists consent changes the customer's own choice held back",
            ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const result = await ledger.customers.upsertProfile(request.params.customerId, request.body, {
        actor: actorOf(request),
        source: actorOf(request),
      });
      const profile = await ledger.customers.getProfile(request.params.customerId);
      // `kept`: consent changes not applied (the customer unsubscribed that channel themselves).
      return {
        profile: profile ? profileView(profile) : null,
        changed: result.changed,
        ...(result.kept.length === 0 ? {} : { kept: result.kept }),
      };
    },
  );

  app.get(
    '/v1/customers/:customerId',
    {
      config: { roles: ['support', 'admin'] },
      schema: {
        description: 'The profile',
        params: storedCustomerParams,
        response: { 200: z.unknown().describe('The profile'), ...errorResponses },
      },
    },
    async (request) => {
      const profile = await ledger.customers.getProfile(request.params.customerId);
      if (!profile) throw new ConcordError('not_found', `no customer ${request.params.customerId}`);
      return profileView(profile);
    },
  );

  app.delete(
    '/v1/customers/:customerId',
    {
      config: { roles: ['admin'] },
      schema: {
        description:
          'Erase the customer everywhere: profile, offers, history, signals, campaign places, jobs. Repeatable; a second call answers erased: false',
        params: storedCustomerParams,
        response: {
          200: z
            .unknown()
            .describe(
              '`{ erased, offers, audienceErasures, jobsRemoved, jobsInFlight, pushesNotRetracted }`',
            ),
          ...errorResponses,
        },
      },
    },
    async (request) => eraseCustomer({ ledger, queues, redis }, request.params.customerId, actorOf(request)),
  );

  app.get(
    '/v1/customers/:customerId/offers/current',
    {
      config: { roles: ['web', 'marketer', 'support', 'admin'] },
      schema: {
        description:
          'The live offer for the banner: 200, or 204 when there is none; ETag is the offer version',
        params: storedCustomerParams,
        querystring: slotQuery,
        response: { 200: liveOfferViewSchema, 204: z.null(), 304: z.null(), ...errorResponses },
      },
      // The hottest read: plainly valid params and query skip zod, and the answer is built by
      // `liveOfferView` from a reply the ledger already parsed, so it is written as JSON without a
      // second validation pass.
      validatorCompiler: bannerValidator,
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const live = await ledger.offers.currentOffer(request.params.customerId, request.query.slot);
      void reply.header('cache-control', 'no-store');
      if (!live.offer) return reply.code(204).send(null);
      const etag = `"${live.offer.offerId}.${live.offer.version}"`;
      void reply.header('etag', etag);
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      return liveOfferView(live.offer);
    },
  );

  app.get(
    '/v1/customers/:customerId/history',
    {
      config: { roles: ['support', 'admin'] },
      schema: {
        description:
          "The customer's timeline, newest first, a page at a time (`next` is the `before` of the next page); offers: the open ones and those the page names",
        params: storedCustomerParams,
        querystring: historyQuery,
        response: {
          200: z.unknown().describe('`{ customerId, offers, timeline, next? }`'),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      const { known, ...history } = await customerHistory(ledger, customerId, request.query);
      if (!known && request.query.before === undefined) {
        throw new ConcordError('not_found', `no customer ${customerId}`);
      }
      return history;
    },
  );

  app.get(
    '/v1/deliveries',
    {
      config: { roles: ['support', 'admin'] },
      schema: {
        description: 'Deliveries whose outcome is not known',
        querystring: z.strictObject({
          state: z.literal('unknown'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.unknown().describe('`{ deliveries }`, oldest first'), ...errorResponses },
      },
    },
    async (request) => {
      const refs = await ledger.indexes.unknownDeliveries(request.query.limit);
      return {
        deliveries: refs.map((ref) => ({ ...ref, at: new Date(ref.at).toISOString() })),
      };
    },
  );
};
