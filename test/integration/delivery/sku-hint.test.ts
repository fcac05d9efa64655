import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../../src/delivery/deliver.ts';
import { createLinkSigner } from '../../../src/delivery/links.ts';
import { deliverProcessor } from '../../../workers/deliver.ts';
import { ledgerContext, offerInput, type LedgerContext } from '../../support/ledger-context.ts';
import { SIGNING_SECRET } from '../../support/pipeline.ts';

let ctx: LedgerContext;
beforeEach(() => {
  ctx = ledgerContext();
});
afterEach(async () => {
  await ctx.cleanup();
});

/** Runs one delivery job through the processor, with no channel (the claim is what is watched). */
async function runJob(data: Record<string, string>): Promise<void> {
  const process = deliverProcessor({
    ledger: ctx.ledger,
    channels: {},
    links: createLinkSigner({ publicUrl: 'http://127.0.0.1:3999', secrets: [SIGNING_SECRET] }),
    policy: { email: { leaseMs: 10_000, minRemainingMs: 0 }, push: { leaseMs: 10_000, minRemainingMs: 0 } },
  });
  await process({ data, attemptsMade: 0, opts: { attempts: 1 } } as unknown as Job<unknown, DeliveryOutcome>);
}

const claims = () => ctx.calls.filter((call) => call.script.name === 'claimDelivery').length;

describe("a delivery job's SKU", () => {
  it('lets the claim read the stock first: one claim script instead of two', async () => {
    const hinted = await ctx.ledger.offers.issue(offerInput('c-1', { channels: ['push'] }), 'm');
    await runJob({ offerId: hinted.offer.offerId, channel: 'push', customerId: 'c-1', sku: 'SHOE-42' });
    expect(claims()).toBe(1);

    const unhinted = await ctx.ledger.offers.issue(offerInput('c-2', { channels: ['push'] }), 'm');
    await runJob({ offerId: unhinted.offer.offerId, channel: 'push', customerId: 'c-2' });
    // Without the hint the claim names the SKU it needs and is asked again.
    expect(claims()).toBe(3);
  });
});
