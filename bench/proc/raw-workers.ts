/** The raw baseline's workers: BullMQ workers on `email` and `push`, as many as Concord runs. */
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createSmtpTransport, defaultTemplates } from '../../src/channels/index.ts';
import { createLinkSigner } from '../../src/delivery/links.ts';
import type { NoCommands } from '../lib/protocol.ts';
import { RAW_QUEUE_PREFIX, rawEmail, rawPush, type RawDeps } from '../lib/raw-pipeline.ts';
import { serve } from '../lib/rpc.ts';

const setting = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};

const redis = new Redis(setting('REDIS_URL'), { maxRetriesPerRequest: null });
const deps: RawDeps = {
  redis,
  // The same pooled transport settings as Concord's email channel.
  transport: createSmtpTransport(setting('SMTP_URL')),
  pushUrl: setting('PUSH_URL'),
  templates: defaultTemplates(),
  links: createLinkSigner({ publicUrl: 'http://localhost:3000', secrets: [setting('CONCORD_SIGNING_SECRET')] }),
};
const errors: string[] = [];
const customerOf = (job: Job): string => (job.data as { customerId: string }).customerId;
const workers = [
  new Worker('email', (job) => rawEmail(deps, customerOf(job)), { connection: redis, prefix: RAW_QUEUE_PREFIX, concurrency: 16 }),
  new Worker('push', (job) => rawPush(deps, customerOf(job)), { connection: redis, prefix: RAW_QUEUE_PREFIX, concurrency: 16 }),
];
for (const worker of workers) {
  worker.on('error', (error) => {
    if (errors.length < 100) errors.push(error.message);
  });
  worker.on('failed', (_job, error) => {
    if (errors.length < 100) errors.push(error.message);
  });
}
await Promise.all(workers.map((worker) => worker.waitUntilReady()));

serve<NoCommands>({ errors: async () => errors }, {}, async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  deps.transport.close();
  redis.disconnect();
});
