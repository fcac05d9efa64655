import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Ledger, OutboxEntry } from '../ledger/index.ts';
import { jobIds } from './names.ts';
import type { Queues } from './queues.ts';

/** The consumer group every relay process joins. */
export const RELAY_GROUP = 'relay';

/** What the relay sees of the ledger: the outbox reader, the clock and the partition count. */
export type RelayLedger = Pick<Ledger, 'outbox' | 'now' | 'keys'>;

export interface RelayOptions {
  readonly ledger: RelayLedger;
  readonly queues: Queues;
  /** Stable per process, so a restarted relay can be told apart in XINFO. */
  readonly consumer?: string;
  readonly batch?: number;
  /** Pause between passes that found nothing. */
  readonly idleMs?: number;
  /** An entry read but not acknowledged for this long belonged to a relay that died. */
  readonly staleMs?: number;
  readonly onError?: (error: unknown) => void;
}

interface PlannedJob {
  readonly queue: Queue;
  readonly name: string;
  readonly data: Record<string, string>;
  readonly jobId: string;
  readonly delay: number;
}

/**
 * Turns outbox effects into BullMQ jobs: read with a consumer group, add the jobs (deterministic
 * ids), then acknowledge. A crash between add and ack repeats the add, which the job id makes
 * harmless; entries a dead relay left unacknowledged are taken over after `staleMs`.
 */
export class OutboxRelay {
  private readonly ledger: RelayLedger;
  private readonly queues: Queues;
  private readonly consumer: string;
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly staleMs: number;
  private readonly onError: (error: unknown) => void;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastStaleScan = 0;
  private groupReady = false;

  constructor(options: RelayOptions) {
    this.ledger = options.ledger;
    this.queues = options.queues;
    this.consumer = options.consumer ?? `relay-${randomUUID()}`;
    this.batch = options.batch ?? 500;
    this.idleMs = options.idleMs ?? 50;
    this.staleMs = options.staleMs ?? 30_000;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Starts relaying in the background until {@link stop}. */
  async start(): Promise<void> {
    if (this.running) return;
    try {
      await this.ledger.outbox.ensureGroup(RELAY_GROUP);
      this.groupReady = true;
      // Every relay process joins under a name of its own; the ones long gone are forgotten.
      await this.ledger.outbox.pruneConsumers(RELAY_GROUP, 24 * 3_600_000);
    } catch (error) {
      // Redis is not there yet: the loop creates the group once it answers.
      this.onError(error);
    }
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the pass under way and stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** One pass over every partition; answers how many effects it relayed. */
  async pass(): Promise<number> {
    const now = await this.ledger.now();
    const scanStale = now - this.lastStaleScan >= this.staleMs / 2;
    if (scanStale) this.lastStaleScan = now;
    const counts = await Promise.all(
      Array.from({ length: this.ledger.keys.partitions }, async (_, partition) => {
        try {
          const relayed = await this.relayPartition(partition, now, scanStale);
          this.retryOwnPending.delete(partition);
          return relayed;
        } catch (error) {
          this.retryOwnPending.add(partition);
          throw error;
        }
      }),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  private readonly retryOwnPending = new Set<number>();

  private async relayPartition(partition: number, now: number, scanStale: boolean): Promise<number> {
    const entries = scanStale
      ? await this.ledger.outbox.claimStale(partition, RELAY_GROUP, this.consumer, this.staleMs, this.batch)
      : [];
    // After a failed pass this relay's own unacknowledged entries are read again first.
    if (this.retryOwnPending.has(partition)) {
      entries.push(
        ...(await this.ledger.outbox.read(partition, RELAY_GROUP, this.consumer, this.batch, {
          ownPending: true,
        })),
      );
    }
    entries.push(...(await this.ledger.outbox.read(partition, RELAY_GROUP, this.consumer, this.batch)));
    if (entries.length === 0) return 0;
    const jobs = entries.flatMap((entry) => this.plan(entry, now));
    const byQueue = new Map<Queue, PlannedJob[]>();
    for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
    await Promise.all(
      [...byQueue].map(([queue, planned]) =>
        queue.addBulk(
          planned.map((job) => ({
            name: job.name,
            data: job.data,
            opts: { jobId: job.jobId, delay: job.delay },
          })),
        ),
      ),
    );
    await this.ledger.outbox.ack(
      partition,
      RELAY_GROUP,
      entries.map((entry) => entry.id),
    );
    return entries.length;
  }

  private plan(entry: OutboxEntry, now: number): PlannedJob[] {
    if (entry.kind === 'unreadable') {
      // Written by a newer version during a rolling deploy: reported and acknowledged, so it
      // cannot block the partition.
      this.onError(new Error(`unreadable outbox entry ${entry.id}: ${JSON.stringify(entry.fields)}`));
      return [];
    }
    const delay = Math.max(0, entry.at - now);
    switch (entry.kind) {
      case 'deliver':
        if (entry.channel !== 'email' && entry.channel !== 'push') return [];
        return [
          {
            queue: this.queues[entry.channel],
            name: 'deliver',
            data: {
              offerId: entry.offerId,
              channel: entry.channel,
              customerId: entry.customerId,
              ...(entry.sku === undefined || entry.sku === '' ? {} : { sku: entry.sku }),
            },
            jobId: jobIds.deliver(entry.offerId, entry.channel, entry.attempt),
            delay,
          },
        ];
      case 'retract':
        if (entry.channel !== 'push') return [];
        return [
          {
            queue: this.queues.retract,
            name: 'retract',
            data: { offerId: entry.offerId, channel: entry.channel },
            jobId: jobIds.retract(entry.offerId, entry.channel, entry.version),
            delay,
          },
        ];
      // Written only by an earlier version still running during a rolling deploy: the sweeper
      // now applies activation and expiry from the due index, and a timer job is as harmless.
      case 'activate-at':
      case 'expire-at': {
        const kind = entry.kind === 'activate-at' ? 'activate' : 'expire';
        return [
          {
            queue: this.queues.timers,
            name: kind,
            data: { offerId: entry.offerId, kind },
            jobId: jobIds.timer(kind, entry.offerId, entry.at),
            delay,
          },
        ];
      }
    }
  }

  /** Read through a method: `stop()` may change it while a pass is awaited. */
  private isRunning(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let relayed = 0;
      try {
        if (!this.groupReady) {
          await this.ledger.outbox.ensureGroup(RELAY_GROUP);
          this.groupReady = true;
        }
        relayed = await this.pass();
        failures = 0;
      } catch (error) {
        // Redis unreachable or a queue refused: nothing was acknowledged, so the next pass retries.
        // A Redis that lost its data (no AOF) lost the group too: it is created again.
        if (error instanceof Error && error.message.includes('NOGROUP')) this.groupReady = false;
        this.onError(error);
        failures++;
      }
      if (relayed === 0 && this.isRunning()) {
        const pause = failures > 0 ? Math.min(5_000, this.idleMs * 2 ** failures) : this.idleMs;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
