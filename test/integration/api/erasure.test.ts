import { Worker, type Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCampaign } from '../../../src/campaigns/service.ts';
import { fireCampaign } from '../../../src/campaigns/run.ts';
import { queuePrefix } from '../../../src/queue/queues.ts';
import { OutboxRelay, RELAY_GROUP } from '../../../src/queue/relay.ts';
import type { FailReason } from '../../../src/ledger/index.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { hookCampaignUpdates, offerInput } from '../../support/ledger-context.ts';
import { waitFor } from '../../support/redis-server.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

const ADA = 'cust-ada-4711';
const BOB = 'cust-bob-0815';
/** Everything personal about Ada that the store holds before her erasure. */
const PERSONAL = {
  customerId: ADA,
  email: 'ada.lovelace@example.org',
  name: 'Ada Lovelace',
  pushEndpoint: 'https://push.example.net/device/ada-7f3k',
  signalSku: 'SKU-ADA-WISH',
  liveCode: 'ADA-LIVE-1',
  endedCode: 'ADA-ENDED-2',
  pendingCode: 'ADA-SOON-3',
  providerRef: 'prov-ref-ada-1',
};

/** Every key under the test's prefix (the ledger's and BullMQ's), with its whole content as text. */
async function dump(): Promise<Map<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await ctx.redis.scan(cursor, 'MATCH', `${ctx.prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out = new Map<string, string>();
  for (const key of keys.sort()) {
    const type = await ctx.redis.type(key);
    let value: unknown;
    if (type === 'hash') value = await ctx.redis.hgetall(key);
    else if (type === 'set') value = await ctx.redis.smembers(key);
    else if (type === 'list') value = await ctx.redis.lrange(key, 0, -1);
    else if (type === 'zset') value = await ctx.redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'stream') value = await ctx.redis.xrange(key, '-', '+');
    // Binary documents (the live offers) are searched byte for byte.
    else if (type === 'string') value = (await ctx.redis.getBuffer(key))?.toString('latin1');
    else value = type;
    out.set(key, `${type}:${JSON.stringify(value)}`);
  }
  return out;
}

/** Each (key, what) where the key's name or content holds one of the personal values. */
function leaks(keys: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [key, content] of keys) {
    for (const [what, value] of Object.entries(PERSONAL)) {
      if (key.includes(value) || content.includes(value)) found.push(`${what} in ${key}`);
    }
  }
  return found;
}

async function inject(
  method: 'PUT' | 'POST' | 'DELETE' | 'GET',
  url: string,
  role: Parameters<ApiContext['auth']>[0],
  payload?: object,
) {
  const headers = ctx.auth(role);
  return payload === undefined
    ? ctx.api.inject({ method, url, headers })
    : ctx.api.inject({ method, url, headers, payload });
}

async function campaignWith(customerIds: string[]): Promise<string> {
  const id = await createCampaign(
    ctx.ledger,
    {
      name: 'Spring',
      slot: 'spring',
      offer: {
        title: 'Spring 10%',
        code: 'SPRING-ALL',
        discount: { kind: 'percent', value: 10 },
        validFor: 'P7D',
      },
      channels: ['email', 'web'],
      audience: { customerIds },
    },
    'marketer-a',
  );
  await ctx.ledger.campaigns.update(id, { action: 'approve' }, 'admin-b');
  const now = await ctx.ledger.now();
  await ctx.ledger.campaigns.update(
    id,
    { action: 'schedule', schedule: { kind: 'once', at: now }, scheduleKind: 'once' },
    'admin-b',
  );
  return id;
}

/** Ada with a profile, signals, offers live, ended and pending, a campaign, and queued and finished jobs. */
async function seedAda(): Promise<void> {
  for (const id of [ADA, BOB]) {
    const profile = await inject('PUT', `/v1/customers/${id}`, 'ingest', {
      email: id === ADA ? PERSONAL.email : 'bob@example.org',
      name: id === ADA ? PERSONAL.name : 'Bob',
      pushEndpoint: id === ADA ? PERSONAL.pushEndpoint : 'https://push.example.net/device/bob',
      timezone: 'Europe/London',
      consent: { email: true, push: true, web: true },
    });
    expect(profile.statusCode).toBe(200);
  }
  const at = new Date(await ctx.ledger.now()).toISOString();
  const events = await inject('POST', '/v1/events', 'ingest', [
    { type: 'cart', eventId: 'e-91c2', source: 'shop', at, customerId: ADA, sku: PERSONAL.signalSku },
    { type: 'view', eventId: 'e-91c3', source: 'web', at, customerId: ADA, sku: PERSONAL.signalSku },
  ]);
  expect(events.statusCode).toBe(200);

  await ctx.ledger.offers.issue(offerInput(ADA, { code: PERSONAL.liveCode, sku: 'SHOE-1' }), 'marketer');
  const ended = await ctx.ledger.offers.issue(
    offerInput(ADA, { code: PERSONAL.endedCode, slot: 'winback', sku: 'SHOE-2', category: 'shoes' }),
    'marketer',
  );
  const push = await ctx.ledger.deliveries.claim({
    offerId: ended.offer.offerId,
    channel: 'push',
    leaseMs: 10_000,
  });
  if (push.answer !== 'go') throw new Error(`push claim: ${push.answer}`);
  await ctx.ledger.deliveries.confirm({
    offerId: ended.offer.offerId,
    channel: 'push',
    token: push.token,
    outcome: 'sent',
    providerRef: PERSONAL.providerRef,
  });
  const email = await ctx.ledger.deliveries.claim({
    offerId: ended.offer.offerId,
    channel: 'email',
    leaseMs: 10_000,
  });
  if (email.answer !== 'go') throw new Error(`email claim: ${email.answer}`);
  await ctx.ledger.deliveries.confirm({
    offerId: ended.offer.offerId,
    channel: 'email',
    token: email.token,
    outcome: 'failed',
    // Failure text as earlier versions stored it, quoting the provider's answer with the address.
    reason: `550 ${PERSONAL.email}: mailbox full` as FailReason,
  });
  await ctx.ledger.offers.cancel(ended.offer.offerId, { reason: 'support_request', actor: 'support' });
  const now = await ctx.ledger.now();
  await ctx.ledger.offers.issue(
    offerInput(ADA, {
      code: PERSONAL.pendingCode,
      slot: 'later',
      validFrom: now + 3_600_000,
      validUntil: now + 7_200_000,
    }),
    'marketer',
  );

  const campaign = await campaignWith([BOB, ADA]);
  expect(await fireCampaign(ctx.ledger, campaign, 'fire-1', 1)).toMatchObject({ kind: 'completed' });

  // Effects become jobs; the email jobs are worked (their answers kept), the others wait.
  await ctx.ledger.outbox.ensureGroup(RELAY_GROUP);
  const relay = new OutboxRelay({ ledger: ctx.ledger, queues: ctx.queues });
  while ((await relay.pass()) > 0);
  const worker = new Worker(
    'email',
    // A provider's answer about the recipient, as a finished job keeps it.
    (job) =>
      Promise.resolve(
        (job.data as { customerId?: string }).customerId === ADA
          ? { kind: 'failed', reason: `550 ${PERSONAL.email}: mailbox full` }
          : { kind: 'sent' },
      ),
    { connection: ctx.redis.duplicate({ maxRetriesPerRequest: null }), prefix: queuePrefix(ctx.prefix) },
  );
  await waitFor(async () => {
    const counts = await ctx.queues.email.getJobCounts('wait', 'active', 'delayed', 'completed');
    return (
      counts['wait'] === 0 && counts['active'] === 0 && counts['delayed'] === 0 && counts['completed'] === 4
    );
  }, 20_000);
  await worker.close();
  await worker.disconnect();
}

describe('erasure', () => {
  it('leaves no key holding the email, name, push endpoint, signals, id or codes of the customer', async () => {
    await seedAda();
    const before = await dump();
    // The dump must see what it looks for, or finding nothing afterwards would prove nothing.
    expect(new Set(leaks(before).map((line) => line.split(' in ')[0]))).toEqual(
      new Set(Object.keys(PERSONAL)),
    );
    expect((await ctx.queues.push.getJobCounts('wait'))['wait']).toBeGreaterThan(0);

    const erased = await inject('DELETE', `/v1/customers/${ADA}`, 'admin');
    expect(erased.statusCode).toBe(200);
    const after = await dump();
    expect(leaks(after)).toEqual([]);
    expect(erased.json()).toMatchObject({ erased: true, jobsInFlight: 0 });
    // Bob, in the same campaign and partition layout, keeps everything.
    expect((await ctx.ledger.customers.getProfile(BOB))?.name).toBe('Bob');
    expect((await ctx.ledger.offers.customerOffers(BOB)).length).toBe(1);
    // A history read after the erasure shows no offer and no code.
    const history = await inject('GET', `/v1/customers/${ADA}/history`, 'support');
    expect(history.statusCode).toBe(404);

    // Erasing again is safe: it finds nothing and changes nothing.
    const again = await inject('DELETE', `/v1/customers/${ADA}`, 'admin');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({
      erased: false,
      offers: 0,
      audienceErasures: 0,
      jobsRemoved: 0,
      jobsInFlight: 0,
      pushesNotRetracted: 0,
    });
    expect(await dump()).toEqual(after);
  });

  it('reports the erasure in numbers only and says which pushes could not be taken back', async () => {
    await seedAda();
    const erased = await inject('DELETE', `/v1/customers/${ADA}`, 'admin');
    // Offers: live, ended, pending and the campaign's; the ended offer's push was sent.
    expect(erased.json()).toMatchObject({
      erased: true,
      offers: 4,
      audienceErasures: 1,
      pushesNotRetracted: 1,
    });
    expect(erased.json<{ jobsRemoved: number }>().jobsRemoved).toBeGreaterThanOrEqual(5);
    expect(ctx.logs.join('')).not.toContain(ADA);
  });

  it('erases a customer mid campaign run: pages already issued and pages to come leave nothing of them', async () => {
    const audience = Array.from({ length: 450 }, (_, i) => `m-${String(i).padStart(3, '0')}`);
    const [early, late] = ['m-010', 'm-333'];
    // A run issues only to customers with a profile: every one of the audience has one.
    for (const id of audience) {
      await inject('PUT', `/v1/customers/${id}`, 'ingest', {
        email: `${id}@example.org`,
        consent: { web: true },
      });
    }
    const campaign = await campaignWith(audience);
    // The erasure lands between the run's first and second page.
    let erasedMidRun = false;
    const hooked = hookCampaignUpdates(ctx.ledger, async (next, id, change, actor) => {
      const reply = await next(id, change, actor);
      if (change.action === 'page' && change.cursor === 0) {
        for (const customerId of [early, late]) {
          expect((await inject('DELETE', `/v1/customers/${customerId}`, 'admin')).json()).toMatchObject({
            erased: true,
            audienceErasures: 1,
          });
        }
        erasedMidRun = true;
      }
      return reply;
    });
    expect(await fireCampaign(hooked, campaign, 'fire-1', 1)).toMatchObject({ kind: 'completed' });
    expect(erasedMidRun).toBe(true);

    for (const id of [early, late]) {
      expect(await ctx.ledger.offers.customerOffers(id)).toEqual([]);
      expect(await ctx.ledger.customers.getProfile(id)).toBeUndefined();
    }
    const leaked = [...(await dump())].filter(([key, content]) =>
      [early, late].some(
        (id) => key.includes(id) || content.includes(`"${id}`) || content.includes(`|${id}"`),
      ),
    );
    expect(leaked.map(([key]) => key)).toEqual([]);
    const shown = await inject('GET', `/v1/campaigns/${campaign}`, 'marketer');
    expect(shown.json()).toMatchObject({
      progress: { audience: 450, processed: 450, issued: 449, skippedBy: { erased: 1 } },
    });
    // The other customers of the run kept their offers.
    expect((await ctx.ledger.offers.customerOffers('m-334')).length).toBe(1);
  });

  it('takes back from a job a worker holds what it can, and counts it in flight', async () => {
    await inject('PUT', `/v1/customers/${ADA}`, 'ingest', {
      email: PERSONAL.email,
      consent: { email: true },
    });
    await ctx.ledger.offers.issue(offerInput(ADA, { channels: ['email'] }), 'marketer');
    await ctx.ledger.outbox.ensureGroup(RELAY_GROUP);
    await new OutboxRelay({ ledger: ctx.ledger, queues: ctx.queues }).pass();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running: Job | undefined;
    const worker = new Worker(
      'email',
      async (job) => {
        running = job;
        await held;
      },
      { connection: ctx.redis.duplicate({ maxRetriesPerRequest: null }), prefix: queuePrefix(ctx.prefix) },
    );
    await waitFor(() => running !== undefined, 10_000, 'the job to start');
    const erased = await inject('DELETE', `/v1/customers/${ADA}`, 'admin');
    expect(erased.json()).toMatchObject({ erased: true, jobsInFlight: 1, jobsRemoved: 0 });
    const job = await ctx.queues.email.getJob(running?.id ?? '');
    expect(Object.keys(job?.data as object).sort()).toEqual(['channel', 'offerId']);
    release();
    await worker.close();
    await worker.disconnect();
  });
});

describe('customer ids that are email addresses', () => {
  it('are refused on every write, a batch of events whole, and nothing changes', async () => {
    const before = await dump();
    expect((await inject('PUT', '/v1/customers/ada@example.org', 'ingest', { name: 'Ada' })).statusCode).toBe(
      400,
    );
    const at = new Date().toISOString();
    const batch = await inject('POST', '/v1/events', 'ingest', [
      { type: 'view', eventId: 'e-ok', source: 'web', at, customerId: 'c-ok', sku: 'S-1' },
      { type: 'view', eventId: 'e-mail', source: 'web', at, customerId: 'ada@example.org', sku: 'S-1' },
    ]);
    expect(batch.statusCode).toBe(400);
    const offer = await inject('POST', '/v1/offers', 'marketer', {
      ...offerInput('ada@example.org'),
      validUntil: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(offer.statusCode).toBe(400);
    const campaign = await inject('POST', '/v1/campaigns', 'marketer', {
      name: 'Spring',
      offer: { title: 'Spring 10%', discount: { kind: 'percent', value: 10 }, validFor: 'P7D' },
      channels: ['web'],
      audience: { customerIds: ['c-ok', 'ada@example.org'] },
    });
    expect(campaign.statusCode).toBe(400);
    expect(await dump()).toEqual(before);
  });

  it('stored by earlier versions are still read and erased', async () => {
    const legacy = 'ada@example.org';
    const keys = ctx.ledger.keys.customer(legacy);
    await ctx.redis.hset(keys.profile, { email: legacy, name: 'Ada', createdAt: '1' });
    await ctx.ledger.signals.recordEvent({
      type: 'view',
      eventId: 'e-legacy',
      source: 'web',
      at: Date.now(),
      customerId: legacy,
      sku: 'S-1',
    });
    expect((await inject('GET', `/v1/customers/${legacy}`, 'support')).statusCode).toBe(200);
    expect((await inject('DELETE', `/v1/customers/${legacy}`, 'admin')).json()).toMatchObject({
      erased: true,
    });
    expect(
      [...(await dump())].filter(([key, content]) => key.includes(legacy) || content.includes(legacy)),
    ).toEqual([]);
  });
});
