import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { inject } from 'vitest';
import { Ledger, type LedgerOptions } from '../../src/ledger/index.ts';
import { EXAMPLE_OFFER } from './example-offer.ts';
import { SCRIPT_TABLE } from '../../src/ledger/script-table.ts';
import { loadScripts, type LedgerScript } from '../../src/ledger/scripts.ts';

/** One script call as the client sent it. */
export interface ScriptCall {
  readonly script: LedgerScript;
  readonly keys: string[];
  readonly arg: string;
}

/** A ledger under a key prefix of its own on the suite's Redis; `cleanup` deletes its keys. */
export interface LedgerContext {
  readonly redis: Redis;
  readonly ledger: Ledger;
  readonly prefix: string;
  /** Every script call made through this context's client, in order. */
  readonly calls: ScriptCall[];
  /** Calls whose KEYS did not all carry the same partition hash tag (must stay empty). */
  readonly crossPartition: ScriptCall[];
  /** Calls whose request did not match the script table's request schema (must stay empty). */
  readonly badRequests: { call: ScriptCall; issues: string }[];
  /** Sends a recorded call again, exactly as it was sent. */
  replay(call: ScriptCall): Promise<unknown>;
  /** Every ledger key under this context's prefix, with its type and value, for before/after comparisons. */
  snapshot(): Promise<Map<string, string>>;
  keyNames(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export function redisUrl(): string {
  return inject('redisUrl');
}

/** Where a context connects: the suite's Redis by default, or a server a test started itself. */
export interface ContextConnection {
  readonly url?: string;
  /** Client options over the defaults (one retry per command). */
  readonly options?: Pick<RedisOptions, 'enableOfflineQueue' | 'retryStrategy'>;
}

export function ledgerContext(
  options: Partial<LedgerOptions> = {},
  connection: ContextConnection = {},
): LedgerContext {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const redis = new Redis(connection.url ?? redisUrl(), { maxRetriesPerRequest: 1, ...connection.options });
  const ledger = new Ledger(redis, { prefix, partitions: 16, ...options });
  const calls: ScriptCall[] = [];
  const crossPartition: ScriptCall[] = [];
  const badRequests: { call: ScriptCall; issues: string }[] = [];
  const commands = redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  const originals = new Map<string, (...args: string[]) => Promise<unknown>>();
  // Every script call is recorded and its KEYS checked: one partition tag, or the script could
  // not run on Redis Cluster and would not be atomic per partition.
  for (const script of loadScripts().values()) {
    for (const command of [script.command, `${script.command}Buffer`]) {
      const original = commands[command];
      if (!original) continue;
      originals.set(command, original);
      commands[command] = (...args: string[]) => {
        const call = {
          script,
          keys: args.slice(0, script.numberOfKeys),
          arg: args[script.numberOfKeys] ?? '',
        };
        calls.push(call);
        const tags = new Set(call.keys.map((key) => /\{([^}]*)\}/.exec(key)?.[1]));
        if (tags.size !== 1 || tags.has(undefined)) crossPartition.push(call);
        const issues = requestIssues(call);
        if (issues !== undefined) badRequests.push({ call, issues });
        return original.apply(redis, args);
      };
    }
  }

  const keyNames = async (): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  };

  const snapshot = async (): Promise<Map<string, string>> => {
    const result = new Map<string, string>();
    // The ledger's keys only: BullMQ writes its queue metadata on its own schedule.
    for (const key of (await keyNames()).filter((name) => !name.startsWith(`${prefix}-q:`))) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'hash') value = Object.entries(await redis.hgetall(key)).sort();
      else if (type === 'set') value = (await redis.smembers(key)).sort();
      else if (type === 'zset') value = await redis.zrangebyscore(key, '-inf', '+inf', 'WITHSCORES');
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      else if (type === 'string') value = await redis.get(key);
      else value = type;
      result.set(key, `${type}:${JSON.stringify(value)}`);
    }
    return result;
  };

  return {
    redis,
    ledger,
    prefix,
    calls,
    crossPartition,
    badRequests,
    replay: (call) => {
      const original = originals.get(call.script.command);
      if (!original) throw new Error(`no script ${call.script.name}`);
      return original.apply(redis, [...call.keys, call.arg]);
    },
    snapshot,
    keyNames,
    cleanup: async () => {
      const keys = await keyNames();
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
      if (crossPartition.length > 0) {
        const names = crossPartition.map((call) => call.script.name).join(', ');
        throw new Error(`script calls touched more than one partition: ${names}`);
      }
      const bad = badRequests[0];
      if (bad) throw new Error(`${bad.call.script.name} was sent a request its table row refuses: ${bad.issues}`);
    },
  };
}

/** Why a recorded call's request does not match its script's row in the table, if it does not. */
function requestIssues(call: ScriptCall): string | undefined {
  const row = SCRIPT_TABLE[call.script.name];
  if (call.arg === '') return row.request.safeParse(undefined).success ? undefined : 'no request';
  // The runner adds the clock skew and the history retention to every request.
  const { skew: _skew, historyMs: _historyMs, ...request } = JSON.parse(call.arg) as Record<string, unknown>;
  const parsed = row.request.safeParse(request);
  return parsed.success ? undefined : JSON.stringify(parsed.error.issues);
}

/** An offer valid from now for an hour, on every channel, for tests to vary. */
export function offerInput(customerId: string, overrides: Record<string, unknown> = {}, now = Date.now()) {
  return { customerId, ...EXAMPLE_OFFER, validUntil: now + 3_600_000, ...overrides };
}

type CampaignUpdate = Ledger['campaigns']['update'];

/**
 * The ledger with every campaign update passed through `hook`, which calls `next` to make it:
 * for tests that land something between two steps of a campaign (a pause, a race, an erasure).
 */
export function hookCampaignUpdates(
  ledger: Ledger,
  hook: (next: CampaignUpdate, ...args: Parameters<CampaignUpdate>) => ReturnType<CampaignUpdate>,
): Ledger {
  const next: CampaignUpdate = (...args) => ledger.campaigns.update(...args);
  const store = Object.create(ledger.campaigns) as Ledger['campaigns'];
  store.update = (...args) => hook(next, ...args);
  const hooked = Object.create(ledger) as Ledger;
  Object.defineProperty(hooked, 'campaigns', { value: store });
  return hooked;
}
