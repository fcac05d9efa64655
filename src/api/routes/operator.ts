import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDependencies } from '../dependencies.ts';
import { errorResponses } from '../errors.ts';
import { withTimeout } from './health.ts';

const QUEUE_COUNT_TIMEOUT_MS = 1_000;

/** What the operator pages show: the API's metrics and queues, and the OpenAPI document. */
export interface OperatorOptions extends Pick<ApiDependencies, 'metrics' | 'queues'> {
  /** The OpenAPI document of the public API; absent where no API runs in the process. */
  readonly openapi?: () => unknown;
  /**
   * The admin-key check, on the public listener. Absent on the admin listener, which is reached
   * only from where it is bound (loopback by default) and so needs no key.
   */
  readonly requireAdmin?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/**
 * `/metrics` (Prometheus text; each scrape counts the queues on Redis), `/docs` (OpenAPI) and
 * `/admin/queues` (Bull Board): for operators, never for the public, since they show the
 * deployment's shape and cost Redis work on every hit.
 */
export const operatorRoutes: FastifyPluginAsyncZod<OperatorOptions> = async (app, options) => {
  const keyed = options.requireAdmin !== undefined;
  const config = keyed ? { roles: ['admin'] as const } : {};
  app.get(
    '/metrics',
    {
      config,
      schema: {
        description: 'Prometheus text (admin key, or the admin listener)',
        response: {
          200: { description: 'Prometheus text', content: { 'text/plain': { schema: z.string() } } },
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => {
      for (const [name, queue] of Object.entries(options.queues)) {
        try {
          const counts = await withTimeout(
            queue.getJobCounts('waiting', 'delayed', 'active', 'failed'),
            QUEUE_COUNT_TIMEOUT_MS,
          );
          for (const [state, count] of Object.entries(counts))
            options.metrics.queueDepth.set({ queue: name, state }, count);
        } catch {
          // Queue depths are left as they were while Redis is away; the scrape still answers.
        }
      }
      return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
    },
  );
  const openapi = options.openapi;
  if (openapi) {
    app.get(
      '/docs',
      { config, schema: { hide: true, response: { 200: z.unknown(), ...errorResponses } } },
      async () => openapi(),
    );
  }

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: Object.values(options.queues).map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
  });
  const requireAdmin = options.requireAdmin;
  await app.register(
    async (board) => {
      // Bull Board's routes cannot carry `config.roles`: its own hook guards them.
      if (requireAdmin) board.addHook('onRequest', requireAdmin);
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: '/admin/queues' },
  );
};
