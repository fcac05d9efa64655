/** The ledger as every Concord process opens it: the deployment's place, bounds and latency metrics. */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Env } from '../config/env.ts';
import { isConcordError } from '../errors.ts';
import {
  ISSUE_REFUSAL_REASONS,
  Ledger,
  issueRefusalReasonSchema,
  ledgerSettings,
  type LedgerLimits,
} from '../ledger/index.ts';
import type { Metrics } from '../metrics/registry.ts';

/** Where a deployment's ledger lives in Redis, and the bounds it runs under. */
export interface LedgerPlace {
  readonly prefix: string;
  readonly partitions: number;
  /** The deployment's bounds (open-offer cap, history retention, event limits); the defaults when absent. */
  readonly limits?: Partial<LedgerLimits>;
}

/** The place and bounds the environment names (CONCORD_PREFIX, CONCORD_PARTITIONS, the CONCORD_* limits). */
export function ledgerPlace(env: Env): LedgerPlace {
  return { prefix: env.CONCORD_PREFIX, partitions: env.CONCORD_PARTITIONS, limits: ledgerSettings(env) };
}

/**
 * A ledger on `redis` at `place`. With `metrics`, every script's latency and outcome is observed
 * in `concord_ledger_script_seconds`, and every issue a guardrail refuses in
 * `concord_offers_refused_total`, so `/metrics` shows the same series whichever process ran it.
 */
export function openLedger(redis: Redis, place: LedgerPlace, metrics?: Metrics): Ledger {
  const ledger = new Ledger(redis, {
    prefix: place.prefix,
    partitions: place.partitions,
    ...(place.limits === undefined ? {} : { limits: place.limits }),
    ...(metrics === undefined
      ? {}
      : {
          onScript: (script: string, seconds: number, ok: boolean) => {
            metrics.ledgerScripts.observe({ script, outcome: ok ? 'ok' : 'error' }, seconds);
          },
        }),
  });
  if (metrics !== undefined) countRefusals(ledger, metrics);
  return ledger;
}

const refusalDetailsSchema = z.object({ reason: issueRefusalReasonSchema });

/**
 * Counts the issues a guardrail refuses, by reason. Every face issues through `offers.issue` of a
 * ledger opened here (the API's, the campaign workers'), so this is the one place that sees
 * them all. The label is one of the refusal codes, or `other`: a closed set.
 */
function countRefusals(ledger: Ledger, metrics: Metrics): void {
  // Zero for every reason from the start, so a rate over the series is defined before the first.
  for (const reason of ISSUE_REFUSAL_REASONS) metrics.offersRefused.inc({ reason }, 0);
  const offers = ledger.offers;
  const issue = offers.issue.bind(offers);
  offers.issue = async (...args: Parameters<typeof issue>) => {
    try {
      return await issue(...args);
    } catch (error) {
      if (isConcordError(error, 'guardrail')) {
        const refusal = refusalDetailsSchema.safeParse(error.details);
        metrics.offersRefused.inc({ reason: refusal.success ? refusal.data.reason : 'other' });
      }
      throw error;
    }
  };
}
