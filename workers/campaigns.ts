import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import { endCampaignOffers, fireCampaign, runCampaign } from '../src/campaigns/run.ts';
import { isConcordError } from '../src/errors.ts';
import type { Ledger } from '../src/ledger/index.ts';
import { campaignJobSchema } from '../src/queue/payloads.ts';

/**
 * A campaign's schedule fired, or a resumed run goes on: issue its offers page by page; or a
 * cancelled campaign's open offers end.
 */
export function campaignProcessor(ledger: Ledger): Processor<unknown, unknown> {
  return async (job: Job) => {
    const payload = campaignJobSchema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`malformed campaign job: ${payload.error.message}`);
    const { data } = payload;
    try {
      switch (data.kind) {
        case 'fire':
          return await fireCampaign(ledger, data.campaignId, job.id ?? job.name, data.scheduleVersion);
        case 'continue':
          return await runCampaign(ledger, data.campaignId, data.run);
        case 'end':
          return { ended: await endCampaignOffers(ledger, data.campaignId) };
      }
    } catch (error) {
      // A campaign deleted under its job has nothing left to run; anything else is retried.
      if (isConcordError(error, 'not_found')) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}
