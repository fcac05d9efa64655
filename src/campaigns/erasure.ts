import { ConcordError } from '../errors.ts';
import type { Ledger } from '../ledger/index.ts';
import { ERASED_MEMBER } from './definition.ts';

const PAGE = 200;
/** Rewrites lost to a concurrent erasure in the same campaign before giving up on it. */
const RETRIES = 20;

/**
 * Takes an erased customer out of every campaign: their place in each stored audience becomes a
 * tombstone (`ERASED_MEMBER`), which runs skip, and the outcomes recorded for them go. Answers
 * in how many audiences they were replaced. Safe to repeat, and beside a running campaign: a run
 * reads its audience again when it sees the campaign's `audienceErasures` count change.
 */
export async function eraseFromCampaigns(ledger: Ledger, customerId: string, actor: string): Promise<number> {
  let replaced = 0;
  for (let offset = 0; ; offset += PAGE) {
    const ids = await ledger.campaigns.ids(PAGE, offset);
    for (const campaignId of ids) {
      if (await eraseFromCampaign(ledger, campaignId, customerId, actor)) replaced++;
    }
    if (ids.length < PAGE) return replaced;
  }
}

async function eraseFromCampaign(
  ledger: Ledger,
  campaignId: string,
  customerId: string,
  actor: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const expected = (await ledger.campaigns.fields(campaignId))?.['definition'];
    if (expected === undefined) return false;
    const definition = withoutMember(expected, customerId);
    const result = await ledger.campaigns.eraseMember(campaignId, customerId, {
      actor,
      ...(definition === undefined ? {} : { change: { expected, definition } }),
    });
    if (result.result !== 'changed') return result.replaced;
  }
  throw new ConcordError('internal', `campaign ${campaignId} kept changing during an erasure`);
}

/** The stored definition text with the customer's place tombstoned, or undefined if absent. */
function withoutMember(text: string, customerId: string): string | undefined {
  const definition = JSON.parse(text) as { audience?: { customerIds?: unknown } };
  const ids = definition.audience?.customerIds;
  if (!Array.isArray(ids) || !ids.includes(customerId)) return undefined;
  definition.audience = {
    ...definition.audience,
    customerIds: ids.map((id) => (id === customerId ? ERASED_MEMBER : id) as unknown),
  };
  return JSON.stringify(definition);
}
