import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';

let ctx: ApiContext;
let offerId = '';
beforeAll(async () => {
  ctx = await apiContext();
  await ctx.ledger.customers.upsertProfile(
    'c-page',
    { email: 'page@example.com', consent: { email: true, web: true } },
    { actor: 't', source: 't' },
  );
  offerId = (await ctx.ledger.offers.issue(offerInput('c-page'), 'test')).offer.offerId;
});
afterAll(async () => {
  await ctx.close();
});

/** The path and query of a signed link, as a browser would request it. */
const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

describe('the unsubscribe form', () => {
  it('posts to a relative URL built from the validated parameters, never the request-target', async () => {
    const path = pathOf(ctx.links.unsubscribeUrl('c-page', 'email'));
    // An absolute request-target (as a proxy may forward it) names a foreign host.
    const reply = await ctx.api.inject({ method: 'GET', url: `http://evil.example${path}&x=1` });
    expect(reply.statusCode, reply.body).toBe(400);
    const page = await ctx.api.inject({ method: 'GET', url: `http://evil.example${path}` });
    expect(page.statusCode, page.body).toBe(200);
    const action = /<form method="post" action="([^"]*)"/.exec(page.body)?.[1] ?? '';
    expect(action).not.toContain('evil.example');
    expect(action.startsWith('unsubscribe?')).toBe(true);
    const target = new URL(
      action.replaceAll('&amp;', '&').replaceAll('&#x3D;', '='),
      'http://concord.test/v1/unsubscribe',
    );
    expect(target.pathname).toBe('/v1/unsubscribe');
    expect(Object.fromEntries(target.searchParams)).toEqual(
      Object.fromEntries(new URL(ctx.links.unsubscribeUrl('c-page', 'email')).searchParams),
    );
  });

  it('over a real socket, an absolute-form request-target puts no foreign host in the form', async () => {
    const own = await apiContext();
    try {
      const address = new URL(await own.api.listen({ port: 0, host: '127.0.0.1' }));
      const path = pathOf(own.links.unsubscribeUrl('c-page', 'email'));
      const answer = await rawGet(Number(address.port), `http://evil.example${path}`);
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      const action = /<form method="post" action="([^"]*)"/.exec(answer)?.[1] ?? '';
      expect(action, answer.slice(0, 2000)).not.toContain('evil.example');
      expect(action).toMatch(/^unsubscribe\?/);
    } finally {
      await own.close();
    }
  });
});

/** Sends one GET with the request-target exactly as given (fetch would normalise it) and reads the answer. */
function rawGet(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', reject);
  });
}

describe('HTML pages', () => {
  const pages = () => [
    { name: 'offer page', url: pathOf(ctx.links.offerUrl(offerId)), status: 200 },
    { name: 'unsubscribe page', url: pathOf(ctx.links.unsubscribeUrl('c-page', 'push')), status: 200 },
    { name: 'bad link page', url: `/o/${offerId}?sig=forged`, status: 401 },
  ];
  it('send a CSP without inline script, no framing, no referrer, no sniffing, no caching', async () => {
    for (const page of [
      ...pages().map((p) => ({ ...p, method: 'GET' as const })),
      {
        name: 'unsubscribed page',
        url: pathOf(ctx.links.unsubscribeUrl('c-page', 'push')),
        status: 200,
        method: 'POST' as const,
      },
    ]) {
      const reply = await ctx.api.inject({ method: page.method, url: page.url });
      expect(reply.statusCode, page.name).toBe(page.status);
      expect(String(reply.headers['content-type']), page.name).toContain('text/html');
      const csp = String(reply.headers['content-security-policy']);
      expect(csp, page.name).toContain("default-src 'none'");
      expect(csp, page.name).toContain("frame-ancestors 'none'");
      expect(csp, page.name).not.toContain('unsafe-inline');
      expect(csp, page.name).not.toContain('script-src');
      expect(reply.headers['x-frame-options'], page.name).toBe('DENY');
      expect(reply.headers['referrer-policy'], page.name).toBe('no-referrer');
      expect(reply.headers['x-content-type-options'], page.name).toBe('nosniff');
      expect(reply.headers['cache-control'], page.name).toBe('no-store');
      // The page's styles are allowed by hash: every <style> block's hash is in the policy, and
      // no element carries a style attribute (a hash does not cover those).
      expect(reply.body, page.name).not.toMatch(/\sstyle="/);
      expect(reply.body, page.name).not.toMatch(/<script/i);
      for (const [, css] of reply.body.matchAll(/<style>([\s\S]*?)<\/style>/g)) {
        const hash = createHash('sha256')
          .update(css ?? '')
          .digest('base64');
        expect(csp, page.name).toContain(`'sha256-${hash}'`);
      }
    }
  });
});
