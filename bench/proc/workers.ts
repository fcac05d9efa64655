/**
 * Concord's workers as a deployment runs them (`concord work`: every queue, the outbox relay and
 * the sweeper), configured by the environment. With BENCH_QUIET_PREFIX, customers whose id
 * starts with it are in their quiet hours, so their deliveries are held (the cancel benchmark).
 */
import { loadEnv } from '../../src/config/env.ts';
import type { ClaimGuards } from '../../src/ledger/index.ts';
import { startWorkersFromEnv, type WorkerRuntime } from '../../src/runtime/workers.ts';
import type { NoCommands } from '../lib/protocol.ts';
import { serve } from '../lib/rpc.ts';

const env = loadEnv();
const quietPrefix = process.env['BENCH_QUIET_PREFIX'];
const errors: string[] = [];
// The guard needs the runtime's ledger, which exists only once the workers have started.
const started: { runtime?: WorkerRuntime } = {};

const quietHours = async (offerId: string): Promise<ClaimGuards | undefined> => {
  const ledger = started.runtime?.ledger;
  if (quietPrefix === undefined || !ledger) return undefined;
  const customerId = await ledger.owners.customerOf(offerId);
  if (!customerId.startsWith(quietPrefix)) return undefined;
  // A feed an hour behind holds the delivery, as quiet hours would.
  const now = await ledger.now();
  return { watermarks: [{ feed: 'bench', at: now - 3_600_000, needed: now }] };
};

const runtime = await startWorkersFromEnv(env, {
  onError: (error, where) => {
    if (errors.length < 100)
      errors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  },
  ...(quietPrefix === undefined ? {} : { guards: quietHours }),
});
started.runtime = runtime;

serve<NoCommands>({ errors: async () => errors }, {}, () => runtime.close());
