import type { Queue } from 'bullmq';
import { ulid } from 'ulid';
import type { TemplateRenderer } from '../channels/templates.ts';
import { principalOf } from '../actors.ts';
import { ConcordError, invalidInput } from '../errors.ts';
import type { Ledger } from '../ledger/index.ts';
import { jobIds } from '../queue/names.ts';
import type { CampaignJob } from '../queue/payloads.ts';
import {
  campaignDefinitionSchema,
  holdForConflict,
  scheduleRequestSchema,
  type StoredSchedule,
} from './definition.ts';
import { unnamedLoosening } from './guardrails.ts';
import { previewCampaign, type CampaignPreview } from './preview.ts';
import { parseCampaign, type Campaign } from './record.ts';
import { endCampaignOffers } from './run.ts';

/** When the background walk of a cancel runs (the cancel call walks at once itself). */
const END_AGAIN_AFTER_MS = 30_000;
/** How far in the past an `at` may be and still mean "now" (clock differences, a slow request). */
const PAST_AT_TOLERANCE_MS = 60_000;
/** A one-off schedule further ahead than this is a typo more often than a plan. */
const MAX_SCHEDULE_AHEAD_MS = 400 * 24 * 3_600_000;

export interface CampaignsDeps {
  readonly ledger: Ledger;
  /** The `campaigns` queue, where schedules fire and resumed runs go on. */
  readonly queue: Queue;
  readonly templates?: TemplateRenderer;
  /** The policy of a slot when the campaign names none (the ledger's default). */
  readonly slotPolicy?: (slot: string) => string;
}

/**
 * Stores a campaign draft and answers its id; throws `invalid_input` with the first problem, a
 * guardrail set looser than the deployment's without naming it in `guardrails.loosen` among them
 * (the schema alone cannot tell: it does not know the deployment).
 */
export async function createCampaign(ledger: Ledger, input: unknown, actor: string): Promise<string> {
  const parsed = campaignDefinitionSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error.issues, 'invalid campaign');
  const conflict = holdForConflict(parsed.data);
  if (conflict !== undefined) throw new ConcordError('invalid_input', conflict);
  const looser = unnamedLoosening(parsed.data.guardrails, ledger.limits.guardrails);
  const first = looser[0];
  if (first !== undefined) {
    throw new ConcordError('invalid_input', first.message, {
      details: looser.map(({ rule, message }) => ({
        path: rule.path.split('.'),
        message,
        reason: rule.reason,
      })),
    });
  }
  const id = `cmp-${ulid()}`;
  await ledger.campaigns.update(id, { action: 'create', definition: parsed.data }, actor);
  return id;
}

/**
 * The campaigns use case: a marketer's definition, four-eyes approval, a schedule (once or cron),
 * runs that issue the campaign's offer through the ledger, and a cancel that ends every live
 * offer of the campaign on every channel. Every state change is one atomic ledger step.
 */
export class Campaigns {
  constructor(private readonly deps: CampaignsDeps) {}

  /** Stores a draft; throws `invalid_input` with the first problem of the definition. */
  async create(input: unknown, actor: string): Promise<Campaign> {
    return this.get(await createCampaign(this.deps.ledger, input, actor));
  }

  /** The campaign with its state and progress; throws `not_found`. */
  async get(campaignId: string): Promise<Campaign> {
    const fields = await this.deps.ledger.campaigns.fields(campaignId);
    if (!fields) throw new ConcordError('not_found', `no campaign ${campaignId}`);
    return parseCampaign(fields);
  }

  /** Campaigns, newest first. */
  async list(limit = 100): Promise<Campaign[]> {
    const ids = await this.deps.ledger.campaigns.ids(limit);
    const found = await Promise.all(ids.map((id) => this.deps.ledger.campaigns.fields(id)));
    return found.flatMap((fields) => (fields ? [parseCampaign(fields)] : []));
  }

  /** Audience size, guardrail outcomes and sample renders; changes nothing. */
  async preview(campaignId: string): Promise<CampaignPreview> {
    const campaign = await this.get(campaignId);
    return previewCampaign(this.deps.ledger, campaign, {
      slotPolicy: this.deps.slotPolicy ?? (() => 'replace'),
      ...(this.deps.templates === undefined ? {} : { templates: this.deps.templates }),
    });
  }

  /**
   * Approves a draft; the approver must not be its author (`forbidden`): not the same actor
   * (checked again atomically by the ledger) and not the same principal, so a second key of the
   * author's, or the author at the command line, does not count as a second pair of eyes. The
   * author never changes once stored, so reading it before the atomic step leaves no race.
   */
  async approve(campaignId: string, actor: string, note?: string): Promise<Campaign> {
    const { author } = await this.get(campaignId);
    if (principalOf(author) === principalOf(actor)) {
      throw new ConcordError('forbidden', 'a campaign must be approved by someone other than its author');
    }
    await this.deps.ledger.campaigns.update(
      campaignId,
      { action: 'approve', ...(note === undefined ? {} : { note }) },
      actor,
    );
    return this.get(campaignId);
  }

  /**
   * Schedules an approved campaign: `{}` now, `{ at }` once, `{ cron, timezone? }` on every fire.
   * Scheduling a scheduled campaign again replaces its schedule. Refused (`conflict`) unless
   * approved. Safe to repeat: the fire job's id is derived from the schedule's version.
   */
  async schedule(campaignId: string, request: unknown, actor: string): Promise<Campaign> {
    const parsed = scheduleRequestSchema.safeParse(request ?? {});
    if (!parsed.success) throw invalidInput(parsed.error.issues, 'invalid schedule');
    const now = await this.deps.ledger.now();
    let schedule: StoredSchedule;
    if ('cron' in parsed.data) {
      schedule = { kind: 'cron', cron: parsed.data.cron, timezone: parsed.data.timezone ?? 'UTC' };
    } else {
      const at = parsed.data.at === undefined ? now : Date.parse(parsed.data.at);
      // A time already past is more often a zone mistake than "now" (which `{}` says).
      if (now - at > PAST_AT_TOLERANCE_MS) {
        throw new ConcordError('invalid_input', 'at: that time has passed; send {} to run it now');
      }
      if (at - now > MAX_SCHEDULE_AHEAD_MS) {
        throw new ConcordError('invalid_input', 'at: a schedule may be at most 400 days ahead');
      }
      schedule = { kind: 'once', at: Math.max(now, at) };
    }
    const campaign = await this.get(campaignId);
    // (A campaign in a state that cannot be scheduled is refused by the ledger step below.)
    const { offer } = campaign.definition;
    if (
      (campaign.state === 'approved' || campaign.state === 'scheduled') &&
      offer.validUntil !== undefined &&
      Date.parse(offer.validUntil) <= (schedule.kind === 'once' ? schedule.at : now)
    ) {
      // An offer whose fixed end comes before the run would be refused for every customer; a
      // recurring schedule needs `validFor`, counted from each run.
      throw new ConcordError(
        'invalid_input',
        `the offer's validUntil (${offer.validUntil}) is before the run`,
      );
    }
    if (schedule.kind === 'cron' && offer.validUntil !== undefined) {
      throw new ConcordError(
        'invalid_input',
        'a recurring schedule needs offer.validFor, not a fixed validUntil',
      );
    }
    const reply = await this.deps.ledger.campaigns.update(
      campaignId,
      { action: 'schedule', schedule, scheduleKind: schedule.kind },
      actor,
    );
    const version = Number(reply.fields['scheduleVersion']);
    await this.enqueueSchedule(campaignId, schedule, version, now);
    // Two schedule calls at once may reach the queue in the other order than the ledger: the one
    // whose queue step landed last puts the ledger's newer schedule back.
    const stored = await this.get(campaignId);
    if (stored.state === 'scheduled' && stored.schedule && stored.scheduleVersion !== version) {
      await this.enqueueSchedule(campaignId, stored.schedule, stored.scheduleVersion, now);
    }
    return this.get(campaignId);
  }

  /** Pauses issuing at the next page boundary; fires while paused start their run on resume. */
  async pause(campaignId: string, actor: string, reason?: string): Promise<Campaign> {
    await this.deps.ledger.campaigns.update(
      campaignId,
      { action: 'pause', ...(reason === undefined ? {} : { reason }) },
      actor,
    );
    return this.get(campaignId);
  }

  /** Resumes a paused campaign where it stopped. */
  async resume(campaignId: string, actor: string, reason?: string): Promise<Campaign> {
    const reply = await this.deps.ledger.campaigns.update(
      campaignId,
      { action: 'resume', ...(reason === undefined ? {} : { reason }) },
      actor,
    );
    if (reply.run !== undefined) {
      const data: CampaignJob = { kind: 'continue', campaignId, run: reply.run };
      await this.deps.queue.add('continue', data, {
        jobId: jobIds.campaignContinue(campaignId, reply.run, reply.now),
      });
    }
    return this.get(campaignId);
  }

  /**
   * Cancels the campaign and ends every open offer it issued, on every channel (reason
   * `campaign_cancelled`). Cancelling again walks the offers again, so an interrupted cancel can
   * be finished by repeating it.
   */
  async cancel(
    campaignId: string,
    actor: string,
    reason?: string,
  ): Promise<{ campaign: Campaign; ended: number }> {
    const reply = await this.deps.ledger.campaigns.update(
      campaignId,
      { action: 'cancel', ...(reason === undefined ? {} : { reason }) },
      actor,
    );
    // The state is cancelled before the walk, so a run still issuing sees it after its page and
    // ends that page's offers itself: between the two, no offer of the campaign stays live. The
    // same walk is also queued to run a little later, should this process die during this one.
    await this.removeScheduleJobs(campaignId, Number(reply.fields['scheduleVersion']));
    const data: CampaignJob = { kind: 'end', campaignId };
    await this.deps.queue.add('end', data, {
      jobId: jobIds.campaignEnd(campaignId, Number(reply.fields['version'])),
      delay: END_AGAIN_AFTER_MS,
    });
    const ended = await endCampaignOffers(this.deps.ledger, campaignId, actor);
    return { campaign: await this.get(campaignId), ended };
  }

  private async enqueueSchedule(
    campaignId: string,
    schedule: StoredSchedule,
    scheduleVersion: number,
    now: number,
  ): Promise<void> {
    const { queue } = this.deps;
    const data: CampaignJob = { kind: 'fire', campaignId, scheduleVersion };
    if (schedule.kind === 'cron') {
      await queue.upsertJobScheduler(
        jobIds.campaignScheduler(campaignId),
        { pattern: schedule.cron, tz: schedule.timezone },
        { name: 'fire', data },
      );
      return;
    }
    // A campaign moved from cron to a one-off time stops firing on the old pattern.
    await queue.removeJobScheduler(jobIds.campaignScheduler(campaignId));
    // `at` is ledger time; BullMQ counts on this process's clock.
    await queue.add('fire', data, {
      jobId: jobIds.campaignFire(campaignId, scheduleVersion),
      delay: Math.max(0, schedule.at - now),
    });
  }

  private async removeScheduleJobs(campaignId: string, scheduleVersion: number): Promise<void> {
    const { queue } = this.deps;
    await queue.removeJobScheduler(jobIds.campaignScheduler(campaignId));
    // Fires already waiting find the campaign cancelled and do nothing; removing them is tidiness.
    await queue.remove(jobIds.campaignFire(campaignId, scheduleVersion)).catch(() => 0);
  }
}
