import { z } from 'zod';
import type { GuardrailRules } from '../config/guardrails.ts';
import { ConcordError } from '../errors.ts';
import {
  storedCampaignDefinitionSchema,
  storedScheduleSchema,
  type CampaignDefinition,
  type StoredSchedule,
} from './definition.ts';
import { effectiveGuardrails, effectiveGuardrailsSchema } from './guardrails.ts';

export const CAMPAIGN_STATES = [
  'draft',
  'approved',
  'scheduled',
  'running',
  'completed',
  'paused',
  'cancelled',
] as const;
export const campaignStateSchema = z.enum(CAMPAIGN_STATES);
export type CampaignState = z.infer<typeof campaignStateSchema>;

/** What the campaign's runs did so far, counted once per (run, customer). */
export interface CampaignProgress {
  readonly audience: number;
  readonly processed: number;
  readonly issued: number;
  readonly skipped: number;
  /**
   * Skips by reason (RUN_SKIP_REASONS): holdout, slot_taken, outranked, invalid, open_offer_limit,
   * erased, and the guardrails' refusals (no_profile, sensitive_category, recently_returned, …).
   */
  readonly skippedBy: Readonly<Record<string, number>>;
  /** Offers ended by the campaign's cancel. */
  readonly cancelled: number;
  /** Runs started (a cron schedule runs once per fire). */
  readonly runs: number;
}

/** A campaign as the ledger holds it. */
export interface Campaign {
  readonly id: string;
  readonly state: CampaignState;
  readonly author: string;
  readonly approvedBy?: string;
  readonly approvedAt?: number;
  readonly approvalNote?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly version: number;
  readonly definition: CampaignDefinition;
  readonly schedule?: StoredSchedule;
  readonly scheduleVersion: number;
  /** The current (or last) run, and whether it is still going. */
  readonly run: number;
  readonly runActive: boolean;
  readonly cursor: number;
  readonly endReason?: string;
  readonly progress: CampaignProgress;
}

const number = (value: string | undefined) => (value === undefined || value === '' ? 0 : Number(value));
const optionalText = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** Reads a campaign from its stored fields; `definition` must be among them. */
export function parseCampaign(fields: Readonly<Record<string, string>>): Campaign {
  const raw = fields['definition'];
  if (raw === undefined) throw new ConcordError('internal', 'campaign fields without a definition');
  const definition = storedCampaignDefinitionSchema.parse(JSON.parse(raw));
  const skippedBy: Record<string, number> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith('p.skipped.')) skippedBy[name.slice('p.skipped.'.length)] = Number(value);
  }
  const schedule = optionalText(fields['schedule']);
  const approvedBy = optionalText(fields['approvedBy']);
  const approvalNote = optionalText(fields['approvalNote']);
  const endReason = optionalText(fields['endReason']);
  return {
    id: fields['id'] ?? '',
    state: campaignStateSchema.parse(fields['state']),
    author: fields['author'] ?? '',
    ...(approvedBy === undefined ? {} : { approvedBy, approvedAt: number(fields['approvedAt']) }),
    ...(approvalNote === undefined ? {} : { approvalNote }),
    createdAt: number(fields['createdAt']),
    updatedAt: number(fields['updatedAt']),
    version: number(fields['version']),
    definition,
    ...(schedule === undefined ? {} : { schedule: storedScheduleSchema.parse(JSON.parse(schedule)) }),
    scheduleVersion: number(fields['scheduleVersion']),
    run: number(fields['run']),
    runActive: fields['runActive'] === '1',
    cursor: number(fields['cursor']),
    ...(endReason === undefined ? {} : { endReason }),
    progress: {
      audience: definition.audience.customerIds.length,
      processed: number(fields['p.processed']),
      issued: number(fields['p.issued']),
      skipped: number(fields['p.skipped']),
      skippedBy,
      cancelled: number(fields['p.cancelled']),
      runs: number(fields['run']),
    },
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A campaign as the API answers it (docs/API.md, "A campaign as answered"). */
export const campaignViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: campaignStateSchema,
  author: z.string(),
  approvedBy: z.string().optional(),
  approvedAt: z.string().optional(),
  approvalNote: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number(),
  schedule: z
    .union([z.object({ at: z.string() }), z.object({ cron: z.string(), timezone: z.string() })])
    .optional(),
  endReason: z.string().optional(),
  progress: z.object({
    audience: z.number(),
    processed: z.number(),
    issued: z.number(),
    skipped: z.number(),
    skippedBy: z.record(z.string(), z.number()),
    cancelled: z.number(),
    runs: z.number(),
    running: z.boolean(),
  }),
  /** Every rule the campaign's offers are held to: the deployment's, with the campaign's changes. */
  guardrails: effectiveGuardrailsSchema,
  definition: z.unknown(),
});
export type CampaignView = z.infer<typeof campaignViewSchema>;

/**
 * The campaign as answered, its effective guardrails resolved against `deployment` (the ledger's
 * rules now: a campaign shows what its next run would be held to).
 */
export function campaignView(campaign: Campaign, deployment: GuardrailRules): CampaignView {
  const { schedule } = campaign;
  return {
    id: campaign.id,
    name: campaign.definition.name,
    state: campaign.state,
    author: campaign.author,
    ...(campaign.approvedBy === undefined ? {} : { approvedBy: campaign.approvedBy }),
    ...(campaign.approvedAt === undefined ? {} : { approvedAt: iso(campaign.approvedAt) }),
    ...(campaign.approvalNote === undefined ? {} : { approvalNote: campaign.approvalNote }),
    createdAt: iso(campaign.createdAt),
    updatedAt: iso(campaign.updatedAt),
    version: campaign.version,
    ...(schedule === undefined
      ? {}
      : {
          schedule:
            schedule.kind === 'once'
              ? { at: iso(schedule.at) }
              : { cron: schedule.cron, timezone: schedule.timezone },
        }),
    ...(campaign.endReason === undefined ? {} : { endReason: campaign.endReason }),
    progress: { ...campaign.progress, running: campaign.runActive },
    guardrails: effectiveGuardrails(campaign.definition.guardrails, deployment),
    // The audience's ids can run to megabytes; the view names how many there are.
    definition: {
      ...campaign.definition,
      audience: { size: campaign.definition.audience.customerIds.length },
    },
  };
}
