import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDependencies } from '../dependencies.ts';
import { errorBody, errorResponses, RETRY_AFTER_SECONDS } from '../errors.ts';

const PING_TIMEOUT_MS = 1_000;

/** Liveness and readiness (Redis answers and the ledger scripts run); public, for load balancers. */
export const healthRoutes: FastifyPluginAsyncZod<Pick<ApiDependencies, 'ledger'>> = async (app, options) => {
  // Probes are not rate limited: a load balancer's refused probe would take the node out.
  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: {
        description: 'Liveness: the process answers',
        response: { 200: z.object({ status: z.literal('ok') }), ...errorResponses },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        description: 'Readiness: 503 while Redis is unreachable',
        response: { 200: z.object({ status: z.literal('ready') }), ...errorResponses },
      },
    },
    async (_request, reply) => {
      try {
        await withTimeout(options.ledger.offers.currentOffer('readiness-probe', 'promo'), PING_TIMEOUT_MS);
        return { status: 'ready' as const };
      } catch {
        return reply
          .code(503)
          .header('retry-after', String(RETRY_AFTER_SECONDS))
          .send(errorBody('ledger_unavailable', 'Redis is unreachable'));
      }
    },
  );
};

/** `promise`, or a rejection once `ms` have passed. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error('timed out'));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
