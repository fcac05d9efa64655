import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadEnv, type Env } from '../config/env.ts';
import type { Redis } from 'ioredis';
import { Ledger, ledgerSettings } from '../ledger/index.ts';
import { stdout, type Output } from './output.ts';
import { connectRedis } from './redis.ts';

/** What a one-shot command works with: the validated environment and the same Ledger the API uses. */
export interface CliContext {
  readonly env: Env;
  readonly ledger: Ledger;
  /** The connection the ledger uses (commands that also enqueue jobs share it). */
  readonly redis: Redis;
  /** The history actor: `cli:<os user>`. */
  readonly actor: string;
  readonly out: Output;
  readonly json: boolean;
}

/**
 * `cli:<CONCORD_ACTOR>` when set, else `cli:<os user>`; a process without a passwd entry (some
 * containers) is `cli:unknown`.
 */
export function cliActor(env?: Pick<Env, 'CONCORD_ACTOR'>): string {
  if (env?.CONCORD_ACTOR !== undefined) return `cli:${env.CONCORD_ACTOR}`;
  try {
    return `cli:${userInfo().username || 'unknown'}`;
  } catch {
    return 'cli:unknown';
  }
}

/** Adds `--json` to a command that prints a result. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print JSON instead of a table');
}

/**
 * Runs one command against the ledger: reads the environment, connects to Redis (failing with
 * one line if it does not answer), runs `body`, and closes the connection whatever happened.
 */
export async function withLedger(
  options: { json?: boolean },
  body: (context: CliContext) => Promise<void>,
): Promise<void> {
  const env = loadEnv();
  const redis = await connectRedis(env.REDIS_URL);
  try {
    const ledger = new Ledger(redis, {
      prefix: env.CONCORD_PREFIX,
      partitions: env.CONCORD_PARTITIONS,
      limits: ledgerSettings(env),
    });
    await body({ env, ledger, redis, actor: cliActor(env), out: stdout, json: options.json === true });
  } finally {
    await redis.quit().catch(() => {
      redis.disconnect();
    });
  }
}
