/**
 * The producer: issues offers through the ledger as the API's handler does (one `issue` script
 * per offer), and the raw baseline's producer (one HSET per offer, jobs added with addBulk).
 * It also reads results back after a measured window (send times, states, history, memory).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadEnv } from '../../src/config/env.ts';
import { Ledger, type OfferRecord } from '../../src/ledger/index.ts';
import { liveOfferView } from '../../src/support/views.ts';
import { customerIds, OFFER, profileOf, VALID_FOR_MS, type IdRange, type ProducerCommands, type SendTimes } from '../lib/protocol.ts';
import { RAW_JOB_OPTIONS, RAW_QUEUE_PREFIX, rawKey } from '../lib/raw-pipeline.ts';
import { serve } from '../lib/rpc.ts';
import { percentiles, pool } from '../lib/stats.ts';

const env = loadEnv();
const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
const ledger = new Ledger(redis, { prefix: env.CONCORD_PREFIX, partitions: env.CONCORD_PARTITIONS });
const rawQueues = {
  email: new Queue('email', { connection: redis, prefix: RAW_QUEUE_PREFIX, defaultJobOptions: RAW_JOB_OPTIONS }),
  push: new Queue('push', { connection: redis, prefix: RAW_QUEUE_PREFIX, defaultJobOptions: RAW_JOB_OPTIONS }),
};

const WIDTH = 64;

/** Every offer of the range's customers, read through the ledger (zod-checked). */
async function offersOf(ids: IdRange): Promise<OfferRecord[]> {
  const list = customerIds(ids);
  const offers: OfferRecord[] = [];
  await pool(list.length, WIDTH, async (i) => {
    offers.push(...(await ledger.offers.customerOffers(list[i]!)));
  });
  return offers;
}

function sendTimes(pairs: readonly { issuedAt: number; sentAt: number | undefined }[]): SendTimes {
  const latencies: number[] = [];
  let lastSentAt = 0;
  for (const { issuedAt, sentAt } of pairs) {
    if (sentAt === undefined) continue;
    latencies.push(sentAt - issuedAt);
    lastSentAt = Math.max(lastSentAt, sentAt);
  }
  return { sent: latencies.length, lastSentAt, latency: percentiles(latencies) };
}

/** Stream ids order history entries; compared as (ms, seq). */
function before(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am < bm || (am === bm && as < bs);
}

const KEY_KINDS: readonly [RegExp, string][] = [
  [/:offers$/, 'offers'],
  [/:live$/, 'live'],
  [/:history$/, 'history'],
  [/:profile$/, 'profile'],
  [/:owners$/, 'owners'],
  [/:idem$/, 'idem'],
  [/:outbox$/, 'outbox'],
  [/:due$/, 'due'],
  [/:leases$/, 'leases'],
  [/:unknown$/, 'unknown'],
  [/:idx:[a-z]+$/, 'indexes'],
];

serve<ProducerCommands>(
  {
    profiles: async ({ ids }) => {
      const list = customerIds(ids);
      await pool(list.length, WIDTH, async (i) => {
        const id = list[i]!;
        await ledger.customers.upsertProfile(
          id,
          { ...profileOf(id), consent: { email: true, push: true, web: true } },
          { actor: 'bench', source: 'bench' },
        );
      });
      return null;
    },

    issue: async ({ ids, concurrency, returnIds }) => {
      const list = customerIds(ids);
      const offerIds: string[] = [];
      const validUntil = Date.now() + VALID_FOR_MS;
      const startedAt = Date.now();
      await pool(list.length, concurrency, async (i) => {
        const { offer } = await ledger.offers.issue(
          { ...OFFER, discount: { ...OFFER.discount }, channels: [...OFFER.channels], customerId: list[i]!, validUntil },
          'bench',
        );
        if (returnIds === true) offerIds.push(offer.offerId);
      });
      return { startedAt, endedAt: Date.now(), offerIds };
    },

    concordTimes: async ({ ids }) => {
      const offers = await offersOf(ids);
      return sendTimes(
        offers.flatMap((offer) =>
          (['email', 'push'] as const).map((channel) => {
            const d = offer.deliveries[channel];
            return { issuedAt: offer.createdAt, sentAt: d?.state === 'sent' ? d.sentAt : undefined };
          }),
        ),
      );
    },

    deliveryStates: async ({ ids }) => {
      const counts: Record<string, number> = {};
      for (const offer of await offersOf(ids)) {
        for (const channel of ['email', 'push'] as const) {
          const key = `${channel}:${offer.deliveries[channel]?.state ?? 'none'}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
      }
      return counts;
    },

    cancelAudit: async ({ ids }) => {
      const list = customerIds(ids);
      let claimsAfterCancel = 0;
      const claimedBeforeCancel: string[] = [];
      await pool(list.length, WIDTH, async (i) => {
        const entries = await ledger.customers.history(list[i]!);
        const cancels = new Map<string, string>();
        for (const entry of entries) {
          if (entry.action === 'cancelled' && entry.offer !== undefined) cancels.set(entry.offer, entry.id);
        }
        for (const entry of entries) {
          if (entry.action !== 'delivery_claimed' || entry.offer === undefined) continue;
          const cancel = cancels.get(entry.offer);
          if (cancel === undefined) continue;
          if (before(entry.id, cancel)) claimedBeforeCancel.push(`${entry.offer}|${entry.channel ?? ''}`);
          else claimsAfterCancel++;
        }
      });
      let open = 0;
      let retractionsDue = 0;
      let retractionsDone = 0;
      for (const offer of await offersOf(ids)) {
        for (const channel of ['email', 'push'] as const) {
          const d = offer.deliveries[channel];
          if (d?.state === 'scheduled' || d?.state === 'held' || d?.state === 'sending') open++;
          if (d?.retraction === 'due') retractionsDue++;
          if (d?.retraction === 'done') retractionsDone++;
        }
      }
      return { claimsAfterCancel, claimedBeforeCancel, open, retractionsDue, retractionsDone };
    },

    ledgerMemory: async () => {
      const bytes: Record<string, number> = {};
      const keys: Record<string, number> = {};
      let offers = 0;
      let historyEntries = 0;
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${env.CONCORD_PREFIX}:*`, 'COUNT', 1000);
        cursor = next;
        const batch = redis.pipeline();
        for (const key of found) batch.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
        const usage = (await batch.exec()) ?? [];
        const counts = redis.pipeline();
        found.forEach((key, i) => {
          const kind = KEY_KINDS.find(([pattern]) => pattern.test(key))?.[1] ?? 'other';
          bytes[kind] = (bytes[kind] ?? 0) + Number(usage[i]?.[1] ?? 0);
          keys[kind] = (keys[kind] ?? 0) + 1;
          // Every offer ever issued has an owner entry, whether it is open (live) or ended (offers).
          if (kind === 'owners') counts.hlen(key);
          if (kind === 'history') counts.xlen(key);
        });
        const lengths = (await counts.exec()) ?? [];
        let j = 0;
        for (const key of found) {
          if (key.endsWith(':owners')) offers += Number(lengths[j++]?.[1] ?? 0);
          else if (key.endsWith(':history')) historyEntries += Number(lengths[j++]?.[1] ?? 0);
        }
      } while (cursor !== '0');
      return { bytes, keys, offers, historyEntries };
    },

    seedBare: async ({ ids }) => {
      const list = customerIds(ids);
      await pool(list.length, WIDTH, async (i) => {
        const id = list[i]!;
        const live = await ledger.offers.currentOffer(id, OFFER.slot);
        if (!live.offer) throw new Error(`customer ${id} has no live offer to copy`);
        const fields = Object.fromEntries(
          Object.entries(liveOfferView(live.offer)).map(([name, value]) => [
            name,
            typeof value === 'string' ? value : JSON.stringify(value),
          ]),
        );
        await redis.hset(`bare:banner:${id}`, fields);
      });
      return null;
    },

    rawIssue: async ({ ids, batch }) => {
      const list = customerIds(ids);
      const validUntil = Date.now() + VALID_FOR_MS;
      const startedAt = Date.now();
      for (let from = 0; from < list.length; from += batch) {
        const chunk = list.slice(from, from + batch);
        const write = redis.pipeline();
        for (const customerId of chunk) {
          write.hset(rawKey(customerId), {
            offerId: `raw-${customerId}`,
            customerId,
            title: OFFER.title,
            body: OFFER.body,
            code: OFFER.code,
            discount: JSON.stringify(OFFER.discount),
            validUntil: String(validUntil),
            ...profileOf(customerId),
            issuedAt: String(Date.now()),
          });
        }
        await write.exec();
        const jobs = chunk.map((customerId) => ({ name: 'send', data: { customerId } }));
        await Promise.all([rawQueues.email.addBulk(jobs), rawQueues.push.addBulk(jobs)]);
      }
      return { startedAt, endedAt: Date.now() };
    },

    rawTimes: async ({ ids }) => {
      const list = customerIds(ids);
      const pairs: { issuedAt: number; sentAt: number | undefined }[] = [];
      for (let from = 0; from < list.length; from += 1000) {
        const read = redis.pipeline();
        for (const customerId of list.slice(from, from + 1000)) {
          read.hmget(rawKey(customerId), 'issuedAt', 'emailSentAt', 'pushSentAt');
        }
        for (const [, value] of (await read.exec()) ?? []) {
          const [issuedAt, emailSentAt, pushSentAt] = value as (string | null)[];
          for (const sentAt of [emailSentAt, pushSentAt]) {
            pairs.push({ issuedAt: Number(issuedAt), sentAt: sentAt === null || sentAt === undefined ? undefined : Number(sentAt) });
          }
        }
      }
      return sendTimes(pairs);
    },
  },
  {},
  async () => {
    await Promise.all([rawQueues.email.close(), rawQueues.push.close()]);
    redis.disconnect();
  },
);
