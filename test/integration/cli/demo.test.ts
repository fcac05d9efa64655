import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl } from '../../support/ledger-context.ts';
import { freePort, waitFor } from '../../support/redis-server.ts';
import { deletePrefix, killAll, pidAlive, spawnCli, uniquePrefix, type CliProcess } from './cli-process.ts';

interface Captured {
  messages: { channel: string; to: string; offerId?: string; subject?: string }[];
}

const prefixes: string[] = [];
const redisPids: number[] = [];

afterEach(async () => {
  await killAll();
  // A private redis-server the demo could not stop (the test failed before SIGINT) goes too.
  for (const pid of redisPids.splice(0)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const prefix of prefixes.splice(0)) await deletePrefix(redisUrl(), prefix);
});

async function healthy(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

/** SIGINT, then the exit code, which must come within `withinMs`. */
async function interrupt(demo: CliProcess, withinMs: number): Promise<number | null> {
  const started = Date.now();
  demo.kill('SIGINT');
  const code = await demo.exited;
  expect(Date.now() - started).toBeLessThan(withinMs);
  return code;
}

describe('concord demo', () => {
  it('answers on /healthz, captures the sample emails for the admin, and stops on SIGINT', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const port = await freePort();
    // The sample customers live in zones around the world: under the default quiet hours, whether
    // their emails go now would depend on the hour. Nor is this test about the caps.
    const demo = spawnCli(['demo'], {
      REDIS_URL: redisUrl(),
      PORT: String(port),
      CONCORD_PREFIX: prefix,
      CONCORD_QUIET_HOURS: 'off',
      CONCORD_CAPS: 'off',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => healthy(base), 30_000, 'GET /healthz 200');
    await demo.waitForOutput(/concord demo: ready/);
    const out = demo.stdout();
    expect(out).toContain(`Redis          ${redisUrl()} (REDIS_URL)`);
    expect(out).toContain(`http://localhost:${port}/admin/captured`);
    expect(out).toMatch(/\/v1\/banner\?customer=c-1001&slot=promo&token=[\w-]+/);
    const admin = /^\s+admin\s+(\S+)$/m.exec(out)?.[1];
    expect(admin).toBeDefined();

    let captured: Captured = { messages: [] };
    await waitFor(
      async () => {
        const response = await fetch(`${base}/admin/captured?channel=email`, {
          headers: { authorization: `Bearer ${admin ?? ''}` },
        });
        expect(response.status).toBe(200);
        captured = (await response.json()) as Captured;
        return captured.messages.some((message) => message.to === 'ada@example.com');
      },
      30_000,
      "the sample offer's email to ada@example.com",
    );
    const offerId = /c-1001\s+\S+\s+(o\d+-\w+)\s+20% off running shoes/.exec(out)?.[1];
    const email = captured.messages.find((message) => message.to === 'ada@example.com');
    expect(email).toMatchObject({ channel: 'email', offerId });
    expect(email?.subject).toContain('20% off running shoes');

    // The printed banner URL is signed with the printed secret: the browser endpoint accepts it.
    const banner = /Banner\s+(\S+)/.exec(out)?.[1] ?? '';
    const live = await fetch(banner.replace(`http://localhost:${port}`, base));
    expect(live.status).toBe(200);

    // The sample campaign walks the marketer's path: preview, approval by another key, run.
    const campaignId = /Sample campaign (cmp-\w+)/.exec(out)?.[1];
    const marketer = /^\s+marketer\s+(\S+)$/m.exec(out)?.[1];
    expect(campaignId).toBeDefined();
    const post = (key: string | undefined, path: string) =>
      fetch(`${base}/v1/campaigns/${campaignId ?? ''}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key ?? ''}`, 'content-type': 'application/json' },
        body: '{}',
      });
    expect((await post(marketer, '/preview')).status).toBe(200);
    expect((await post(admin, '/approve')).status).toBe(200);
    expect((await post(marketer, '/schedule')).status).toBe(200);
    await waitFor(
      async () => {
        const response = await fetch(`${base}/admin/captured?channel=email`, {
          headers: { authorization: `Bearer ${admin ?? ''}` },
        });
        const inbox = (await response.json()) as { messages: { subject?: string }[] };
        return inbox.messages.some((message) => message.subject?.includes('15% off trail shoes'));
      },
      30_000,
      "the sample campaign's first email",
    );

    // Without the key, the inbox stays closed.
    expect((await fetch(`${base}/admin/captured`)).status).toBe(401);

    expect(await interrupt(demo, 10_000)).toBe(0);
    expect(demo.stdout()).toContain('concord demo: stopped');
    expect(await healthy(base)).toBe(false);
  });

  it('starts a private redis-server when told to, and stops it on SIGINT', async () => {
    const port = await freePort();
    // No REDIS_URL: with --private-redis the demo must not use a server at 127.0.0.1:6379.
    const demo = spawnCli(['demo', '--private-redis', '--no-seed'], { PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    const [, url, pid, dir] = await demo.waitForOutput(
      /Redis\s+(redis:\/\/127\.0\.0\.1:\d+), a private redis-server \(pid (\d+), dir ([^)]+)\)/,
    );
    redisPids.push(Number(pid));
    expect(url).not.toBe('redis://127.0.0.1:6379');
    await waitFor(() => healthy(base), 30_000, 'GET /healthz 200');
    expect(pidAlive(Number(pid))).toBe(true);
    expect(existsSync(dir!)).toBe(true);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);

    expect(await interrupt(demo, 10_000)).toBe(0);
    expect(pidAlive(Number(pid))).toBe(false);
    expect(existsSync(dir!)).toBe(false);
    expect(demo.stderr()).toBe('');
  });

  it('says in one line when REDIS_URL does not answer', async () => {
    const port = await freePort();
    const demo = spawnCli(['demo'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      PORT: String(await freePort()),
    });
    expect(await demo.exited).toBe(1);
    expect(demo.stderr()).toMatch(
      /^concord: REDIS_URL: Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer[^\n]*\n$/,
    );
  });
});
