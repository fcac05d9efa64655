import { z } from 'zod';
import { LONGEST_GUARDRAIL_WINDOW_MS, parseCaps, parseQuietHours } from './guardrails.ts';
import { PRINCIPAL_PATTERN } from '../actors.ts';
import { ConcordError } from '../errors.ts';
import { parseIsoDuration, type IsoDuration } from '../time.ts';

const API_ROLES = ['admin', 'marketer', 'support', 'ingest', 'web'] as const;

/** A role an API key can hold. */
export const apiRoleSchema = z.enum(API_ROLES);
export type ApiRole = z.infer<typeof apiRoleSchema>;

const redisUrl = z
  .url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' })
  .default('redis://127.0.0.1:6379');

const smtpUrl = z.url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' });

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** An ISO 8601 duration longer than zero, read into its parts. */
const isoDuration = z.string().transform((value, ctx) => {
  const parsed = parseIsoDuration(value);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 duration, e.g. PT5M or P30D' });
    return z.NEVER;
  }
  return parsed;
});

/** `count/duration` (at most `count` in any window of `duration`), or `off`. */
const rateLimit = z.string().transform((value, ctx): { max: number; windowMs: number } | 'off' => {
  if (value === 'off') return 'off';
  const match = /^(\d{1,9})\/(P.+)$/.exec(value);
  const duration = match?.[2] === undefined ? undefined : parseIsoDuration(match[2]);
  const max = Number(match?.[1]);
  if (duration === undefined || !(max >= 1)) {
    ctx.addIssue({ code: 'custom', message: 'expected count/duration (e.g. 600/PT1M) or off' });
    return z.NEVER;
  }
  return { max, windowMs: durationMs(duration) };
});

/** Host names, comma separated, lower-cased. */
const hostList = z.string().transform((value, ctx) => {
  const hosts = value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  const bad = hosts.find(
    (host) =>
      !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(host),
  );
  if (bad !== undefined || hosts.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected host names separated by commas${bad ? `; not a host name: ${bad}` : ''}`,
    });
    return z.NEVER;
  }
  return hosts;
});

/** A fixed-length duration in milliseconds (calendar months and years counted as 30 and 365 days). */
export function durationMs(duration: IsoDuration): number {
  return (
    ((duration.years * 365 + duration.months * 30 + duration.weeks * 7 + duration.days) * 86_400 +
      duration.hours * 3_600 +
      duration.minutes * 60) *
      1000 +
    Math.round(duration.seconds * 1000)
  );
}

/**
 * `role:key` or `role:principal:key`, comma separated. Whatever follows the role is split at its
 * first `:` when there is one, so a key that contains `:` must be written with a principal in
 * front (`admin:ops:key:with:colons`).
 */
const apiKeys = z.string().transform((value, ctx) => {
  const keys: { role: ApiRole; key: string; principal?: string }[] = [];
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const separator = entry.indexOf(':');
    const role = apiRoleSchema.safeParse(entry.slice(0, separator));
    if (separator < 1 || !role.success) {
      return fail(`expected role:key or role:principal:key entries with roles ${API_ROLES.join(', ')}`);
    }
    const rest = entry.slice(separator + 1);
    const split = rest.indexOf(':');
    const principal = split < 0 ? undefined : rest.slice(0, split);
    const key = split < 0 ? rest : rest.slice(split + 1);
    if (principal !== undefined && !PRINCIPAL_PATTERN.test(principal)) {
      return fail(`a principal is 1 to 64 of A-Z a-z 0-9 _ . - (role:principal:key)`);
    }
    if (key.length < 16) return fail(`the ${role.data} key is shorter than 16 characters`);
    if (keys.some((known) => known.key === key)) return fail(`a ${role.data} key is listed twice`);
    keys.push(principal === undefined ? { role: role.data, key } : { role: role.data, key, principal });
  }
  return keys;
});

/** An ISO 8601 duration, read to milliseconds (for the guardrails' windows). */
const windowMs = (fallback: string) =>
  isoDuration
    .default(parseIsoDuration(fallback) as IsoDuration)
    .transform(durationMs)
    .pipe(z.number().max(LONGEST_GUARDRAIL_WINDOW_MS, 'expected at most 400 days'));

const isoToMs = (text: string): number | undefined => {
  const parsed = parseIsoDuration(text);
  return parsed === undefined ? undefined : durationMs(parsed);
};

/** A guardrail rule given as text, parsed by its own parser (which answers an error message). */
const ruleText = <T>(fallback: string, parse: (text: string) => T | string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx): T => {
      const parsed = parse(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    });

/** Categories, comma separated (`off` or empty: none). */
const categoryList = z
  .string()
  .default('health,baby,adult')
  .transform((value, ctx) => {
    if (value.trim() === 'off') return [];
    const categories = value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
    const bad = categories.find((category) => !/^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,63}$/.test(category));
    if (bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected categories separated by commas; not a category: ${bad}`,
      });
      return z.NEVER;
    }
    return [...new Set(categories)];
  });

/** Every environment variable Concord reads, with its default. */
export const envSchema = z.object({
  REDIS_URL: redisUrl,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SMTP_URL: smtpUrl.optional(),
  EMAIL_FROM: z.email().default('offers@example.com'),
  PUSH_URL: httpUrl.optional(),
  CONCORD_API_KEYS: apiKeys.optional(),
  CONCORD_SIGNING_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  /**
   * Instead of CONCORD_SIGNING_SECRET, for a rotation: secrets separated by commas, newest first.
   * The newest signs new links and tokens; every one verifies those already handed out.
   */
  CONCORD_SIGNING_SECRETS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    )
    .pipe(
      z
        .array(z.string().min(32, 'expected secrets of at least 32 characters, separated by commas'))
        .min(1, 'expected at least one secret'),
    )
    .optional(),
  /** How long a browser banner token is accepted after it was made; unset, tokens do not expire. */
  CONCORD_BANNER_TOKEN_TTL: isoDuration.optional(),
  CONCORD_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(16),
  /** Where customers reach this deployment: the base of offer and unsubscribe links. */
  PUBLIC_URL: httpUrl.optional(),
  /**
   * Who runs one-shot commands, for histories and campaign approvals, when the OS user is shared
   * (a bastion host); the OS user name otherwise.
   */
  CONCORD_ACTOR: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'expected 1 to 64 of A-Z a-z 0-9 _ . @ -')
    .optional(),
  /** How long a worker's claim leases a delivery before its outcome counts as unknown. */
  CONCORD_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  /** How long a job may run before BullMQ runs it again on another worker. */
  CONCORD_JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** VAPID keys for Web Push (instead of PUSH_URL): subject (mailto: or https:), public, private. */
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, 'expected a mailto: or https:// URL')
    .optional(),
  VAPID_PUBLIC_KEY: z.string().min(20).optional(),
  VAPID_PRIVATE_KEY: z.string().min(20).optional(),
  CONCORD_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1 to 64 of A-Z a-z 0-9 _ . -')
    .default('concord'),
  /** Web Push service hosts Concord may post to; any public https host when unset. */
  CONCORD_PUSH_HOSTS: hostList.optional(),
  /**
   * A second listener for `/metrics`, `/docs` and `/admin/queues`, on ADMIN_HOST (loopback by
   * default). Unset: those answer on PORT, and only with the admin key.
   */
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ADMIN_HOST: z.string().min(1).max(253).default('127.0.0.1'),
  /** How long history entries are kept: older ones are trimmed as new ones are written. */
  CONCORD_HISTORY_RETENTION: isoDuration.default(parseIsoDuration('P180D') as IsoDuration),
  /** How many open offers (active or pending, all slots together) one customer may hold. */
  CONCORD_MAX_OPEN_OFFERS: z.coerce.number().int().min(1).max(1000).default(50),
  /** How far ahead of the ledger clock an event's `at` may lie before it is refused. */
  CONCORD_EVENT_MAX_AHEAD: isoDuration.default(parseIsoDuration('PT5M') as IsoDuration),
  /** How long an event id is remembered, so a replay within it is stored once. */
  CONCORD_EVENT_DEDUPE_TTL: isoDuration.default(parseIsoDuration('P30D') as IsoDuration),
  /** Requests per client address on the routes without a key (banner, links, unsubscribe). */
  CONCORD_RATE_LIMIT_IP: rateLimit.default({ max: 1200, windowMs: 60_000 }),
  /** Requests per API key. */
  CONCORD_RATE_LIMIT_KEY: rateLimit.default({ max: 12_000, windowMs: 60_000 }),
  /** Categories an offer carries only for a customer who opted in to them (`off`: none). */
  CONCORD_SENSITIVE_CATEGORIES: categoryList,
  /** No offer for a SKU the customer returned within this window. */
  CONCORD_RETURN_BLOCK: windowMs('P30D'),
  /** No offer for a SKU the customer bought within this window. */
  CONCORD_PURCHASE_BLOCK: windowMs('P14D'),
  /** A SKU's latest stock event older than this holds a send. */
  CONCORD_STOCK_MAX_AGE: windowMs('PT6H'),
  /** Sends per customer: `scope:count/duration` for email, push and any (both), or `off`. */
  CONCORD_CAPS: ruleText('email:3/P1D,push:3/P1D,any:10/P7D', (text) => parseCaps(text, isoToMs)),
  /** Email and push wait while the customer's local time is inside this window (`off`: never). */
  CONCORD_QUIET_HOURS: ruleText('21:00-08:00', parseQuietHours),
  /** The oldest signal an audience may be chosen by. */
  CONCORD_SIGNAL_MAX_AGE: windowMs('P30D'),
});

/** The validated environment. */
export type Env = z.infer<typeof envSchema>;

/**
 * Reads and validates the environment. A bad value throws a {@link ConcordError} whose message is
 * one line naming the variable and what is wrong with it.
 */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const present = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((name) => {
      const value = source[name];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
  const parsed = envSchema.safeParse(present);
  if (parsed.success) {
    if (
      parsed.data.CONCORD_SIGNING_SECRET !== undefined &&
      parsed.data.CONCORD_SIGNING_SECRETS !== undefined
    ) {
      throw new ConcordError(
        'invalid_config',
        'CONCORD_SIGNING_SECRETS: set it or CONCORD_SIGNING_SECRET, not both (put the old secret second in the list)',
      );
    }
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? 'environment');
  throw new ConcordError('invalid_config', `${name}: ${issue?.message ?? 'invalid value'}`, {
    details: parsed.error.issues,
  });
}

/**
 * The variables the environment sets (non-empty), whether or not they have a default: for the
 * demo, which starts its own Redis only when REDIS_URL was not given.
 */
export function givenSettings(
  source: Record<string, string | undefined> = process.env,
): ReadonlySet<keyof Env> {
  return new Set(
    (Object.keys(envSchema.shape) as (keyof Env)[]).filter((name) => {
      const value = source[name];
      return value !== undefined && value !== '';
    }),
  );
}

/** Returns a variable that is optional in the demo but required by the command being run. */
export function requireSetting<K extends keyof Env>(env: Env, name: K): NonNullable<Env[K]> {
  const value = env[name];
  if (value === undefined) {
    throw new ConcordError('invalid_config', `${name}: required, but not set`);
  }
  return value;
}

/** The signing secrets, newest first, from either setting; one line when neither is set. */
export function signingSecrets(env: Env): string[] {
  if (env.CONCORD_SIGNING_SECRETS !== undefined) return env.CONCORD_SIGNING_SECRETS;
  if (env.CONCORD_SIGNING_SECRET !== undefined) return [env.CONCORD_SIGNING_SECRET];
  throw new ConcordError(
    'invalid_config',
    'CONCORD_SIGNING_SECRET: required, but not set (or CONCORD_SIGNING_SECRETS)',
  );
}

/** How the link signer of a deployment is set up from its environment. */
export function signerSettings(env: Env): { secrets: string[]; bannerTokenTtlMs?: number } {
  return {
    secrets: signingSecrets(env),
    ...(env.CONCORD_BANNER_TOKEN_TTL === undefined
      ? {}
      : { bannerTokenTtlMs: durationMs(env.CONCORD_BANNER_TOKEN_TTL) }),
  };
}
