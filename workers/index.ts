import { Worker, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import type { MessageChannel } from '../src/channels/types.ts';
import type { ChannelPolicy, DeliveryOutcome } from '../src/delivery/deliver.ts';
import type { LinkSigner } from '../src/delivery/links.ts';
import { startSweeper } from '../src/delivery/sweeper.ts';
import { Ledger, type ClaimGuards, type LedgerLimits, type QueuedChannel } from '../src/ledger/index.ts';
import { reasonLabel, type Metrics } from '../src/metrics/registry.ts';
import { backoffDelay } from '../src/queue/backoff.ts';
import { QUEUE_NAMES, type QueueName } from '../src/queue/names.ts';
import { closeQueues, openQueues, queuePrefix, type Queues } from '../src/queue/queues.ts';
import { OutboxRelay } from '../src/queue/relay.ts';
import { campaignProcessor } from './campaigns.ts';
import { deliverProcessor } from './deliver.ts';
import { retractProcessor } from './retract.ts';
import { timerProcessor } from './timers.ts';

export interface WorkerRuntimeOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly partitions: number;
  /**
   * The deployment's ledger bounds: campaign runs issue under the open-offer cap, and every
   * transition trims history by the retention. The defaults when absent.
   */
  readonly limits?: Partial<LedgerLimits>;
  readonly channels: Partial<Record<QueuedChannel, MessageChannel<unknown>>>;
  readonly links: LinkSigner;
  /** Queues to work (default all). The relay and the sweeper run wherever `timers` is worked. */
  readonly queues?: readonly QueueName[];
  readonly concurrency?: number;
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

export interface WorkerRuntime {
  readonly ledger: Ledger;
  readonly queues: Queues;
  /** Stops taking jobs, lets the ones in flight finish, and closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_POLICY: Record<QueuedChannel, ChannelPolicy> = {
  email: { leaseMs: 60_000, minRemainingMs: 15 * 60_000 },
  push: { leaseMs: 30_000, minRemainingMs: 5 * 60_000 },
};

/** Counts one delivery attempt: the claim's answer, a hold's reason, and how the attempt ended. */
function countOutcome(metrics: Metrics) {
  return (channel: QueuedChannel, outcome: DeliveryOutcome): void => {
    const answer = outcome.kind === 'skipped' ? 'skip' : outcome.kind === 'held' ? 'hold' : 'go';
    metrics.claims.inc({ channel, answer });
    if (outcome.kind === 'held') metrics.holds.inc({ channel, reason: reasonLabel(outcome.reason) });
    const reason = 'reason' in outcome ? reasonLabel(outcome.reason) : '';
    metrics.deliveries.inc({ channel, state: outcome.kind, reason });
  };
}

/** Starts the workers of the chosen queues, the outbox relay and the sweeper. */
export async function startWorkers(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const onError = options.onError ?? (() => undefined);
  // Workers wait out a Redis outage instead of failing their commands (BullMQ's guidance).
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (error) => {
    onError(error, 'redis');
  });
  const metrics = options.metrics;
  const ledger = new Ledger(connection, {
    prefix: options.prefix,
    partitions: options.partitions,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(metrics === undefined
      ? {}
      : {
          onScript: (script: string, seconds: number, ok: boolean) => {
            metrics.ledgerScripts.observe({ script, outcome: ok ? 'ok' : 'error' }, seconds);
          },
        }),
  });
  // Producers fail fast while Redis is away; the relay retries its pass.
  const producer = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  producer.on('error', (error) => {
    onError(error, 'redis');
  });
  const queues = openQueues(producer, options.prefix, (error) => {
    onError(error, 'queue');
  });
  const policy = { ...DEFAULT_POLICY, ...options.policy };
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
  const relayLedger = new Ledger(producer, { prefix: options.prefix, partitions: options.partitions });
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
