import { createEmailChannel, createHttpPushChannel, createSmtpTransport } from '../../src/channels/index.ts';
import type { ChannelPolicy } from '../../src/delivery/deliver.ts';
import { createLinkSigner, type LinkSigner } from '../../src/delivery/links.ts';
import type {
  ClaimGuards,
  DeliveryState,
  Ledger,
  LedgerLimits,
  QueuedChannel,
} from '../../src/ledger/index.ts';
import { startWorkers, type WorkerRuntime } from '../../src/runtime/workers.ts';
import { startPushSink, type PushSink } from './push-sink.ts';
import { waitFor } from './redis-server.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

/** Sinks that speak real SMTP and HTTP, plus the links the workers sign. */
export interface Sinks {
  readonly smtp: SmtpSink;
  readonly push: PushSink;
  readonly links: LinkSigner;
  close(): Promise<void>;
}

export async function startSinks(): Promise<Sinks> {
  const smtp = await startSmtpSink();
  const push = await startPushSink();
  return {
    smtp,
    push,
    links: createLinkSigner({ publicUrl: 'http://127.0.0.1:3999', secrets: [SIGNING_SECRET] }),
    close: async () => {
      await Promise.all([smtp.close(), push.close()]);
    },
  };
}

export interface PipelineOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly partitions?: number;
  /** The workers' ledger bounds (e.g. guardrails under test); the defaults, guardrails off, when absent. */
  readonly limits?: Partial<LedgerLimits>;
  readonly policy?: Partial<Record<QueuedChannel, ChannelPolicy>>;
  readonly guards?: (offerId: string, channel: QueuedChannel) => Promise<ClaimGuards | undefined>;
  readonly jobLockMs?: number;
  readonly sweepIntervalMs?: number;
}

/** In-process workers (relay, sweeper, every queue) sending to the sinks through real channels. */
export function startPipeline(sinks: Sinks, options: PipelineOptions): Promise<WorkerRuntime> {
  return startWorkers({
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    partitions: options.partitions ?? 16,
    channels: {
      email: createEmailChannel({
        transport: createSmtpTransport(sinks.smtp.url, { socketTimeoutMs: 5_000 }),
        from: 'offers@example.com',
        messageIdDomain: 'example.com',
      }),
      push: createHttpPushChannel({ url: sinks.push.url, timeoutMs: 5_000 }),
    },
    links: sinks.links,
    policy: {
      email: { leaseMs: 10_000, minRemainingMs: 0 },
      push: { leaseMs: 10_000, minRemainingMs: 0 },
      ...options.policy,
    },
    sweepIntervalMs: options.sweepIntervalMs ?? 500,
    ...(options.jobLockMs === undefined ? {} : { jobLockMs: options.jobLockMs }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.guards === undefined ? {} : { guards: options.guards }),
  });
}

/** Waits until a delivery reaches one of the states. */
export async function waitForDelivery(
  ledger: Ledger,
  offerId: string,
  channel: QueuedChannel,
  states: readonly DeliveryState[],
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const state = (await ledger.offers.getOffer(offerId))?.deliveries[channel]?.state;
      return state !== undefined && states.includes(state);
    },
    timeoutMs,
    `${offerId} ${channel} to be ${states.join(' or ')}`,
  );
}

/** Emails the sink accepted for one offer (by its X-Concord-Offer header). */
export function emailsFor(sinks: Sinks, offerId: string) {
  return sinks.smtp.messages.filter((message) => message.headers['x-concord-offer'] === offerId);
}

/** Pushes the provider accepted as new for one offer, by kind. */
export function pushesFor(sinks: Sinks, offerId: string, kind: 'offer' | 'retract' = 'offer') {
  return sinks.push.deliveries.filter((request) => {
    const body = request.json as { offerId?: string; kind?: string } | undefined;
    return body?.offerId === offerId && body.kind === kind;
  });
}

/** The environment of a worker process (`workers/main.ts`) sending to the sinks under `prefix`. */
export function workerEnv(
  sinks: Sinks,
  redisUrl: string,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    CONCORD_PREFIX: prefix,
    SMTP_URL: sinks.smtp.url,
    PUSH_URL: sinks.push.url,
    CONCORD_SIGNING_SECRET: SIGNING_SECRET,
    ...extra,
  };
}
