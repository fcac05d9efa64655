import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CAPTURED_CHANNELS } from '../../channels/capture-inbox.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { errorResponses } from '../errors.ts';

/** The demo's capture inbox, for admins (the queue dashboard is in operator.ts). */
export const adminRoutes: FastifyPluginAsyncZod<Pick<ApiDependencies, 'inbox'>> = async (app, options) => {
  const inbox = options.inbox;
  if (inbox) {
    app.get(
      '/admin/captured',
      {
        config: { roles: ['admin'] },
        schema: {
          querystring: z.strictObject({ channel: z.enum(CAPTURED_CHANNELS).optional() }),
          description: "The demo's captured emails and pushes",
          response: {
            200: z.unknown().describe('`{ messages }`: what the captures received, oldest first'),
            ...errorResponses,
          },
        },
      },
      async (request) => ({
        messages: inbox
          .messages()
          .filter((m) => request.query.channel === undefined || m.channel === request.query.channel),
      }),
    );
  }
};
