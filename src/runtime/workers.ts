/**
 * The worker side of a deployment: a BullMQ worker per chosen queue running the processors of
 * `workers/`, the outbox relay and the sweeper, on connections and a ledger opened here.
 */
import { Worker, type Processor } from 'bullmq';
import type { Env } from '../config/env.ts';
import type { ChannelPolicy, DeliveryOutcome } from '../delivery/deliver.ts';
import type { LinkSigner } from '../delivery/links.ts';
import { startSweeper } from '../delivery/sweeper.ts';
import type { ClaimGuards, Ledger, LedgerLimits, QueuedChannel } from '../ledger/index.ts';
import { reasonLabel, type Metrics } from '../metrics/registry.ts';
import { backoffDelay } from '../queue/backoff.ts';
import { QUEUE_NAMES, type QueueName } from '../queue/names.ts';
import { closeQueues, openQueues, queuePrefix, type Queues } from '../queue/queues.ts';
import { OutboxRelay } from '../queue/relay.ts';
import { campaignProcessor } from '../../workers/campaigns.ts';
import { deliverProcessor } from '../../workers/deliver.ts';
import { retractProcessor } from '../../workers/retract.ts';
import { timerProcessor } from '../../workers/timers.ts';
import { channelsFromEnv, type ChannelSet } from './channels.ts';
import { openProducerRedis, openWorkerRedis } from './connections.ts';
import { ledgerPlace, openLedger } from './ledger.ts';
import { linkSignerFromEnv } from './links.ts';
import { channelPolicy } from './policy.ts';

/** How {@link startWorkers} runs: what it connects to, sends through, and works. */
export interface WorkerRuntimeOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly partitions: number;
  /**
   * The deployment's ledger bounds: campaign runs issue under the open-offer cap, and every
   * transition trims history by the retention. The defaults when absent.
   */
  readonly limits?: Partial<LedgerLimits>;
  readonly channels: ChannelSet;
  readonly links: LinkSigner;
  /** Queues to work (default all). The relay and the sweeper run wherever `timers` is worked. */
  readonly queues?: readonly QueueName[];
  readonly concurrency?: number;
  /** Per-channel lease and least remaining validity; each channel's default when absent. */
  readonly policy?: Partial<Record<QueuedChannel, ChannelPolicy>>;
  /** How long a job may run before BullMQ considers its worker dead and runs it again. */
  readonly jobLockMs?: number;
  /** How often due activations and expiries are applied and dead leases ended (default 1 s). */
  readonly sweepIntervalMs?: number;
  readonly guards?: (offerId: string, channel: QueuedChannel) => Promise<ClaimGuards | undefined>;
  readonly afterSend?: (offerId: string, channel: QueuedChannel) => void;
  readonly onError?: (error: unknown, where: string) => void;
  /** Where delivery outcomes, claims, holds and ledger latency are counted (`/metrics`). */
  readonly metrics?: Metrics;
}

/** Workers that run until {@link WorkerRuntime.close}. */
export interface WorkerRuntime {
  readonly ledger: Ledger;
  readonly queues: Queues;
  /** Stops taking jobs, lets the ones in flight finish, and closes every connection. */
  close(): Promise<void>;
}

/** Counts one delivery attempt: the claim's answer, a hold's reason, and how the attempt ended. */
function countOutcome(metrics: Metrics) {
  return (channel: QueuedChannel, outcome: DeliveryOutcome): void => {
    const answer = outcome.kind === 'skipped' ? 'skip' : outcome.kind === 'held' ? 'hold' : 'go';
    metrics.claims.inc({ channel, answer });
    if (outcome.kind === 'held') metrics.holds.inc({ channel, reason: outcome.reason });
    // A skip's reason is a closed code (its reply is parsed against the set), kept whole so that
    // `uncertain:stock_unknown` and `held_past_deadline:quiet_hours` still name their guardrail.
    const reason =
      outcome.kind === 'skipped' || outcome.kind === 'held'
        ? outcome.reason
        : 'reason' in outcome
          ? reasonLabel(outcome.reason)
          : '';
    metrics.deliveries.inc({ channel, state: outcome.kind, reason });
  };
}

/** Starts the workers of the chosen queues, the outbox relay and the sweeper. */
export async function startWorkers(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const onError = options.onError ?? (() => undefined);
  const reportRedis = (error: Error): void => {
    onError(error, 'redis');
  };
  const connection = openWorkerRedis(options.redisUrl, reportRedis);
  const metrics = options.metrics;
  const place = {
    prefix: options.prefix,
    partitions: options.partitions,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  };
  const ledger = openLedger(connection, place, metrics);
  // Producers fail fast while Redis is away; the relay retries its pass.
  const producer = openProducerRedis(options.redisUrl, reportRedis);
  const queues = openQueues(producer, options.prefix, (error) => {
    onError(error, 'queue');
  });
  const policy = { ...channelPolicy(), ...options.policy };
  const deps = {
    ledger,
    channels: options.channels,
    links: options.links,
    policy,
    ...(options.guards === undefined ? {} : { guards: options.guards }),
    ...(options.afterSend === undefined ? {} : { afterSend: options.afterSend }),
    ...(metrics === undefined ? {} : { onOutcome: countOutcome(metrics) }),
  };
  const processors: Record<QueueName, Processor> = {
    email: deliverProcessor(deps),
    push: deliverProcessor(deps),
    retract: retractProcessor(deps),
    timers: timerProcessor(ledger),
    campaigns: campaignProcessor(ledger),
  };
  const names = options.queues ?? QUEUE_NAMES;
  const workers = names.map((name) => {
    const worker = new Worker(name, processors[name], {
      connection,
      prefix: queuePrefix(options.prefix),
      concurrency: options.concurrency ?? 16,
      lockDuration: options.jobLockMs ?? 30_000,
      stalledInterval: options.jobLockMs ?? 30_000,
      // A job whose worker died is run again: its claim decides whether anything is sent.
      maxStalledCount: 100,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          backoffDelay(attemptsMade, error),
      },
    });
    worker.on('error', (error) => {
      onError(error, `worker:${name}`);
    });
    return worker;
  });
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  await Promise.all(Object.values(queues).map((queue) => queue.waitUntilReady()));

  // The relay reads through the fail-fast connection, so a stop during an outage does not wait for Redis.
  const relayLedger = openLedger(producer, { prefix: options.prefix, partitions: options.partitions });
  const relay = names.includes('timers')
    ? new OutboxRelay({
        ledger: relayLedger,
        queues,
        onError: (error) => {
          onError(error, 'relay');
        },
      })
    : undefined;
  await relay?.start();
  const sweeper = names.includes('timers')
    ? startSweeper(ledger, {
        intervalMs: options.sweepIntervalMs ?? 1_000,
        onError: (error) => {
          onError(error, 'sweeper');
        },
      })
    : undefined;

  return {
    ledger,
    queues,
    close: async () => {
      await relay?.stop();
      await sweeper?.stop();
      await Promise.all(workers.map((worker) => worker.close()));
      await closeQueues(queues);
      await Promise.all(Object.values(options.channels).map((channel) => channel.close()));
      await Promise.allSettled([connection.quit(), producer.quit()]);
    },
  };
}

/** What a process adds to the environment's settings when it starts the workers. */
export interface WorkersFromEnvOptions {
  readonly queues?: readonly QueueName[];
  readonly concurrency?: number;
  /** Channels to send through instead of the environment's (the demo's capture). */
  readonly channels?: ChannelSet;
  readonly onError?: (error: unknown, where: string) => void;
  readonly metrics?: Metrics;
  /** Facts from outside the partition each claim needs (quiet hours, watermarks, stock). */
  readonly guards?: (offerId: string, channel: QueuedChannel) => Promise<ClaimGuards | undefined>;
}

/**
 * Starts the workers of a deployment from its environment: its ledger place and bounds, its
 * channels, its link signer, CONCORD_LEASE_MS for every channel and CONCORD_JOB_LOCK_MS.
 */
export function startWorkersFromEnv(env: Env, options: WorkersFromEnvOptions = {}): Promise<WorkerRuntime> {
  const place = ledgerPlace(env);
  return startWorkers({
    redisUrl: env.REDIS_URL,
    prefix: place.prefix,
    partitions: place.partitions,
    ...(place.limits === undefined ? {} : { limits: place.limits }),
    channels: options.channels ?? channelsFromEnv(env),
    links: linkSignerFromEnv(env),
    policy: channelPolicy(env.CONCORD_LEASE_MS),
    jobLockMs: env.CONCORD_JOB_LOCK_MS,
    ...(options.queues === undefined ? {} : { queues: options.queues }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.guards === undefined ? {} : { guards: options.guards }),
  });
}
