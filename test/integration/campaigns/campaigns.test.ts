import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignView } from '../../../src/campaigns/record.ts';
import { parseCampaign } from '../../../src/campaigns/record.ts';
import { fireCampaign, offerFor, runCampaign } from '../../../src/campaigns/run.ts';
import { Campaigns } from '../../../src/campaigns/service.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { jobIds } from '../../../src/queue/names.ts';
import type { WorkerRuntime } from '../../../src/runtime/workers.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { hookCampaignUpdates, offerInput, redisUrl } from '../../support/ledger-context.ts';
import {
  emailsFor,
  pushesFor,
  startPipeline,
  startSinks,
  waitForDelivery,
  type Sinks,
} from '../../support/pipeline.ts';
import { waitFor } from '../../support/redis-server.ts';

let ctx: ApiContext;
let sinks: Sinks;
let workers: WorkerRuntime;
let serial = 0;

beforeAll(async () => {
  ctx = await apiContext();
  sinks = await startSinks();
  workers = await startPipeline(sinks, { redisUrl: redisUrl(), prefix: ctx.prefix });
});
afterAll(async () => {
  await workers.close();
  await sinks.close();
  await ctx.close();
});

/** `count` customers with email, push and web consent, under a name of their own. */
async function customers(count: number, consent = { email: true, push: true, web: true }): Promise<string[]> {
  const batch = serial++;
  const ids = Array.from({ length: count }, (_, i) => `k${batch}-${i}`);
  for (const id of ids) {
    await ctx.ledger.customers.upsertProfile(
      id,
      { email: `${id}@example.com`, pushEndpoint: `https://push.example/${id}`, name: `Ada ${id}`, consent },
      { actor: 'test', source: 'fixture' },
    );
  }
  return ids;
}

function definition(customerIds: string[], overrides: Record<string, unknown> = {}) {
  return {
    name: 'Winter running',
    slot: 'promo',
    offer: {
      title: '15% off trail shoes',
      body: 'For the cold months.',
      code: 'TRAIL15',
      discount: { kind: 'percent', value: 15 },
      sku: 'SHOE-7',
      validFor: 'P7D',
    },
    channels: ['email', 'push', 'web'],
    audience: { customerIds },
    priority: 5,
    ...overrides,
  };
}

async function call(
  role: 'marketer' | 'admin' | 'support' | 'web',
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  return ctx.api.inject({
    method,
    url,
    headers: ctx.auth(role),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

async function create(customerIds: string[], overrides: Record<string, unknown> = {}): Promise<CampaignView> {
  const reply = await call('marketer', 'POST', '/v1/campaigns', definition(customerIds, overrides));
  expect(reply.statusCode, reply.body).toBe(201);
  return reply.json<{ campaign: CampaignView }>().campaign;
}

async function approved(
  customerIds: string[],
  overrides: Record<string, unknown> = {},
): Promise<CampaignView> {
  const campaign = await create(customerIds, overrides);
  const reply = await call('admin', 'POST', `/v1/campaigns/${campaign.id}/approve`, { note: 'looks right' });
  expect(reply.statusCode, reply.body).toBe(200);
  return reply.json<{ campaign: CampaignView }>().campaign;
}

async function read(id: string): Promise<CampaignView> {
  const reply = await call('support', 'GET', `/v1/campaigns/${id}`);
  expect(reply.statusCode, reply.body).toBe(200);
  return reply.json<CampaignView>();
}

async function waitForState(
  id: string,
  state: CampaignView['state'],
  timeoutMs = 30_000,
): Promise<CampaignView> {
  let last: CampaignView | undefined;
  await waitFor(
    async () => {
      last = await read(id);
      return last.state === state && !last.progress.running;
    },
    timeoutMs,
    `campaign ${id} to be ${state}`,
  );
  return last!;
}

/** The campaign's offers of one customer. */
async function offersOf(customerId: string, campaignId: string) {
  return (await ctx.ledger.offers.customerOffers(customerId)).filter(
    (offer) => offer.campaignId === campaignId,
  );
}

/** Starts a run without a job (a schedule far ahead, fired by hand), so only the test works it. */
async function startByHand(campaignId: string): Promise<number> {
  const reply = await ctx.ledger.campaigns.update(
    campaignId,
    { action: 'schedule', schedule: { kind: 'once', at: Date.now() + 3_600_000 }, scheduleKind: 'once' },
    'test',
  );
  const fired = await ctx.ledger.campaigns.update(
    campaignId,
    { action: 'fire', fireId: 'by-hand', scheduleVersion: Number(reply.fields['scheduleVersion']) },
    'test',
  );
  expect(fired.run).toBeGreaterThan(0);
  return fired.run!;
}

/** Waits until no job of the campaigns queue is waiting, active or delayed-and-due. */
async function campaignQueueIdle(): Promise<void> {
  await waitFor(
    async () => {
      const counts = await ctx.queues.campaigns.getJobCounts('waiting', 'active', 'prioritized');
      return Object.values(counts).every((count) => count === 0);
    },
    30_000,
    'the campaigns queue to be idle',
  );
}

describe('campaigns', () => {
  it('goes draft → approved (by another key) → scheduled → running → completed and issues one offer per customer on every channel', async () => {
    const ids = await customers(5);
    const campaign = await create(ids);
    expect(campaign).toMatchObject({
      state: 'draft',
      name: 'Winter running',
      progress: { audience: 5, issued: 0 },
    });
    expect(campaign.author).toMatch(/^api:marketer:/);

    const early = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/schedule`, {});
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json()).toMatchObject({ error: { code: 'conflict' } });

    const own = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/approve`, {});
    expect(own.statusCode, own.body).toBe(403);
    expect((await read(campaign.id)).state).toBe('draft');

    const approval = await call('admin', 'POST', `/v1/campaigns/${campaign.id}/approve`, { note: 'ok' });
    expect(approval.statusCode, approval.body).toBe(200);
    expect(approval.json<{ campaign: CampaignView }>().campaign).toMatchObject({
      state: 'approved',
      approvalNote: 'ok',
    });
    expect(approval.json<{ campaign: CampaignView }>().campaign.approvedBy).toMatch(/^api:admin:/);

    const scheduled = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/schedule`, {});
    expect(scheduled.statusCode, scheduled.body).toBe(200);
    const done = await waitForState(campaign.id, 'completed');
    expect(done.progress).toMatchObject({ audience: 5, processed: 5, issued: 5, skipped: 0, runs: 1 });

    for (const id of ids) {
      const [offer, ...more] = await offersOf(id, campaign.id);
      expect(more).toHaveLength(0);
      expect(offer).toMatchObject({
        state: 'active',
        title: '15% off trail shoes',
        code: 'TRAIL15',
        priority: 5,
      });
      // validFor P7D, counted from the issue.
      expect(offer!.validUntil - offer!.createdAt).toBeLessThanOrEqual(7 * 24 * 3_600_000);
      expect(offer!.validUntil - offer!.createdAt).toBeGreaterThan(7 * 24 * 3_600_000 - 10_000);
      await waitForDelivery(ctx.ledger, offer!.offerId, 'email', ['sent']);
      await waitForDelivery(ctx.ledger, offer!.offerId, 'push', ['sent']);
      expect(emailsFor(sinks, offer!.offerId)).toHaveLength(1);
      const banner = await call('web', 'GET', `/v1/customers/${id}/offers/current?slot=promo`);
      expect(banner.json()).toMatchObject({ offerId: offer!.offerId, campaignId: campaign.id });
    }
  });

  it('previews audience, guardrail outcomes and sample renders without changing anything', async () => {
    const [reachable, noPush, outranked] = await customers(3);
    await ctx.ledger.customers.upsertProfile(
      noPush!,
      { consent: { push: false } },
      { actor: 'test', source: 'fixture' },
    );
    // Web only: no delivery job runs for it while the preview is compared.
    await ctx.ledger.offers.issue(offerInput(outranked!, { priority: 50, channels: ['web'] }), 'test');
    const unknown = `nobody-${serial++}`;
    const campaign = await create([reachable!, noPush!, outranked!, unknown]);

    // The relay still takes the fixture's outbox entries; the comparison starts once it is done.
    await waitFor(async () => (await ctx.ledger.outbox.length()) === 0, 30_000, 'the outbox to drain');
    const before = await ctx.snapshot();
    const reply = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/preview`, {});
    expect(reply.statusCode, reply.body).toBe(200);
    expect(await ctx.snapshot()).toEqual(before);

    const { preview } = reply.json<{
      preview: {
        audience: number;
        customers: Record<string, number>;
        channels: Record<string, Record<string, number>>;
        samples: {
          email: { subject: string; html: string; text: string };
          push: { body: string };
          web: { html: string };
        };
      };
    }>();
    expect(preview.audience).toBe(4);
    expect(preview.customers).toMatchObject({ would_issue: 2, outranked: 1, no_profile: 1, holdout: 0 });
    expect(preview.channels['email']).toMatchObject({ reachable: 2, no_consent: 0 });
    expect(preview.channels['push']).toMatchObject({ reachable: 1, no_consent: 1 });
    expect(preview.samples.email.subject).toBe('15% off trail shoes');
    expect(preview.samples.email.html).toContain('TRAIL15');
    expect(preview.samples.email.text).toContain('TRAIL15');
    expect(preview.samples.push.body.length).toBeGreaterThan(0);
    expect(preview.samples.web.html).toContain('15% off trail shoes');
  });

  it("a marketer's preview holds no customer's name, id, address or signed link", async () => {
    const id = `zelda-private-${serial++}`;
    await ctx.ledger.customers.upsertProfile(
      id,
      {
        email: 'zelda.privatename@example.com',
        pushEndpoint: `device-token-${id}`,
        name: 'Zelda Privatename',
        consent: { email: true, push: true, web: true },
      },
      { actor: 'test', source: 'fixture' },
    );
    const campaign = await create([id, `nobody-${serial++}`]);
    const reply = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/preview`, {});
    expect(reply.statusCode, reply.body).toBe(200);
    const body = reply.body;
    for (const personal of [
      id,
      encodeURIComponent(id),
      'Zelda',
      'Privatename',
      'zelda.privatename',
      `device-token`,
    ]) {
      expect.soft(body, `the preview shows ${personal}`).not.toContain(personal);
    }
    expect.soft(body, 'a signed link').not.toMatch(/sig=|[?&]c=|token=/);
    expect(body).not.toContain('sampleCustomerId');
    const { preview } = reply.json<{
      preview: { customers: Record<string, number>; samples: { email: { html: string; text: string } } };
    }>();
    // Counts only, and the messages as a made-up recipient would get them, with example links.
    expect(preview.customers).toMatchObject({ would_issue: 1, no_profile: 1 });
    expect(preview.samples.email.text).toContain('Alex Example');
    expect(preview.samples.email.html).toContain('https://example.invalid/');
  });

  it('counts an erased place and a customer at the open-offer cap apart from customers without a profile', async () => {
    const [full, erased, fresh] = await customers(3);
    for (let slot = 0; slot < ctx.ledger.limits.maxOpenOffers; slot += 1) {
      await ctx.ledger.offers.issue(offerInput(full!, { slot: `cap-${slot}`, channels: ['web'] }), 'test');
    }
    const campaign = await create([full!, erased!, fresh!]);
    const erasure = await call('admin', 'DELETE', `/v1/customers/${erased}`);
    expect(erasure.statusCode, erasure.body).toBe(200);
    const reply = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/preview`, {});
    expect(reply.statusCode, reply.body).toBe(200);
    const { preview } = reply.json<{ preview: { customers: Record<string, number> } }>();
    expect(preview.customers).toMatchObject({
      would_issue: 1,
      open_offer_limit: 1,
      erased: 1,
      no_profile: 0,
    });
  });

  it('keeps a holdout out, the same customers on every run, and counts skips by reason', async () => {
    const ids = await customers(40);
    const campaign = await approved(ids, { holdout: { percent: 25 } });
    await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/schedule`, {});
    const done = await waitForState(campaign.id, 'completed');
    const held = done.progress.skippedBy['holdout'] ?? 0;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(40);
    expect(done.progress.issued + held).toBe(40);
    const preview = (await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/preview`, {})).json<{
      preview: { customers: Record<string, number> };
    }>().preview;
    expect(preview.customers['holdout']).toBe(held);
    for (const id of ids) {
      const offers = await offersOf(id, campaign.id);
      expect(offers.length).toBeLessThanOrEqual(1);
    }
  });

  it('pauses at a page boundary and resumes where it stopped, issuing each customer once', async () => {
    const ids = await customers(700, { email: false, push: false, web: true });
    const campaign = await approved(ids);
    const run = await startByHand(campaign.id);
    // The pause lands while the first page is being issued: that page is recorded, no other one.
    let paused = false;
    const pausing = hookCampaignUpdates(
      new Ledger(ctx.redis, { prefix: ctx.prefix, partitions: 16 }),
      async (next, ...args) => {
        if (args[1].action === 'page' && !paused) {
          paused = true;
          const reply = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/pause`, {
            reason: 'copy',
          });
          expect(reply.statusCode, reply.body).toBe(200);
        }
        return next(...args);
      },
    );
    expect(await runCampaign(pausing, campaign.id, run)).toEqual({ kind: 'stopped', run, state: 'paused' });
    const stopped = await read(campaign.id);
    expect(stopped).toMatchObject({
      state: 'paused',
      progress: { processed: 200, issued: 200, running: true },
    });

    const resumed = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/resume`, {});
    expect(resumed.statusCode, resumed.body).toBe(200);
    const done = await waitForState(campaign.id, 'completed', 60_000);
    expect(done.progress).toMatchObject({ processed: 700, issued: 700, runs: 1 });
    for (const id of ids) expect(await offersOf(id, campaign.id)).toHaveLength(1);
  });

  it('two workers running the same run issue each customer once and count each once', async () => {
    const ids = await customers(450, { email: false, push: false, web: true });
    const campaign = await approved(ids);
    const run = await startByHand(campaign.id);
    const outcomes = await Promise.all([
      runCampaign(ctx.ledger, campaign.id, run),
      runCampaign(ctx.ledger, campaign.id, run),
    ]);
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(expect.arrayContaining(['completed']));
    const done = await read(campaign.id);
    expect(done.state).toBe('completed');
    expect(done.progress).toMatchObject({ processed: 450, issued: 450 });
    for (const id of ids) expect(await offersOf(id, campaign.id)).toHaveLength(1);
  });

  it('cancel ends every live offer of the campaign on every channel and retracts its pushes', async () => {
    const ids = await customers(6);
    const campaign = await approved(ids);
    await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/schedule`, {});
    await waitForState(campaign.id, 'completed');
    const offers = (await Promise.all(ids.map((id) => offersOf(id, campaign.id)))).flat();
    for (const offer of offers) await waitForDelivery(ctx.ledger, offer.offerId, 'push', ['sent']);

    const reply = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/cancel`, {
      reason: 'wrong price',
    });
    expect(reply.statusCode, reply.body).toBe(200);
    // The same walk is queued to run again a little later, should this process have died mid-walk.
    const { version } = reply.json<{ campaign: CampaignView }>().campaign;
    const endJob = await ctx.queues.campaigns.getJob(jobIds.campaignEnd(campaign.id, version));
    expect(endJob?.data).toEqual({ kind: 'end', campaignId: campaign.id });
    expect(await endJob?.isDelayed()).toBe(true);
    expect(reply.json()).toMatchObject({
      ended: 6,
      campaign: { state: 'cancelled', progress: { cancelled: 6 } },
    });
    for (const id of ids) {
      const banner = await call('web', 'GET', `/v1/customers/${id}/offers/current?slot=promo`);
      expect(banner.statusCode).toBe(204);
    }
    for (const offer of offers) {
      const now = await ctx.ledger.offers.getOffer(offer.offerId);
      expect(now).toMatchObject({ state: 'cancelled', endReason: 'campaign_cancelled' });
      await waitFor(() => pushesFor(sinks, offer.offerId, 'retract').length === 1, 30_000, 'the retraction');
    }
    const history = await call('support', 'GET', `/v1/customers/${ids[0]}/history`);
    expect(history.body).toContain('its campaign was cancelled');

    const again = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/cancel`, {});
    expect(again.json()).toMatchObject({ ended: 0, campaign: { state: 'cancelled' } });
    const reschedule = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/schedule`, {});
    expect(reschedule.statusCode).toBe(409);
  });

  it('a cancel during a run leaves no live offer of the campaign', async () => {
    const ids = await customers(1000, { email: false, push: false, web: true });
    const campaign = await approved(ids);
    await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/schedule`, {});
    await waitFor(async () => (await read(campaign.id)).progress.processed > 0, 30_000, 'the first page');
    const reply = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/cancel`, {});
    expect(reply.statusCode, reply.body).toBe(200);
    await campaignQueueIdle();
    const after = await read(campaign.id);
    expect(after.state).toBe('cancelled');
    for (let partition = 0; partition < ctx.ledger.keys.partitions; partition++) {
      expect(await ctx.ledger.indexes.offersForCampaign(partition, campaign.id)).toEqual([]);
    }
    expect(after.progress.cancelled).toBe(after.progress.issued);
  });

  it('waits for a one-off time, and a cron schedule runs on every fire until cancelled', async () => {
    const [first] = await customers(1, { email: false, push: false, web: true });
    const later = await approved([first!]);
    const at = new Date(Date.now() + 1_500).toISOString();
    const scheduled = await call('marketer', 'POST', `/v1/campaigns/${later.id}/schedule`, { at });
    expect(scheduled.json()).toMatchObject({ campaign: { state: 'scheduled', schedule: { at } } });
    expect(await offersOf(first!, later.id)).toHaveLength(0);
    await waitForState(later.id, 'completed');
    const [issued] = await offersOf(first!, later.id);
    expect(issued!.createdAt).toBeGreaterThanOrEqual(Date.parse(at) - 50);

    const [second] = await customers(1, { email: false, push: false, web: true });
    const recurring = await approved([second!]);
    const cron = await call('marketer', 'POST', `/v1/campaigns/${recurring.id}/schedule`, {
      cron: '*/1 * * * * *',
      timezone: 'Europe/Paris',
    });
    expect(cron.statusCode, cron.body).toBe(200);
    await waitFor(async () => (await read(recurring.id)).progress.runs >= 2, 30_000, 'two runs');
    await call('marketer', 'POST', `/v1/campaigns/${recurring.id}/cancel`, {});
    await campaignQueueIdle();
    const runs = (await read(recurring.id)).progress.runs;
    // Each run issued a new offer that replaced the previous one; after the cancel none is live.
    const offers = await offersOf(second!, recurring.id);
    // (A fire that came just before the cancel may have started a run that then issued nothing.)
    expect(offers.length).toBeLessThanOrEqual(runs);
    expect(offers.length).toBeGreaterThanOrEqual(runs - 1);
    expect(offers.filter((offer) => offer.state === 'active')).toHaveLength(0);
    expect(await ctx.queues.campaigns.getJobSchedulers()).toHaveLength(0);
    // Per-customer outcomes are kept for the last run only.
    const outcomeRuns = (await ctx.redis.hkeys(ctx.ledger.keys.campaignKeys(recurring.id)[2])).map(
      (field) => field.split('|')[0],
    );
    expect(new Set(outcomeRuns).size).toBeLessThanOrEqual(1);
  });

  it('a run whose job was lost is picked up again by a resume or by the next fire', async () => {
    const ids = await customers(30, { email: false, push: false, web: true });
    const campaign = await approved(ids);
    // Running, with no job working it (as after a job that failed all its attempts).
    await startByHand(campaign.id);
    const resumed = await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/resume`, {});
    expect(resumed.statusCode, resumed.body).toBe(200);
    const done = await waitForState(campaign.id, 'completed');
    expect(done.progress).toMatchObject({ processed: 30, issued: 30, runs: 1 });

    const other = await approved(await customers(20, { email: false, push: false, web: true }));
    const run = await startByHand(other.id);
    const stored = await ctx.ledger.campaigns.fields(other.id);
    const outcome = await fireCampaign(
      ctx.ledger,
      other.id,
      'a-later-fire',
      Number(stored!['scheduleVersion']),
    );
    expect(outcome).toEqual({ kind: 'completed', run });
    expect((await read(other.id)).progress).toMatchObject({ processed: 20, issued: 20 });
  });

  it('offers a dead runner issued after the cancel walked are ended when its job runs again', async () => {
    const [id] = await customers(1, { email: false, push: false, web: true });
    const campaign = await approved([id!]);
    const run = await startByHand(campaign.id);
    // The cancel lands (its walk finds nothing yet); then the runner, which had read "running",
    // issues its page and dies before recording it.
    await ctx.ledger.campaigns.update(campaign.id, { action: 'cancel' }, 'test');
    const fields = (await ctx.ledger.campaigns.fields(campaign.id))!;
    const { offer } = await ctx.ledger.offers.issue(
      offerFor(campaign.id, parseCampaign(fields).definition, run, id!, Date.now()),
      'campaign',
    );
    expect(offer.state).toBe('active');
    // Its fire job runs again after the crash.
    await fireCampaign(ctx.ledger, campaign.id, 'by-hand', Number(fields['scheduleVersion']));
    expect(await ctx.ledger.offers.getOffer(offer.offerId)).toMatchObject({
      state: 'cancelled',
      endReason: 'campaign_cancelled',
    });
  });

  it('a schedule call whose queue step lands after a newer schedule puts the newer one back', async () => {
    const [id] = await customers(1, { email: false, push: false, web: true });
    const campaign = await approved([id!]);
    let raced = false;
    // Another schedule call's ledger step (a cron) lands between this call's ledger step and its
    // queue step, and that other call's own queue step is lost.
    const racing = hookCampaignUpdates(
      new Ledger(ctx.redis, { prefix: ctx.prefix, partitions: 16 }),
      async (next, ...args) => {
        const reply = await next(...args);
        if (args[1].action === 'schedule' && !raced) {
          raced = true;
          await next(
            args[0],
            {
              action: 'schedule',
              schedule: { kind: 'cron', cron: '0 9 1 1 *', timezone: 'UTC' },
              scheduleKind: 'cron',
            },
            'other',
          );
        }
        return reply;
      },
    );
    const campaigns = new Campaigns({ ledger: racing, queue: ctx.queues.campaigns });
    await campaigns.schedule(campaign.id, { at: new Date(Date.now() + 3_600_000).toISOString() }, 'test');
    const schedulers = await ctx.queues.campaigns.getJobSchedulers();
    expect(schedulers.map((scheduler) => [scheduler.key, scheduler.pattern])).toContainEqual([
      jobIds.campaignScheduler(campaign.id),
      '0 9 1 1 *',
    ]);
    await call('marketer', 'POST', `/v1/campaigns/${campaign.id}/cancel`, {});
  });

  it('refuses malformed campaigns and schedules with 400 and changes nothing', async () => {
    const [id] = await customers(1);
    const draft = await approved([id!]);
    const before = await ctx.snapshot();
    const bad: [string, unknown][] = [
      [
        '/v1/campaigns',
        definition([id!], { offer: { ...definition([]).offer, validUntil: '2027-01-01T00:00:00Z' } }),
      ],
      ['/v1/campaigns', definition([id!], { offer: { ...definition([]).offer, validFor: 'P1M' } })],
      ['/v1/campaigns', definition([id!, id!])],
      ['/v1/campaigns', { ...definition([id!]), extra: true }],
      ['/v1/campaigns', definition([id!], { channels: ['fax'] })],
      ['/v1/campaigns', definition([])],
      [`/v1/campaigns/${draft.id}/schedule`, { cron: 'every day' }],
      [`/v1/campaigns/${draft.id}/schedule`, { at: 'tomorrow' }],
      [`/v1/campaigns/${draft.id}/schedule`, { at: new Date().toISOString(), cron: '* * * * *' }],
      [`/v1/campaigns/${draft.id}/schedule`, { at: '2020-01-01T09:00:00Z' }],
    ];
    for (const [url, payload] of bad) {
      const reply = await call('marketer', 'POST', url, payload);
      expect(reply.statusCode, `${url} ${JSON.stringify(payload)}: ${reply.body}`).toBe(400);
      expect(reply.json()).toMatchObject({ error: { code: 'invalid_input' } });
    }
    expect(await ctx.snapshot()).toEqual(before);
    const ending = await approved([id!], {
      offer: {
        ...definition([]).offer,
        validFor: undefined,
        validUntil: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    const late = await call('marketer', 'POST', `/v1/campaigns/${ending.id}/schedule`, {
      at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(late.statusCode, late.body).toBe(400);
    expect(late.json<{ error: { message: string } }>().error.message).toContain('before the run');
    expect((await read(ending.id)).state).toBe('approved');
    const missing = await call('marketer', 'GET', '/v1/campaigns/cmp-01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(missing.statusCode).toBe(404);
  });
});
