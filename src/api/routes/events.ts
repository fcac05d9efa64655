import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ingestEvents } from '../../events/ingest.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { errorResponses } from '../errors.ts';

/** First-party events from commerce systems: purchase, return, cart, view, stock, consent. */
export const eventRoutes: FastifyPluginAsyncZod<Pick<ApiDependencies, 'ledger'>> = async (
  app,
  { ledger },
) => {
  app.post(
    '/v1/events',
    {
      config: { roles: ['ingest', 'admin'] },
      schema: {
        description:
          'One event or an array (up to 500); each is stored once by eventId. The answer says, per index, stored, duplicate or rejected with the reason',
        body: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()).min(1).max(500)]),
        response: {
          200: z.unknown().describe('`{ results }`: per event, in order, stored, duplicate or rejected'),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const events = Array.isArray(request.body) ? request.body : [request.body];
      return { results: await ingestEvents(ledger, events) };
    },
  );
};
