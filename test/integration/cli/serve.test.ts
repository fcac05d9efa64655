import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl } from '../../support/ledger-context.ts';
import { startPushSink, type PushSink } from '../../support/push-sink.ts';
import { freePort, waitFor } from '../../support/redis-server.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { deletePrefix, killAll, runCli, spawnCli, uniquePrefix } from './cli-process.ts';

const SUPPORT_KEY = 'support-key-0123456789abcdef';
const prefixes: string[] = [];
const sinks: (SmtpSink | PushSink)[] = [];

afterEach(async () => {
  await killAll();
  await Promise.all(sinks.splice(0).map((sink) => sink.close()));
  for (const prefix of prefixes.splice(0)) await deletePrefix(redisUrl(), prefix);
});

function deployment(port: number, extra: Record<string, string> = {}): Record<string, string> {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return {
    REDIS_URL: redisUrl(),
    CONCORD_PREFIX: prefix,
    PORT: String(port),
    CONCORD_API_KEYS: `support:${SUPPORT_KEY},admin:admin-key-0123456789abcdef`,
    CONCORD_SIGNING_SECRET: 'a-signing-secret-of-at-least-32-characters',
    ...extra,
  };
}

describe('concord serve / all', () => {
  it('serve answers with what the command line wrote, and stops on SIGTERM', async () => {
    const port = await freePort();
    const env = deployment(port);
    const serve = spawnCli(['serve', '--log-level', 'silent'], env);
    await serve.waitForOutput(
      new RegExp(`^concord serve: API listening on http://127\\.0\\.0\\.1:${port}\\n$`),
    );
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const upsert = await runCli(['customer', 'upsert', 'c-1', '--email', 'one@example.com'], env);
    expect(upsert.code).toBe(0);
    const response = await fetch(`${base}/v1/customers/c-1`, {
      headers: { authorization: `Bearer ${SUPPORT_KEY}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ customerId: 'c-1', email: 'one@example.com' });

    serve.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.stderr()).toBe('');
  });

  it('with ADMIN_PORT, operator pages leave PORT for the admin listener', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const env = deployment(port, { ADMIN_PORT: String(adminPort) });
    const serve = spawnCli(['serve', '--log-level', 'silent'], env);
    await serve.waitForOutput(/admin listener on http:\/\/127\.0\.0\.1:\d+\n$/);
    const base = `http://127.0.0.1:${port}`;
    const admin = `http://127.0.0.1:${adminPort}`;
    const withKey = { headers: { authorization: 'Bearer admin-key-0123456789abcdef' } };
    for (const path of ['/metrics', '/docs', '/admin/queues']) {
      expect((await fetch(`${base}${path}`, withKey)).status, `${path} on PORT`).toBe(404);
      expect((await fetch(`${admin}${path}`)).status, `${path} on ADMIN_PORT`).toBe(200);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    serve.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });

  it('all sends an offer issued on the command line, through real SMTP and HTTP push', async () => {
    const smtp = await startSmtpSink();
    const push = await startPushSink();
    sinks.push(smtp, push);
    const port = await freePort();
    const env = deployment(port, { SMTP_URL: smtp.url, PUSH_URL: push.url });
    const all = spawnCli(['all', '--log-level', 'silent', '--concurrency', '4'], env);
    await all.waitForOutput(
      /^concord all: API listening on \S+; workers ready \(email, push, retract, timers, campaigns\)$/m,
    );

    const cli = async (...args: string[]) => {
      const result = await runCli(args, env);
      expect(result.stderr).toBe('');
      return result.stdout;
    };
    await cli(
      'customer',
      'upsert',
      'c-2',
      '--email',
      'two@example.com',
      '--push-endpoint',
      'device-2',
      '--consent',
      'email,push,web',
    );
    const { offer } = JSON.parse(
      await cli(
        'offer',
        'issue',
        '--customer',
        'c-2',
        '--title',
        'Ten off',
        '--percent',
        '10',
        '--valid-for',
        'P1D',
        '--json',
      ),
    ) as { offer: { offerId: string } };

    const [email] = await smtp.waitForMessages(1, 20_000);
    expect(email?.headers['x-concord-offer']).toBe(offer.offerId);
    const [request] = await push.waitForRequests(1, 20_000);
    expect(request?.json).toMatchObject({ to: 'device-2', offerId: offer.offerId, kind: 'offer' });
    await waitFor(
      async () => (await cli('offer', 'show', offer.offerId)).match(/^(email|push)\s+sent\b/gm)?.length === 2,
      20_000,
      'both deliveries sent',
    );

    all.kill('SIGINT');
    expect(await all.exited).toBe(0);
  });
});
