import { Writable } from 'node:stream';
import { buildApi, type Api, type ApiOptions } from '../../src/api/app.ts';
import type { ApiKey } from '../../src/api/auth.ts';
import type { ApiRole } from '../../src/config/env.ts';
import { createLinkSigner, type LinkSigner } from '../../src/delivery/links.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { closeQueues, openQueues, type Queues } from '../../src/queue/queues.ts';
import type { CapturedMessage } from '../../src/channels/capture-inbox.ts';
import type { LedgerOptions } from '../../src/ledger/index.ts';
import { ledgerContext, type ContextConnection, type LedgerContext } from './ledger-context.ts';

export const ROLES: readonly ApiRole[] = ['admin', 'marketer', 'support', 'ingest', 'web'];
/** One key per role, named so a leaked key would be easy to spot in logs. */
export const KEYS: Readonly<Record<ApiRole, string>> = {
  admin: 'admin-key-0123456789abcdef',
  marketer: 'marketer-key-0123456789abcdef',
  support: 'support-key-0123456789abcdef',
  ingest: 'ingest-key-0123456789abcdef',
  web: 'web-key-0123456789abcdef',
};
export const SECRET = 'api-test-signing-secret-0123456789abcdef';

export interface ApiContext extends LedgerContext {
  readonly api: Api;
  readonly links: LinkSigner;
  /** The producer queues the API schedules on. */
  readonly queues: Queues;
  /** Every log line the API wrote, as JSON text. */
  readonly logs: string[];
  auth(role: ApiRole): { authorization: string };
  close(): Promise<void>;
}

/** What a test may set on the API beyond the defaults here (an admin listener, rate limits). */
export type ApiOverrides = Partial<Pick<ApiOptions, 'adminListener' | 'apiKeys' | 'rateLimits'>>;

/** `ledger` sets the ledger's options (a deployment's guardrails in `limits`, for one). */
export async function apiContext(
  connection: ContextConnection = {},
  overrides: ApiOverrides = {},
  ledger: Partial<LedgerOptions> = {},
): Promise<ApiContext> {
  const ctx = ledgerContext(ledger, connection);
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  const links = createLinkSigner({ publicUrl: 'http://127.0.0.1:3000', secrets: [SECRET] });
  const apiKeys: ApiKey[] = ROLES.map((role) => ({ role, key: KEYS[role] }));
  const queues = openQueues(ctx.redis, ctx.prefix);
  await Promise.all(Object.values(queues).map((queue) => queue.waitUntilReady()));
  const captured: CapturedMessage[] = [];
  const api = await buildApi({
    queues,
    inbox: { messages: () => captured },
    ledger: ctx.ledger,
    redis: ctx.redis,
    links,
    apiKeys,
    keyIdSecret: SECRET,
    metrics: createMetrics(),
    logger: { level: 'info', stream },
    ...overrides,
  });
  await api.ready();
  return {
    ...ctx,
    api,
    links,
    queues,
    logs,
    auth: (role) => ({ authorization: `Bearer ${KEYS[role]}` }),
    close: async () => {
      await api.close();
      await closeQueues(queues);
      await ctx.cleanup();
    },
  };
}
