import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { offerInput } from '../../support/ledger-context.ts';

let ctx: ApiContext;
beforeEach(async () => {
  ctx = await apiContext();
});
afterEach(async () => {
  await ctx.close();
});

/** How often Redis ran a command so far (commands run by scripts count too). */
async function calls(command: string): Promise<number> {
  const info = await ctx.redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

describe('the public offer page reads only the offer and the open ones', () => {
  it("an ended offer's page finds the slot's live offer without reading every offer the customer had", async () => {
    const now = await ctx.ledger.now();
    const ended: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { offer } = await ctx.ledger.offers.issue(offerInput('c-1', { title: `Old ${i}` }, now), 'm');
      await ctx.ledger.offers.cancel(offer.offerId, { reason: 'test', actor: 'm' });
      ended.push(offer.offerId);
    }
    const live = await ctx.ledger.offers.issue(offerInput('c-1', { title: 'Live one' }, now), 'm');

    const [hvals, hgetall] = [await calls('hvals'), await calls('hgetall')];
    const reply = await ctx.api.inject({
      method: 'GET',
      url: ctx.links.offerUrl(ended[0]!).replace('http://127.0.0.1:3000', ''),
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.body).toContain('Live one');
    expect(reply.body).toContain(live.offer.offerId);
    expect(await calls('hvals')).toBe(hvals);
    expect(await calls('hgetall')).toBe(hgetall);
  });
});
