/**
 * One process's services: the HTTP API, the workers, or both, with one metrics registry and an
 * admin listener when ADMIN_PORT is set — as `concord serve`, `work`, `all` and the demo run them.
 */
import type { Redis } from 'ioredis';
import { buildAdminApi, buildApi, type Api } from '../api/app.ts';
import type { CaptureInbox } from '../channels/capture-inbox.ts';
import { requireSetting, signerSettings, type Env } from '../config/env.ts';
import { ConcordError } from '../errors.ts';
import { createMetrics, type Metrics } from '../metrics/registry.ts';
import type { QueueName } from '../queue/names.ts';
import { closeQueues, openQueues, type Queues } from '../queue/queues.ts';
import type { ChannelSet } from './channels.ts';
import { connectApiRedis, openProducerRedis, quitRedis } from './connections.ts';
import { ledgerPlace, openLedger } from './ledger.ts';
import { linkSignerFromEnv } from './links.ts';
import { startWorkersFromEnv, type WorkerRuntime } from './workers.ts';

/** What to run in this process: the HTTP API, the workers, or both. */
export interface ServicesOptions {
  readonly env: Env;
  readonly api?: {
    readonly host: string;
    readonly inbox?: CaptureInbox;
    /** pino level for request logs (stdout); `silent` for none. */
    readonly logLevel: string;
  };
  readonly workers?: {
    readonly queues?: readonly QueueName[];
    readonly concurrency?: number;
    readonly channels?: ChannelSet;
  };
  /** Told about errors the services recover from (Redis away, a job failing); already rate-limited. */
  readonly onError?: (message: string) => void;
}

/** Running services; `close` stops them in order and closes every connection they opened. */
export interface Services {
  /** Where the API listens, when it runs. */
  readonly url?: string;
  readonly port?: number;
  /** Where the admin listener (metrics, docs, queue dashboard) listens, when ADMIN_PORT is set. */
  readonly adminUrl?: string;
  close(): Promise<void>;
}

/**
 * Starts the API and/or the workers in this process, as `concord serve`, `work`, `all` and the
 * demo do. Checks Redis first and fails with one line if it does not answer; with both parts,
 * the API shows the workers' queues and the process has one metrics registry.
 */
export async function startServices(options: ServicesOptions): Promise<Services> {
  const { env } = options;
  const report = rateLimited(options.onError ?? (() => undefined));
  // Checked before anything starts, so a Redis that does not answer is one line, not a hang.
  // The API keeps this connection; it fails fast while Redis is away (503): no offline queue.
  const redis = await connectApiRedis(env.REDIS_URL);
  const closers = new Closers();
  if (options.api) {
    redis.on('error', (error: Error) => {
      report('redis', error);
    });
    closers.add(() => quitRedis(redis));
  } else {
    await quitRedis(redis);
  }
  // One registry per process: in `concord all` the API's /metrics shows the workers' counters too.
  const metrics = createMetrics();
  try {
    let runtime: WorkerRuntime | undefined;
    if (options.workers) {
      const started = await startWorkersFromEnv(env, {
        metrics,
        ...(options.workers.queues === undefined ? {} : { queues: options.workers.queues }),
        ...(options.workers.concurrency === undefined ? {} : { concurrency: options.workers.concurrency }),
        ...(options.workers.channels === undefined ? {} : { channels: options.workers.channels }),
        onError: (error, where) => {
          report(where, error);
        },
      });
      closers.add(() => started.close());
      runtime = started;
    }
    const api = options.api
      ? await startApi(env, options.api, redis, runtime?.queues, closers, report, metrics)
      : undefined;
    const queues = api?.queues ?? runtime?.queues;
    const adminUrl =
      env.ADMIN_PORT === undefined || queues === undefined
        ? undefined
        : await startAdmin(
            env,
            env.ADMIN_PORT,
            { metrics, queues, ...(api ? { api: api.app } : {}) },
            closers,
          );
    return {
      ...(api ? { url: api.url, port: api.port } : {}),
      ...(adminUrl === undefined ? {} : { adminUrl }),
      close: () => closers.close(),
    };
  } catch (error) {
    await closers.close();
    throw error;
  }
}

/** Stops what was started, last first (the API stops taking requests before the workers stop). */
class Closers {
  private readonly list: (() => Promise<unknown>)[] = [];
  private closing: Promise<void> | undefined;

  add(close: () => Promise<unknown>): void {
    this.list.push(close);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const close of [...this.list].reverse()) await close().catch(() => undefined);
    })();
    return this.closing;
  }
}

async function startApi(
  env: Env,
  options: NonNullable<ServicesOptions['api']>,
  redis: Redis,
  workerQueues: Queues | undefined,
  closers: Closers,
  report: (where: string, error: unknown) => void,
  metrics: Metrics,
): Promise<{ url: string; port: number; app: Api; queues: Queues }> {
  const apiKeys = requireSetting(env, 'CONCORD_API_KEYS');
  const signer = signerSettings(env);
  const ledger = openLedger(redis, ledgerPlace(env), metrics);
  let queues = workerQueues;
  if (!queues) {
    // `serve` alone still shows the dashboard and queue depths, from a producer connection.
    const producer = openProducerRedis(env.REDIS_URL, (error) => {
      report('redis', error);
    });
    const opened = openQueues(producer, env.CONCORD_PREFIX, (error) => {
      report('queue', error);
    });
    closers.add(async () => {
      await closeQueues(opened);
      await quitRedis(producer);
    });
    queues = opened;
  }
  const app = await buildApi({
    ledger,
    redis,
    links: linkSignerFromEnv(env),
    apiKeys,
    keyIdSecret: signer.secrets[0] ?? '',
    metrics,
    queues,
    ...(options.inbox === undefined ? {} : { inbox: options.inbox }),
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel },
    adminListener: env.ADMIN_PORT !== undefined,
    rateLimits: { ip: env.CONCORD_RATE_LIMIT_IP, key: env.CONCORD_RATE_LIMIT_KEY },
  });
  closers.add(() => app.close());
  const { url, port } = await listen(app, { port: env.PORT, host: options.host }, 'PORT', '--host');
  return { url, port, app, queues };
}

/** The admin listener on ADMIN_HOST:ADMIN_PORT; returns its URL. */
async function startAdmin(
  env: Env,
  adminPort: number,
  parts: { metrics: Metrics; queues: Queues; api?: Api },
  closers: Closers,
): Promise<string> {
  const admin = await buildAdminApi(parts);
  closers.add(() => admin.close());
  return (await listen(admin, { port: adminPort, host: env.ADMIN_HOST }, 'ADMIN_PORT', 'ADMIN_HOST')).url;
}

/** Listens, turning the usual failures into one line that names the setting to change. */
async function listen(
  app: Api,
  at: { port: number; host: string },
  portSetting: string,
  hostSetting: string,
): Promise<{ url: string; port: number }> {
  try {
    await app.listen(at);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new ConcordError('invalid_config', `${portSetting}: ${at.port} is already in use on ${at.host}`);
    }
    if (code === 'EACCES') {
      throw new ConcordError(
        'invalid_config',
        `${portSetting}: not allowed to listen on ${at.host}:${at.port}`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new ConcordError('invalid_config', `${hostSetting}: cannot listen on ${at.host}`);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : at.port;
  const shownHost = at.host.includes(':') ? `[${at.host}]` : at.host;
  return { url: `http://${shownHost}:${port}`, port };
}

/** The same message from the same place is reported at most once a minute (a Redis outage retries often). */
function rateLimited(report: (message: string) => void): (where: string, error: unknown) => void {
  const last = new Map<string, number>();
  return (where, error) => {
    const message =
      `${where}: ${error instanceof Error ? error.message : String(error)}`.split('\n')[0] ?? where;
    const now = Date.now();
    if ((last.get(message) ?? 0) > now - 60_000) return;
    if (last.size > 1000) last.clear();
    last.set(message, now);
    report(message);
  };
}
