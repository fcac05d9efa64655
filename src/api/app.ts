import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  type onRequestHookHandler,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { codeOfForeignRefusal } from '../errors.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Queues } from '../queue/queues.ts';
import { actorOf, createAuthenticator, type ApiKey } from './auth.ts';
import type { ApiDependencies } from './dependencies.ts';
import { errorBody, errorHandler, notFoundHandler } from './errors.ts';
import { addressClient, createRateLimiter, rateLimited, type RateLimit } from './rate-limit.ts';
import { REDACTED_PATHS } from './redaction.ts';
import { adminRoutes } from './routes/admin.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { customerRoutes } from './routes/customers.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { linkRoutes } from './routes/links.ts';
import { offerRoutes } from './routes/offers.ts';
import { operatorRoutes } from './routes/operator.ts';

/** The routes' dependencies, and the keys, logging and limits of the app itself. */
export interface ApiOptions extends ApiDependencies {
  readonly apiKeys: readonly ApiKey[];
  /** The signing secret that signs new links: key ids are derived from it (auth.ts). */
  readonly keyIdSecret: string;
  /** Fastify's logger option (pino); redaction of personal data is added to it. */
  readonly logger?: FastifyServerOptions['logger'];
  readonly bodyLimit?: number;
  /**
   * True when a separate admin listener ({@link buildAdminApi}) serves `/metrics`, `/docs` and
   * `/admin/queues`: they are then absent here (404). Otherwise they answer here to the admin key.
   */
  readonly adminListener?: boolean;
  /**
   * Requests per client address on routes without a key (and on failed key checks), and per API
   * key on keyed routes; no limits when absent (tests, embedding).
   */
  readonly rateLimits?: { readonly ip: RateLimit; readonly key: RateLimit };
}

export type Api = FastifyInstance;

/**
 * Builds the public Fastify app (docs/API.md): routes, keys and roles, one error shape, OpenAPI
 * at /docs.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const logger =
    options.logger === undefined || options.logger === false
      ? false
      : {
          ...(typeof options.logger === 'object' ? options.logger : {}),
          redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
        };
  const app = Fastify({
    logger,
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Reject prototype-polluting keys in JSON bodies outright.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: false,
    // A caller's request id is kept only if it is short and plain; it goes on every log line.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Errors the router raises before a route is found (a malformed URL, a bad content type)
    // answer in the same shape as every other error.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
      const answer = reply as unknown as FastifyReply;
      void answer.code(status).send(errorBody(codeOfForeignRefusal(status), error.message));
    },
    // One line per request is written by the onResponse hook below, with the route, not the URL
    // (a URL can carry a banner token or a customer id).
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  // RFC 8058 one-click unsubscribe posts a form body (multipart or urlencoded); its content does not matter.
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'multipart/form-data'],
    { parseAs: 'string', bodyLimit: 1024 },
    (_request, body, done) => {
      done(null, body);
    },
  );
  app.setNotFoundHandler(notFoundHandler);
  const auth = createAuthenticator(options.apiKeys, options.keyIdSecret);
  app.addHook('onRequest', guard(auth, options.rateLimits));
  // A callback hook, not an async one: it runs on every request, and a promise per request is
  // measurable on the banner read. Without a logger there is no line to build.
  const logRequests = logger !== false;
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const elapsed = reply.elapsedTime;
    options.metrics.http.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      elapsed / 1000,
    );
    if (logRequests) {
      request.log.info(
        {
          reqId: request.id,
          route,
          method: request.method,
          status: reply.statusCode,
          ms: Math.round(elapsed),
          // Who called: role, key id and principal, never the key.
          ...(request.caller ? { actor: actorOf(request) } : {}),
        },
        'request',
      );
    }
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Concord',
        description: 'One offer ledger for email, push and the web banner',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  await typed.register(healthRoutes, options);
  await typed.register(offerRoutes, options);
  await typed.register(campaignRoutes, options);
  await typed.register(eventRoutes, options);
  await typed.register(customerRoutes, options);
  await typed.register(linkRoutes, options);
  await typed.register(adminRoutes, options);
  if (options.adminListener !== true) {
    await typed.register(operatorRoutes, {
      metrics: options.metrics,
      queues: options.queues,
      openapi: () => app.swagger(),
      requireAdmin: auth.require(['admin']),
    });
  }
  return app;
}

/**
 * The onRequest guard: keys and roles (auth.ts), then the rate limits — per address on routes
 * without a key and on failed key checks (so keys cannot be guessed without limit), per key id
 * on keyed routes. A callback hook, like the authenticator's, for the banner's sake.
 */
function guard(
  auth: ReturnType<typeof createAuthenticator>,
  limits: ApiOptions['rateLimits'],
): onRequestHookHandler {
  if (limits === undefined) return auth.hook;
  const byAddress = createRateLimiter(limits.ip);
  const byKey = createRateLimiter(limits.key);
  const overLimit = (wait: number | undefined, otherwise?: Error) =>
    wait === undefined ? otherwise : rateLimited(wait);
  return (request, reply, done) => {
    const config = request.routeOptions.config;
    if (config.roles === undefined) {
      done(config.rateLimit === false ? undefined : overLimit(byAddress.take(addressClient(request.ip))));
      return;
    }
    auth.hook(request, reply, (error?: Error) => {
      if (error !== undefined) done(overLimit(byAddress.take(addressClient(request.ip)), error));
      else done(overLimit(byKey.take(request.caller?.keyId ?? '')));
    });
  };
}

/**
 * The admin listener (ADMIN_PORT on ADMIN_HOST, loopback by default): `/metrics`, `/docs` (when
 * an API runs in the process) and `/admin/queues`, without keys — who can reach the address is
 * the guard. Nothing else answers on it.
 */
export async function buildAdminApi(options: {
  readonly metrics: Metrics;
  readonly queues: Queues;
  readonly api?: FastifyInstance;
}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, requestIdHeader: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const api = options.api;
  await app.withTypeProvider<ZodTypeProvider>().register(operatorRoutes, {
    metrics: options.metrics,
    queues: options.queues,
    ...(api === undefined ? {} : { openapi: () => api.swagger() }),
  });
  return app;
}
