/**
 * The demo (`concord demo`, `npm start`). It is built on src/runtime like the other faces and
 * never imports src/cli: the command line launches the demo, not the other way round.
 */
import { randomBytes } from 'node:crypto';
import { apiRoleSchema, givenSettings, loadEnv, type Env } from '../config/env.ts';
import { localActor } from '../runtime/actor.ts';
import { connectRedis, hidePassword, quitRedis } from '../runtime/connections.ts';
import { ledgerPlace, openLedger } from '../runtime/ledger.ts';
import { stopOnSignal } from '../runtime/lifecycle.ts';
import { linkSignerFromEnv } from '../runtime/links.ts';
import { startServices, type Services } from '../runtime/services.ts';
import { startCapture, type Capture } from './capture.ts';
import { findRedis, type DemoRedis } from './redis.ts';
import { seedSamples, type SeedReport } from './seed.ts';

/** Where the demo prints its banner and its progress. */
interface Output {
  line(text?: string): void;
}

const stdout: Output = {
  line: (text = '') => {
    process.stdout.write(`${text}\n`);
  },
};

/** How `concord demo` runs. */
export interface DemoOptions {
  /** Where the API listens (`localhost`: both loopback addresses). */
  readonly host: string;
  /** Start a private redis-server even if one answers at 127.0.0.1:6379 (REDIS_URL still wins). */
  readonly privateRedis: boolean;
  /** Upsert sample customers and issue them sample offers. */
  readonly seed: boolean;
  readonly logLevel: string;
}

/**
 * `npm start`: everything Concord needs in one process for someone who has only cloned the repo
 * — Redis (REDIS_URL, the local default, or a private redis-server), built-in SMTP and push
 * capture, demo keys and secret, sample data, the API and the workers. Returns once it is ready;
 * SIGINT or SIGTERM stops every part it started.
 */
export async function runDemo(options: DemoOptions, out: Output = stdout): Promise<void> {
  const env = loadEnv();
  const given = givenSettings();
  const parts: { redis?: DemoRedis; capture?: Capture; services?: Services } = {};
  const stopAll = async () => {
    await parts.services?.close();
    await parts.capture?.close();
    await parts.redis?.stop();
  };
  // From the first moment: Ctrl-C while starting still stops what has started so far.
  stopOnSignal(
    async () => {
      await stopAll();
      out.line('concord demo: stopped');
    },
    {
      onStopping: () => {
        out.line('concord demo: stopping…');
      },
    },
  );
  try {
    const redis = await findRedis({
      url: given.has('REDIS_URL') ? env.REDIS_URL : undefined,
      forcePrivate: options.privateRedis,
    });
    parts.redis = redis;
    const capture = await startCapture({
      smtp: env.SMTP_URL === undefined,
      push: env.PUSH_URL === undefined,
    });
    parts.capture = capture;
    const apiKeys =
      env.CONCORD_API_KEYS ??
      apiRoleSchema.options.map((role) => ({ role, key: `demo-${role}-${randomBytes(12).toString('hex')}` }));
    const demoEnv: Env = {
      ...env,
      REDIS_URL: redis.url,
      CONCORD_API_KEYS: apiKeys,
      ...(env.CONCORD_SIGNING_SECRETS === undefined
        ? { CONCORD_SIGNING_SECRET: env.CONCORD_SIGNING_SECRET ?? randomBytes(32).toString('base64url') }
        : {}),
      ...(capture.smtpUrl === undefined ? {} : { SMTP_URL: capture.smtpUrl }),
      ...(capture.pushUrl === undefined ? {} : { PUSH_URL: capture.pushUrl }),
    };
    const services = await startServices({
      env: demoEnv,
      api: { host: options.host, inbox: capture.inbox, logLevel: options.logLevel },
      workers: {},
      onError: (message) => {
        process.stderr.write(`concord demo: ${message}\n`);
      },
    });
    parts.services = services;
    const seeded = options.seed ? await seed(demoEnv) : undefined;
    const host = ['localhost', '127.0.0.1', '0.0.0.0', '::'].includes(options.host)
      ? 'localhost'
      : options.host;
    printBanner(out, {
      env: demoEnv,
      given,
      redis,
      capture,
      base: `http://${host}:${services.port ?? env.PORT}`,
      adminBase: services.adminUrl,
      seeded,
    });
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

async function seed(env: Env): Promise<SeedReport> {
  const redis = await connectRedis(env.REDIS_URL);
  try {
    return await seedSamples(openLedger(redis, ledgerPlace(env)), localActor('demo'));
  } finally {
    await quitRedis(redis);
  }
}

function printBanner(
  out: Output,
  context: {
    env: Env;
    given: ReadonlySet<keyof Env>;
    redis: DemoRedis;
    capture: Capture;
    base: string;
    /** The admin listener, when ADMIN_PORT is set: operator pages answer there without a key. */
    adminBase: string | undefined;
    seeded: SeedReport | undefined;
  },
): void {
  const { env, redis, capture, base, adminBase, seeded } = context;
  const keys = env.CONCORD_API_KEYS ?? [];
  const admin = keys.find((entry) => entry.role === 'admin')?.key;
  const links = linkSignerFromEnv(env, base);
  const where = {
    env: `${hidePassword(redis.url)} (REDIS_URL)`,
    default: `${hidePassword(redis.url)} (already running there)`,
    private: `${redis.url}, a private redis-server (pid ${redis.pid ?? '?'}, dir ${redis.dir ?? '?'}), stopped on exit`,
  }[redis.source];
  const lines: string[] = [
    '',
    'Concord demo',
    '',
    `  Redis          ${where}`,
    `  Key prefix     ${env.CONCORD_PREFIX}`,
    `  Email          ${capture.smtpUrl ? `built-in capture at ${capture.smtpUrl}` : `SMTP_URL (${hidePassword(env.SMTP_URL ?? '')})`}`,
    `  Push           ${capture.pushUrl ? `built-in capture at ${capture.pushUrl}` : `PUSH_URL (${hidePassword(env.PUSH_URL ?? '')})`}`,
    '',
    context.given.has('CONCORD_API_KEYS')
      ? '  API keys (from CONCORD_API_KEYS)'
      : '  Demo API keys (one per role, new on every start)',
  ];
  if (!context.given.has('CONCORD_API_KEYS')) {
    for (const entry of keys) lines.push(`    ${entry.role.padEnd(9)} ${entry.key}`);
  }
  if (!context.given.has('CONCORD_SIGNING_SECRET') && !context.given.has('CONCORD_SIGNING_SECRETS')) {
    lines.push(`  Signing secret (random)  ${env.CONCORD_SIGNING_SECRET ?? ''}`);
  }
  const sample = seeded?.customers[0]?.customerId ?? 'c-1001';
  lines.push(
    '',
    `  Health         ${base}/healthz`,
    `  Captured       ${base}/admin/captured   (admin key)`,
    // Operator pages: on the admin listener without a key, else on the public port with the admin key.
    ...(adminBase === undefined
      ? [
          `  API docs       ${base}/docs             (admin key)`,
          `  Metrics        ${base}/metrics          (admin key)`,
          `  Queues         ${base}/admin/queues     (admin key)`,
        ]
      : [
          `  API docs       ${adminBase}/docs`,
          `  Metrics        ${adminBase}/metrics`,
          `  Queues         ${adminBase}/admin/queues`,
        ]),
    `  Banner         ${base}/v1/banner?customer=${sample}&slot=promo&token=${links.bannerToken(sample)}`,
    '',
  );
  if (admin !== undefined && !context.given.has('CONCORD_API_KEYS')) {
    lines.push(`  Try            curl -H 'Authorization: Bearer ${admin}' ${base}/admin/captured`);
  }
  // The command line reads the same environment; a private server needs its address spelled out.
  const cliEnv = redis.source === 'private' ? `REDIS_URL=${redis.url} ` : '';
  lines.push(`                 ${cliEnv}npx concord customer history ${sample}`, '');
  if (seeded) {
    lines.push('  Sample customers and offers');
    for (const offer of seeded.offers) {
      const customer = seeded.customers.find((entry) => entry.customerId === offer.customerId);
      const replaced = offer.superseded.length > 0 ? ` (replaces ${offer.superseded.join(', ')})` : '';
      lines.push(
        `    ${offer.customerId}  ${(customer?.timezone ?? '').padEnd(17)} ${offer.offerId}  ${offer.title}${replaced}`,
      );
    }
    lines.push('');
    if (seeded.campaignId !== undefined) {
      lines.push(
        `  Sample campaign ${seeded.campaignId} (draft; a marketer key writes, another key approves)`,
        `    POST ${base}/v1/campaigns/${seeded.campaignId}/preview   then /approve, /schedule {}, GET to watch`,
        '',
      );
    }
  }
  lines.push(`concord demo: ready on ${base} — Ctrl-C stops everything`);
  for (const line of lines) out.line(line);
}
