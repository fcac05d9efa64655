import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GUARDRAILS_OFF } from '../../../src/config/guardrails.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { redisUrl } from '../../support/ledger-context.ts';
import { freePort } from '../../support/redis-server.ts';
import { deletePrefix, killAll, runCli, uniquePrefix } from './cli-process.ts';

interface OfferJson {
  offerId: string;
  customerId: string;
  state: string;
  title: string;
  discount: unknown;
  validFrom: string;
  validUntil: string;
  priority: number;
  deliveries: Record<string, { state: string; reason?: string }>;
}

const DAY = 86_400_000;
let prefix: string;
let env: Record<string, string>;
let redis: Redis;
let ledger: Ledger;

/** A one-shot command whose success is part of the test's setup. */
async function ok(...args: string[]): Promise<string> {
  const result = await runCli(args, env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

async function okJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

beforeAll(() => {
  redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(() => {
  redis.disconnect();
});

beforeEach(() => {
  prefix = uniquePrefix();
  env = { REDIS_URL: redisUrl(), CONCORD_PREFIX: prefix };
  ledger = new Ledger(redis, { prefix, partitions: 16 });
});

afterEach(async () => {
  await killAll();
  await deletePrefix(redisUrl(), prefix);
});

describe('concord offer', () => {
  it('issues, shows and cancels an offer (--json), on the same ledger the API reads', async () => {
    await ok('customer', 'upsert', 'c-1', '--email', 'c1@example.com', '--consent', 'email,web');
    const issued = await okJson<{ offer: OfferJson; superseded: string[] }>(
      'offer',
      'issue',
      '--customer',
      'c-1',
      '--title',
      '20% off running shoes',
      '--percent',
      '20',
      '--channels',
      'email,web',
      '--valid-for',
      'P7D',
      '--priority',
      '10',
      '--sku',
      'SHOE-42',
    );
    expect(issued.superseded).toEqual([]);
    expect(issued.offer).toMatchObject({
      customerId: 'c-1',
      state: 'active',
      title: '20% off running shoes',
      discount: { kind: 'percent', value: 20 },
      priority: 10,
    });
    expect(Date.parse(issued.offer.validUntil) - Date.parse(issued.offer.validFrom)).toBe(7 * 86_400_000);
    const id = issued.offer.offerId;
    expect((await ledger.offers.getOffer(id))?.state).toBe('active');

    const shown = await okJson<OfferJson>('offer', 'show', id);
    expect(shown).toMatchObject({ offerId: id, state: 'active' });
    expect(Object.keys(shown.deliveries).sort()).toEqual(['email', 'web']);

    const cancelled = await okJson<{ offer: OfferJson; changed: boolean }>(
      'offer',
      'cancel',
      id,
      '--reason',
      'wrong price',
    );
    expect(cancelled.changed).toBe(true);
    expect(cancelled.offer.state).toBe('cancelled');
    expect(cancelled.offer.deliveries['email']?.state).toBe('cancelled');
    const stored = await ledger.offers.getOffer(id);
    expect(stored).toMatchObject({ state: 'cancelled', endReason: 'wrong price' });
    // The history names who did it: the command line and the OS user.
    const entry = (await ledger.customers.history('c-1')).find((line) => line.action === 'cancelled');
    expect(entry?.actor).toMatch(/^cli:/);
  });

  it('prints an offer as aligned columns for people', async () => {
    const { offer } = await okJson<{ offer: OfferJson }>(
      'offer',
      'issue',
      '--customer',
      'c-2',
      '--title',
      'Five off',
      '--amount',
      '5',
      '--currency',
      'EUR',
      '--valid-until',
      new Date(Date.now() + 3_600_000).toISOString(),
    );
    const text = await ok('offer', 'show', offer.offerId);
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain(`offer:     ${offer.offerId}`);
    expect(lines).toContain('discount:  €5.00 off');
    const header = lines.findIndex((line) => line.startsWith('CHANNEL'));
    expect(header).toBeGreaterThan(0);
    const headerLine = lines[header]!;
    const rows = lines.slice(header + 1);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(['email', 'push', 'web']);
    // Every row's STATE and ATTEMPTS cells start under their headings.
    for (const column of ['STATE', 'ATTEMPTS']) {
      const at = headerLine.indexOf(column);
      for (const row of rows) {
        expect(row[at - 1]).toBe(' ');
        expect(row[at]).not.toBe(' ');
      }
    }
  });

  it('refuses an offer the slot policy rejects, in one line', async () => {
    const args = [
      'offer',
      'issue',
      '--customer',
      'c-3',
      '--title',
      'A',
      '--free-shipping',
      '--valid-for',
      'PT1H',
    ];
    await ok(...args);
    const result = await runCli([...args, '--policy', 'reject'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^concord: slot promo already has a live offer \(o\d+-\w+\)\n$/);
  });
});

describe('concord campaign', () => {
  it('creates, previews, approves (not by its author), schedules, shows and cancels a campaign', async () => {
    await ok('customer', 'upsert', 'cc-1', '--email', 'cc1@example.com', '--consent', 'email,web');
    const file = join(await mkdtemp(join(tmpdir(), 'concord-cli-')), 'campaign.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'Winter running',
        offer: {
          title: '15% off trail shoes',
          code: 'TRAIL15',
          discount: { kind: 'percent', value: 15 },
          validFor: 'P7D',
        },
        channels: ['email', 'web'],
        audience: { customerIds: ['cc-1', 'cc-2'] },
        priority: 5,
      }),
    );
    const author = { ...env, CONCORD_ACTOR: 'ana' };
    const created = await runCli(['campaign', 'create', file, '--json'], author);
    expect(created.stderr).toBe('');
    const { campaign } = JSON.parse(created.stdout) as {
      campaign: { id: string; state: string; author: string };
    };
    expect(campaign).toMatchObject({ state: 'draft', author: 'cli:ana' });

    const preview = await runCli(['campaign', 'preview', campaign.id], author);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/audience:\s+2/);
    expect(preview.stdout).toMatch(/no profile:\s+1/);
    expect(preview.stdout).toContain('email subject: 15% off trail shoes');

    const own = await runCli(['campaign', 'approve', campaign.id], author);
    expect(own.code).toBe(1);
    expect(own.stderr).toBe('concord: a campaign must be approved by someone other than its author\n');

    const reviewer = { ...env, CONCORD_ACTOR: 'bo' };
    const approved = await runCli(['campaign', 'approve', campaign.id, '--note', 'checked'], reviewer);
    expect(approved.stdout).toMatch(/approved by:\s+cli:bo/);
    const at = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const scheduled = await runCli(['campaign', 'schedule', campaign.id, '--at', at], author);
    expect(scheduled.stdout, scheduled.stderr).toContain(`once at ${at}`);
    const listed = await runCli(['campaign', 'list'], author);
    expect(listed.stdout).toMatch(new RegExp(`${campaign.id}\\s+scheduled\\s+2\\s+0\\s+0\\s+Winter running`));

    const cancelled = await runCli(['campaign', 'cancel', campaign.id, '--reason', 'wrong season'], reviewer);
    expect(cancelled.stdout).toMatch(/state:\s+cancelled/);
    expect(cancelled.stdout).toMatch(/end reason:\s+wrong season/);
  });

  it('a bad campaign file is one line naming the file and the field, exit 2', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'concord-cli-')), 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'x',
        offer: { title: 'x' },
        channels: ['web'],
        audience: { customerIds: ['a'] },
      }),
    );
    const result = await runCli(['campaign', 'create', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(`^concord: ${file.replaceAll('/', '\\/')}: offer\\.discount: .+\\n$`),
    );
  });
});

describe('concord customer', () => {
  it('upserts a profile, shows it, and reads its history in plain words', async () => {
    const changed = await ok(
      'customer',
      'upsert',
      'c-10',
      '--email',
      'ten@example.com',
      '--timezone',
      'Europe/Paris',
      '--locale',
      'fr-FR',
      '--name',
      'Dix',
      '--push-endpoint',
      'https://push.example.com/d/10',
      '--consent',
      'email,push,web',
    );
    expect(changed).toMatch(/^c-10: updated /);
    await ok('customer', 'upsert', 'c-10', '--revoke', 'push');

    const profile = await okJson<{
      customerId: string;
      email: string;
      timezone: string;
      consent: Record<string, { granted: boolean; source: string }>;
    }>('customer', 'show', 'c-10');
    expect(profile).toMatchObject({ customerId: 'c-10', email: 'ten@example.com', timezone: 'Europe/Paris' });
    expect(profile.consent['email']?.granted).toBe(true);
    expect(profile.consent['push']?.granted).toBe(false);
    expect(profile.consent['push']?.source).toMatch(/^cli:/);

    const table = await ok('customer', 'show', 'c-10');
    expect(table).toMatch(/^push\s+revoked\s+\S+Z\s+cli:/m);

    await ok(
      'offer',
      'issue',
      '--customer',
      'c-10',
      '--title',
      'Hello',
      '--percent',
      '10',
      '--valid-for',
      'P1D',
    );
    const history = await ok('customer', 'history', 'c-10');
    expect(history.split('\n')[0]).toMatch(/^AT\s+OFFER\s+CHANNEL\s+WHAT$/);
    expect(history).toMatch(/^\S+Z\s+email\s+.*consent granted/m);
    expect(history).toMatch(/^\S+Z\s+push\s+.*consent revoked/m);
    expect(history).toMatch(/offer o\d+-\w+ issued for slot promo/);
    // No push consent: a worker's claim is refused, and the history says why in plain words.
    const [offer] = await ledger.offers.customerOffers('c-10');
    const claim = await ledger.deliveries.claim({
      offerId: offer!.offerId,
      channel: 'push',
      leaseMs: 60_000,
    });
    expect(claim).toMatchObject({ answer: 'skip', reason: 'no_consent' });
    const { timeline } = await okJson<{ timeline: { at: string; text: string; channel?: string }[] }>(
      'customer',
      'history',
      'c-10',
    );
    expect(timeline.filter((line) => line.channel === 'push').map((line) => line.text)).toContainEqual(
      expect.stringMatching(/skipped: no consent for this channel$/),
    );
    // Newest first, as the API pages it.
    expect(timeline.every((line, i) => i === 0 || line.at <= timeline[i - 1]!.at)).toBe(true);
  });

  it('says in the history why an offer was not issued and why its push waits', async () => {
    await ok(
      'customer',
      'upsert',
      'c-12',
      '--email',
      'twelve@example.com',
      '--timezone',
      'Asia/Tokyo',
      '--push-endpoint',
      'https://push.example.com/d/12',
      '--consent',
      'email,push,web',
    );
    const now = await ledger.now();
    await ledger.signals.recordEvent({
      type: 'return',
      eventId: 'return-c-12',
      source: 'orders',
      at: now - DAY,
      customerId: 'c-12',
      sku: 'SKU-R',
    });
    const offer = ['offer', 'issue', '--customer', 'c-12', '--title', 'Again', '--percent', '10'];
    // The deployment's default return block (30 days) refuses it.
    const refused = await runCli([...offer, '--valid-for', 'P1D', '--sku', 'SKU-R'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('recently_returned');
    await ok(...offer, '--valid-for', 'P1D');

    // Quiet hours from an hour before to an hour after now in Tokyo (UTC+9, no DST).
    const minute = Math.floor(((now + 9 * 3_600_000) % DAY) / 60_000);
    const quietHours = { startMin: (minute + 1380) % 1440, endMin: (minute + 60) % 1440 };
    const quiet = new Ledger(redis, {
      prefix,
      partitions: 16,
      limits: { guardrails: { ...GUARDRAILS_OFF, quietHours } },
    });
    const [issued] = await quiet.offers.customerOffers('c-12');
    expect(
      await quiet.deliveries.claim({ offerId: issued!.offerId, channel: 'push', leaseMs: 60_000 }),
    ).toMatchObject({ answer: 'hold', reason: 'quiet_hours' });

    const history = await ok('customer', 'history', 'c-12');
    expect(history).toMatch(/^\S+Z\s+not offered: returned this product on \d{1,2} [A-Z][a-z]{2}( \d{4})?$/m);
    expect(history).toMatch(
      /push of offer o\d+-\w+: held: quiet hours in Asia\/Tokyo until \d\d:\d\d( on .+)?$/m,
    );
  });

  it('erases a customer', async () => {
    await ok('customer', 'upsert', 'c-11', '--email', 'eleven@example.com');
    expect(await ok('customer', 'erase', 'c-11')).toBe('erased: 0 offers, 0 campaign audiences, 0 jobs\n');
    expect(await ok('customer', 'erase', 'c-11')).toBe('nothing to erase\n');
    expect(await ledger.customers.getProfile('c-11')).toBeUndefined();
    const shown = await runCli(['customer', 'show', 'c-11'], env);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toBe('concord: no customer c-11\n');
  });
});

describe('concord deliveries', () => {
  it('lists deliveries of unknown outcome and resolves one', async () => {
    await ledger.customers.upsertProfile(
      'c-20',
      { email: 'twenty@example.com', consent: { email: true } },
      {
        actor: 'test',
        source: 'test',
      },
    );
    const { offer } = await ledger.offers.issue(
      {
        customerId: 'c-20',
        title: 'Lost in the mail',
        discount: { kind: 'percent', value: 5 },
        channels: ['email'],
        validUntil: Date.now() + 3_600_000,
      },
      'test',
    );
    expect(await ok('deliveries', 'unknown')).toBe('no deliveries of unknown outcome\n');
    const claim = await ledger.deliveries.claim({
      offerId: offer.offerId,
      channel: 'email',
      leaseMs: 60_000,
    });
    if (claim.answer !== 'go') throw new Error(`claim answered ${claim.answer}`);
    await ledger.deliveries.confirm({
      offerId: offer.offerId,
      channel: 'email',
      token: claim.token,
      outcome: 'unknown',
      reason: 'connection_lost_after_data',
    });

    const listed = await okJson<{ deliveries: { offerId: string; customerId: string; channel: string }[] }>(
      'deliveries',
      'unknown',
    );
    expect(listed.deliveries).toEqual([
      expect.objectContaining({ offerId: offer.offerId, customerId: 'c-20', channel: 'email' }),
    ]);
    const table = await ok('deliveries', 'unknown');
    expect(table).toMatch(/^SINCE\s+CUSTOMER\s+OFFER\s+CHANNEL\n/);
    expect(table).toMatch(new RegExp(`Z\\s+c-20\\s+${offer.offerId}\\s+email\\n$`));

    const resolved = await ok('deliveries', 'resolve', offer.offerId, 'email', '--as', 'sent');
    expect(resolved).toContain('delivery is sent');
    expect((await ledger.offers.getOffer(offer.offerId))?.deliveries.email?.state).toBe('sent');
    expect(await okJson<{ deliveries: unknown[] }>('deliveries', 'unknown')).toEqual({ deliveries: [] });
  });
});

describe('mistakes', () => {
  const oneLine = (text: string) => {
    expect(text).toMatch(/^concord: [^\n]+\n$/);
  };

  it('a bad flag value is one line on stderr and exit 2', async () => {
    const result = await runCli(
      ['offer', 'issue', '--customer', 'c-1', '--title', 'x', '--percent', 'abc', '--valid-for', 'P1D'],
      env,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    oneLine(result.stderr);
    expect(result.stderr).toContain('--percent');
  });

  it('an unknown option is one line and exit 2', async () => {
    const result = await runCli(['customer', 'show', 'c-1', '--colour'], env);
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain("unknown option '--colour'");
  });

  it('a missing choice of discount is one line and exit 2', async () => {
    const result = await runCli(
      ['offer', 'issue', '--customer', 'c-1', '--title', 'x', '--valid-for', 'P1D'],
      env,
    );
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain('--percent');
  });

  it('a bad environment variable is one line naming it, exit 1', async () => {
    const result = await runCli(['deliveries', 'unknown'], { ...env, CONCORD_PARTITIONS: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    oneLine(result.stderr);
    expect(result.stderr).toMatch(/^concord: CONCORD_PARTITIONS: /);
  });

  it('a Redis that does not answer is one line, exit 1', async () => {
    const port = await freePort();
    const result = await runCli(['customer', 'show', 'c-1'], {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(1);
    oneLine(result.stderr);
    expect(result.stderr).toContain(`127.0.0.1:${port} does not answer`);
  });

  it('serve without keys is one line naming the variable', async () => {
    const result = await runCli(['serve'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('concord: CONCORD_API_KEYS: required, but not set\n');
  });
});
