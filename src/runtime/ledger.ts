/** The ledger as every Concord process opens it: the deployment's place, bounds and latency metrics. */
import type { Redis } from 'ioredis';
import type { Env } from '../config/env.ts';
import { Ledger, ledgerSettings, type LedgerLimits } from '../ledger/index.ts';
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
 * in `concord_ledger_script_seconds`, so `/metrics` shows the same series whichever process ran it.
 */
export function openLedger(redis: Redis, place: LedgerPlace, metrics?: Metrics): Ledger {
  return new Ledger(redis, {
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
}
