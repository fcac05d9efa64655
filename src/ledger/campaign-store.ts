import { createHash } from 'node:crypto';
import { throwIfScriptError } from './errors.ts';
import { parseInput, type ScriptRunner } from './runner.ts';
import type { CampaignAction } from './script-table.ts';
import { type CampaignReply } from './replies.ts';
import { campaignIdSchema, storedCustomerIdSchema } from './schemas.ts';

/**
 * Campaigns as the ledger stores them: the state machine, run cursor and counters changed by
 * one script each, the per-customer outcomes, and the index of campaigns.
 */
export class CampaignStore {
  constructor(private readonly runner: ScriptRunner) {}

  /**
   * Changes a campaign in one atomic step (its state machine, run cursor and counters); throws
   * `conflict` for a change its state does not allow, `forbidden` for an approval by its author,
   * `not_found` for an unknown campaign. A created campaign is then listed in the index.
   */
  async update(campaignId: string, change: CampaignAction, actor: string): Promise<CampaignReply> {
    const id = parseInput(campaignIdSchema, campaignId);
    const reply = await this.runner.run('updateCampaign', id, { ...change, campaignId: id, actor });
    throwIfScriptError(reply);
    if (change.action === 'create') {
      // The index is deployment-wide, under another hash tag than the campaign's own keys, so it
      // cannot be written by the same script on a cluster.
      await this.runner.run('indexCampaign', undefined, { campaignId: id, at: reply.now });
    }
    return reply;
  }

  /**
   * Takes an erased customer out of a campaign: deletes the outcomes recorded for them and, when
   * `change` is given, stores `change.definition` (the audience with their place tombstoned) in
   * place of the definition whose text was `change.expected`. Answers `changed` when the stored
   * definition is no longer that text (read it again and retry), `not_found` for no campaign.
   */
  async eraseMember(
    campaignId: string,
    customerId: string,
    options: { actor: string; change?: { expected: string; definition: string } },
  ): Promise<{ result: 'ok' | 'changed' | 'not_found'; replaced: boolean; outcomes: number }> {
    const id = parseInput(campaignIdSchema, campaignId);
    const customer = parseInput(storedCustomerIdSchema, customerId);
    const { change } = options;
    return this.runner.run('eraseCampaignMember', id, {
      actor: options.actor,
      customerId: customer,
      ...(change === undefined
        ? {}
        : {
            expected: createHash('sha1').update(change.expected).digest('hex'),
            definition: change.definition,
          }),
    });
  }

  /** One stored field of a campaign, or undefined. */
  async field(campaignId: string, field: string): Promise<string | undefined> {
    const [key] = this.runner.keys.campaignKeys(campaignId);
    return (await this.runner.command(() => this.runner.redis.hget(key, field))) ?? undefined;
  }

  /** A campaign's stored fields, or undefined. */
  async fields(campaignId: string): Promise<Record<string, string> | undefined> {
    const [key] = this.runner.keys.campaignKeys(campaignId);
    const fields = await this.runner.command(() => this.runner.redis.hgetall(key));
    return Object.keys(fields).length === 0 ? undefined : fields;
  }

  /** Campaign ids, newest first; `offset` pages through them. */
  async ids(limit = 100, offset = 0): Promise<string[]> {
    const key = this.runner.keys.global().campaigns;
    return this.runner.command(() => this.runner.redis.zrevrange(key, offset, offset + limit - 1));
  }
}
