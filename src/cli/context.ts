import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { loadEnv, type Env } from '../config/env.ts';
import type { Ledger } from '../ledger/index.ts';
import { localActor } from '../runtime/actor.ts';
import { connectRedis, quitRedis } from '../runtime/connections.ts';
import { ledgerPlace, openLedger } from '../runtime/ledger.ts';
import { stdout, type Output } from './output.ts';

/** What a one-shot command works with: the validated environment and the same Ledger the API uses. */
export interface CliContext {
  readonly env: Env;
  readonly ledger: Ledger;
  /** The connection the ledger uses (commands that also enqueue jobs share it). */
  readonly redis: Redis;
  /** The history actor: `cli:<CONCORD_ACTOR>` when set, else `cli:<os user>`. */
  readonly actor: string;
  readonly out: Output;
  readonly json: boolean;
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
    const ledger = openLedger(redis, ledgerPlace(env));
    await body({
      env,
      ledger,
      redis,
      actor: localActor('cli', env.CONCORD_ACTOR),
      out: stdout,
      json: options.json === true,
    });
  } finally {
    await quitRedis(redis);
  }
}
