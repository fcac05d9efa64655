import { durationMs, type Env } from '../config/env.ts';
import { GUARDRAILS_OFF, guardrailRulesFromEnv, type GuardrailEnvName, type GuardrailRules } from '../config/guardrails.ts';

/** The bounds a deployment sets on what the ledger keeps and accepts. */
export interface LedgerLimits {
  /** History entries older than this (ledger clock) are trimmed as new ones are written, and never read. */
  readonly historyRetentionMs: number;
  /** Open offers (active or pending, every slot) one customer may hold. */
  readonly maxOpenOffers: number;
  /** How far after the ledger clock an event, stock event or watermark may be dated. */
  readonly eventMaxAheadMs: number;
  /** How long an event id is remembered for deduplication. */
  readonly eventDedupeTtlMs: number;
  /** The deployment's guardrails, checked at every issue and every claim (a campaign may change some). */
  readonly guardrails: GuardrailRules;
}

/** The defaults of the environment variables, for ledgers built without an environment (tests). */
export const DEFAULT_LEDGER_LIMITS: LedgerLimits = {
  historyRetentionMs: 180 * 86_400_000,
  maxOpenOffers: 50,
  eventMaxAheadMs: 5 * 60_000,
  eventDedupeTtlMs: 30 * 86_400_000,
  // A ledger built without a deployment's settings stops nothing it was not asked to.
  guardrails: GUARDRAILS_OFF,
};

/** The ledger's bounds as the environment sets them. */
export function ledgerSettings(
  env: Pick<
    Env,
    | 'CONCORD_HISTORY_RETENTION'
    | 'CONCORD_MAX_OPEN_OFFERS'
    | 'CONCORD_EVENT_MAX_AHEAD'
    | 'CONCORD_EVENT_DEDUPE_TTL'
    | GuardrailEnvName
  >,
): LedgerLimits {
  return {
    historyRetentionMs: durationMs(env.CONCORD_HISTORY_RETENTION),
    maxOpenOffers: env.CONCORD_MAX_OPEN_OFFERS,
    eventMaxAheadMs: durationMs(env.CONCORD_EVENT_MAX_AHEAD),
    eventDedupeTtlMs: durationMs(env.CONCORD_EVENT_DEDUPE_TTL),
    guardrails: guardrailRulesFromEnv(env),
  };
}
