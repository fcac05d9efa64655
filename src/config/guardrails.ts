/**
 * The guardrails' rules as the ledger applies them (docs/API.md, "Guardrails"): resolved into
 * numbers once, from the environment's text or a campaign's, so a script compares milliseconds and
 * minutes, never parses. The reasons they give are in src/ledger/reasons.ts.
 */
import { z } from 'zod';

const DAY_MS = 86_400_000;
/** The longest window any rule may look back over; the ledger keeps what it counts this long. */
export const LONGEST_GUARDRAIL_WINDOW_MS = 400 * DAY_MS;

/** Whose sends a frequency cap counts: one channel's, or email and push together (`any`). */
export const CAP_SCOPES = ['email', 'push', 'any'] as const;
export type CapScope = (typeof CAP_SCOPES)[number];

/** At most `count` sends in any window of `windowMs`. */
export const capRuleSchema = z.strictObject({
  scope: z.enum(CAP_SCOPES),
  count: z.number().int().min(0).max(10_000),
  windowMs: z.number().int().min(60_000).max(LONGEST_GUARDRAIL_WINDOW_MS),
});
export type CapRule = z.infer<typeof capRuleSchema>;

const minuteOfDay = z.number().int().min(0).max(1439);
/**
 * Local minutes of the day from `startMin` (inclusive) to `endMin` (exclusive), crossing midnight
 * when `startMin > endMin` (21:00-08:00 is 1260 to 480).
 */
export const quietHoursRuleSchema = z
  .strictObject({ startMin: minuteOfDay, endMin: minuteOfDay })
  .refine((rule) => rule.startMin !== rule.endMin, 'a quiet-hours window must not start where it ends');
export type QuietHoursRule = z.infer<typeof quietHoursRuleSchema>;

const windowMs = z.number().int().min(0).max(LONGEST_GUARDRAIL_WINDOW_MS);

/** Every rule, resolved. */
export const guardrailRulesSchema = z.strictObject({
  /** Categories an offer may only carry for a customer who opted in to them. */
  sensitiveCategories: z.array(z.string().max(64)).max(100),
  /** No offer for a SKU the customer returned this recently (0: off). */
  returnBlockMs: windowMs,
  /** No offer for a SKU the customer bought this recently (0: off). */
  purchaseBlockMs: windowMs,
  /** A SKU's latest stock event older than this holds a send. */
  stockMaxAgeMs: z.number().int().min(1_000).max(LONGEST_GUARDRAIL_WINDOW_MS),
  /** The oldest signal an audience may be chosen by. */
  signalMaxAgeMs: z.number().int().min(1_000).max(LONGEST_GUARDRAIL_WINDOW_MS),
  /** At most one per scope. */
  caps: z.array(capRuleSchema).max(CAP_SCOPES.length),
  /** Email and push wait while the customer's local time is inside this window; null: off. */
  quietHours: quietHoursRuleSchema.nullable(),
});
export type GuardrailRules = z.infer<typeof guardrailRulesSchema>;

/**
 * The rules a campaign (or trigger) changed, stored on each offer it issues: a rule named here
 * replaces the deployment's, every other rule is the deployment's at the moment of the check.
 */
export const guardrailOverridesSchema = guardrailRulesSchema.partial();
export type GuardrailOverrides = z.infer<typeof guardrailOverridesSchema>;

/** Rules that stop nothing: for ledgers built without a deployment's settings (tests, tools). */
export const GUARDRAILS_OFF: GuardrailRules = {
  sensitiveCategories: [],
  returnBlockMs: 0,
  purchaseBlockMs: 0,
  stockMaxAgeMs: LONGEST_GUARDRAIL_WINDOW_MS,
  signalMaxAgeMs: LONGEST_GUARDRAIL_WINDOW_MS,
  caps: [],
  quietHours: null,
};

/** The environment variables the deployment's rules are read from. */
export type GuardrailEnvName =
  | 'CONCORD_SENSITIVE_CATEGORIES'
  | 'CONCORD_RETURN_BLOCK'
  | 'CONCORD_PURCHASE_BLOCK'
  | 'CONCORD_STOCK_MAX_AGE'
  | 'CONCORD_CAPS'
  | 'CONCORD_QUIET_HOURS'
  | 'CONCORD_SIGNAL_MAX_AGE';

/** The deployment's rules as the environment gives them, already parsed (see src/config/env.ts). */
export interface GuardrailEnv {
  readonly CONCORD_SENSITIVE_CATEGORIES: readonly string[];
  readonly CONCORD_RETURN_BLOCK: number;
  readonly CONCORD_PURCHASE_BLOCK: number;
  readonly CONCORD_STOCK_MAX_AGE: number;
  readonly CONCORD_CAPS: readonly CapRule[];
  readonly CONCORD_QUIET_HOURS: QuietHoursRule | null;
  readonly CONCORD_SIGNAL_MAX_AGE: number;
}

/** The deployment's rules from its (parsed) environment. */
export function guardrailRulesFromEnv(env: Pick<GuardrailEnv, GuardrailEnvName>): GuardrailRules {
  return {
    sensitiveCategories: [...env.CONCORD_SENSITIVE_CATEGORIES],
    returnBlockMs: env.CONCORD_RETURN_BLOCK,
    purchaseBlockMs: env.CONCORD_PURCHASE_BLOCK,
    stockMaxAgeMs: env.CONCORD_STOCK_MAX_AGE,
    signalMaxAgeMs: env.CONCORD_SIGNAL_MAX_AGE,
    caps: [...env.CONCORD_CAPS],
    quietHours: env.CONCORD_QUIET_HOURS,
  };
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** `HH:MM` as minutes of the day, or undefined. */
export function parseClock(text: string): number | undefined {
  const match = CLOCK.exec(text.trim());
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Minutes of the day as `HH:MM`. */
export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** `21:00-08:00` (may cross midnight) or `off` (null); an error message for anything else. */
export function parseQuietHours(text: string): QuietHoursRule | null | string {
  if (text.trim() === 'off') return null;
  const [start, end, ...rest] = text.split('-');
  const startMin = start === undefined ? undefined : parseClock(start);
  const endMin = end === undefined ? undefined : parseClock(end);
  if (rest.length > 0 || startMin === undefined || endMin === undefined) {
    return 'expected a window HH:MM-HH:MM (e.g. 21:00-08:00) or off';
  }
  if (startMin === endMin) return 'a quiet-hours window must not start where it ends';
  return { startMin, endMin };
}

/** A quiet-hours rule as text (`21:00-08:00`, or `off`). */
export function formatQuietHours(rule: QuietHoursRule | null): string {
  return rule === null ? 'off' : `${formatClock(rule.startMin)}-${formatClock(rule.endMin)}`;
}

/**
 * `count/duration` for one scope (`3/P1D`), with the duration already read to milliseconds by
 * the caller's duration parser; an error message for anything else.
 */
export function parseCap(
  scope: CapScope,
  text: string,
  durationToMs: (iso: string) => number | undefined,
): CapRule | string {
  const match = /^(\d{1,5})\/(P[0-9A-Z.]+)$/.exec(text.trim());
  const windowMs = match?.[2] === undefined ? undefined : durationToMs(match[2]);
  const parsed = capRuleSchema.safeParse({ scope, count: Number(match?.[1]), windowMs });
  if (!match || windowMs === undefined || !parsed.success) {
    return `expected count/duration for ${scope}, e.g. 3/P1D (a window from 1 minute to 400 days)`;
  }
  return parsed.data;
}

/** `email:3/P1D,push:3/P1D,any:10/P7D` (each scope at most once) or `off` (no caps). */
export function parseCaps(
  text: string,
  durationToMs: (iso: string) => number | undefined,
): CapRule[] | string {
  if (text.trim() === 'off') return [];
  const caps: CapRule[] = [];
  for (const part of text.split(',')) {
    const [scope, rule, ...rest] = part.trim().split(':');
    if (!CAP_SCOPES.includes(scope as CapScope) || rule === undefined || rest.length > 0) {
      return `expected scope:count/duration with scope email, push or any (e.g. email:3/P1D), not ${part.trim()}`;
    }
    if (caps.some((cap) => cap.scope === scope)) return `the ${scope} cap is given twice`;
    const cap = parseCap(scope as CapScope, rule, durationToMs);
    if (typeof cap === 'string') return cap;
    caps.push(cap);
  }
  return caps;
}

/** A cap as text (`3/P1D`), the window in whole days, hours or minutes. */
export function formatCap(cap: Pick<CapRule, 'count' | 'windowMs'>): string {
  return `${cap.count}/${formatWindow(cap.windowMs)}`;
}

/** Milliseconds as the shortest ISO 8601 duration of days, hours, minutes and seconds. */
export function formatWindow(ms: number): string {
  if (ms % DAY_MS === 0) return `P${ms / DAY_MS}D`;
  if (ms % 3_600_000 === 0) return `PT${ms / 3_600_000}H`;
  if (ms % 60_000 === 0) return `PT${ms / 60_000}M`;
  return `PT${ms / 1000}S`;
}
