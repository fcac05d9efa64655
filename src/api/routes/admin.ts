import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiOptions } from '../app.ts';

/** One message the demo's built-in capture received instead of a real provider. */
export interface CapturedMessage {
  readonly channel: 'email' | 'push';
  readonly at: string;
  readonly to: string;
  readonly offerId?: string;
  readonly kind?: string;
  readonly subject?: string;
  readonly text?: string;
  readonly html?: string;
}

/** The demo's capture inbox (email and push), newest last. */
export interface CaptureInbox {
  messages(): readonly CapturedMessage[];
}

/** The demo's capture inbox, for admins (the queue dashboard is in operator.ts). */
export const adminRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, options) => {
  const inbox = options.inbox;
  if (inbox) {
    app.get(
      '/admin/captured',
      {
        config: { roles: ['admin'] },
        schema: {
          querystring: z.strictObject({ channel: z.enum(['email', 'push']).optional() }),
          description: "The demo's captured emails and pushes",
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
