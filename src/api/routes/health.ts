import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiOptions } from '../app.ts';
import { RETRY_AFTER_SECONDS } from '../errors.ts';

const PING_TIMEOUT_MS = 1_000;

/** Liveness and readiness (Redis answers and the ledger scripts run); public, for load balancers. */
export const healthRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, options) => {
  // Probes are not rate limited: a load balancer's refused probe would take the node out.
  app.get(
    '/healthz',
    { config: { rateLimit: false }, schema: { description: 'Liveness: the process answers' } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { config: { rateLimit: false }, schema: { description: 'Readiness: 503 while Redis is unreachable' } },
    async (_request, reply) => {
      try {
        await withTimeout(options.ledger.currentOffer('readiness-probe', 'promo'), PING_TIMEOUT_MS);
        return { status: 'ready' };
      } catch {
        return reply
          .code(503)
          .header('retry-after', String(RETRY_AFTER_SECONDS))
          .send({ error: { code: 'ledger_unavailable', message: 'Redis is unreachable' } });
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
