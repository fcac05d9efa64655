import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** Admin-only pages: the queue dashboard (Bull Board) and the demo's capture inbox. */
export const adminRoutes: FastifyPluginAsyncZod<
  ApiOptions & { requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void> }
> = async (app, options) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: Object.values(options.queues).map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
  });
  await app.register(
    async (board) => {
      board.addHook('onRequest', options.requireAdmin);
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: '/admin/queues' },
  );
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
