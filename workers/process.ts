import {
  createEmailChannel,
  createHttpPushChannel,
  createSmtpTransport,
  createWebPushChannel,
} from '../src/channels/index.ts';
import type { MessageChannel } from '../src/channels/types.ts';
import { requireSetting, signerSettings, type Env } from '../src/config/env.ts';
import { createLinkSigner } from '../src/delivery/links.ts';
import { ledgerSettings, type ClaimGuards, type QueuedChannel } from '../src/ledger/index.ts';
import type { Metrics } from '../src/metrics/registry.ts';
import type { QueueName } from '../src/queue/names.ts';
import { startWorkers, type WorkerRuntime } from './index.ts';

/** The most one push request may take, and the part of it the connection (lookup, TCP, TLS) may take. */
const PUSH_TIMEOUT_MS = 5_000;
const PUSH_CONNECT_TIMEOUT_MS = 3_000;

/** The channels a deployment sends through, from its environment (SMTP_URL, PUSH_URL or VAPID keys). */
export function channelsFromEnv(env: Env): Partial<Record<QueuedChannel, MessageChannel<unknown>>> {
  const publicUrl = new URL(env.PUBLIC_URL ?? `http://localhost:${env.PORT}`);
  const email = createEmailChannel({
    transport: createSmtpTransport(requireSetting(env, 'SMTP_URL')),
    from: env.EMAIL_FROM,
    messageIdDomain: env.EMAIL_FROM.split('@')[1] ?? publicUrl.hostname,
  });
  const push =
    env.VAPID_PUBLIC_KEY && env.VAPID_PRIVATE_KEY && env.VAPID_SUBJECT
      ? createWebPushChannel({
          vapid: {
            subject: env.VAPID_SUBJECT,
            publicKey: env.VAPID_PUBLIC_KEY,
            privateKey: env.VAPID_PRIVATE_KEY,
          },
          // Short: a hanging endpoint must not hold a worker slot for long.
          timeoutMs: PUSH_TIMEOUT_MS,
          connectTimeoutMs: PUSH_CONNECT_TIMEOUT_MS,
          allowedHosts: env.CONCORD_PUSH_HOSTS,
        })
      : createHttpPushChannel({ url: requireSetting(env, 'PUSH_URL'), timeoutMs: PUSH_TIMEOUT_MS });
  return { email, push };
}

/** Starts the workers of a deployment from its environment. */
export function startWorkersFromEnv(
  env: Env,
  options: {
    queues?: readonly QueueName[];
    concurrency?: number;
    channels?: Partial<Record<QueuedChannel, MessageChannel<unknown>>>;
    onError?: (error: unknown, where: string) => void;
    metrics?: Metrics;
    /** Facts from outside the partition each claim needs (quiet hours, watermarks, stock). */
    guards?: (offerId: string, channel: QueuedChannel) => Promise<ClaimGuards | undefined>;
  } = {},
): Promise<WorkerRuntime> {
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  return startWorkers({
    redisUrl: env.REDIS_URL,
    prefix: env.CONCORD_PREFIX,
    partitions: env.CONCORD_PARTITIONS,
    limits: ledgerSettings(env),
    channels: options.channels ?? channelsFromEnv(env),
    links: createLinkSigner({ publicUrl, ...signerSettings(env) }),
    policy: {
      email: { leaseMs: env.CONCORD_LEASE_MS, minRemainingMs: 15 * 60_000 },
      push: { leaseMs: env.CONCORD_LEASE_MS, minRemainingMs: 5 * 60_000 },
    },
    jobLockMs: env.CONCORD_JOB_LOCK_MS,
    ...(options.queues === undefined ? {} : { queues: options.queues }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.guards === undefined ? {} : { guards: options.guards }),
  });
}
