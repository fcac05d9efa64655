/**
 * A campaign's `guardrails` (docs/API.md, "A campaign"): the rules it changes from the
 * deployment's, as text a marketer writes, and what they become. A campaign may tighten any rule;
 * it may loosen one only by naming the rule's reason in `loosen`, so a looser rule is always a
 * decision someone wrote down and an approver saw, never a typo.
 */
import { z } from 'zod';
import {
  CAP_SCOPES,
  formatCap,
  formatQuietHours,
  formatWindow,
  LONGEST_GUARDRAIL_WINDOW_MS,
  parseCap,
  parseQuietHours,
  type CapRule,
  type CapScope,
  type GuardrailOverrides,
  type GuardrailRules,
  type QuietHoursRule,
} from '../config/guardrails.ts';
import { categorySchema } from '../ledger/index.ts';
import { addDuration, parseIsoDuration } from '../time.ts';

/** The rules a campaign may loosen, by the reason each gives when it stops an offer or a send. */
export const LOOSEN_REASONS = [
  'frequency_cap',
  'quiet_hours',
  'recently_returned',
  'recently_purchased',
  'stock_unknown',
  'sensitive_category',
] as const;
export type LoosenReason = (typeof LOOSEN_REASONS)[number];

const DAY_MS = 86_400_000;

/**
 * An ISO 8601 duration of weeks to seconds in milliseconds, or undefined. Years and months are
 * refused as in the rest of a campaign: a window should be as long in March as in February.
 */
export function guardrailWindowMs(text: string): number | undefined {
  const parts = parseIsoDuration(text.trim());
  if (!parts || parts.years !== 0 || parts.months !== 0) return undefined;
  const ms = addDuration(0, parts);
  return ms <= LONGEST_GUARDRAIL_WINDOW_MS ? ms : undefined;
}

const windowText = z
  .string()
  .refine(
    (text) => guardrailWindowMs(text) !== undefined,
    'expected an ISO 8601 duration of weeks to seconds (e.g. PT6H or P30D), at most 400 days',
  );

/** A scope's cap: `count/duration`, or `off` for none. */
const capText = (scope: CapScope) =>
  z.string().superRefine((text, ctx) => {
    if (text.trim() === 'off') return;
    const cap = parseCap(scope, text, guardrailWindowMs);
    if (typeof cap === 'string') ctx.addIssue({ code: 'custom', message: cap });
  });

const quietHoursText = z.string().superRefine((text, ctx) => {
  const rule = parseQuietHours(text);
  if (typeof rule === 'string') ctx.addIssue({ code: 'custom', message: rule });
});

/** How long a delivery may be held back (state uncertain) before it is skipped: 1 second to 30 days. */
export const holdForSchema = z.string().refine((text) => {
  const ms = guardrailWindowMs(text);
  return ms !== undefined && ms >= 1000 && ms <= 30 * DAY_MS;
}, 'expected an ISO 8601 duration (weeks to seconds, e.g. P7D or PT12H) from 1 second to 30 days');

/** A campaign's `guardrails`, as written: every rule optional, absent means the deployment's. */
export const campaignGuardrailsSchema = z.strictObject({
  /** Per scope; a scope not named keeps the deployment's cap. */
  caps: z
    .strictObject({
      email: capText('email').optional(),
      push: capText('push').optional(),
      any: capText('any').optional(),
    })
    .optional(),
  /** `HH:MM-HH:MM` in the customer's time zone (may cross midnight), or `off`. */
  quietHours: quietHoursText.optional(),
  /** The same as the campaign's top-level `holdFor`. */
  holdFor: holdForSchema.optional(),
  returnBlock: windowText.optional(),
  purchaseBlock: windowText.optional(),
  stockMaxAge: windowText.optional(),
  sensitiveCategories: z.array(categorySchema).max(100).optional(),
  loosen: z
    .array(z.enum(LOOSEN_REASONS))
    .refine((names) => new Set(names).size === names.length, 'loosen must not repeat a rule')
    .optional(),
});
export type CampaignGuardrails = z.infer<typeof campaignGuardrailsSchema>;

/** A campaign's changes, read into the ledger's units; `null` in `caps` turns a scope's cap off. */
interface GuardrailChanges {
  readonly caps: Partial<Record<CapScope, CapRule | null>>;
  readonly quietHours?: QuietHoursRule | null;
  readonly returnBlockMs?: number;
  readonly purchaseBlockMs?: number;
  readonly stockMaxAgeMs?: number;
  readonly sensitiveCategories?: readonly string[];
  readonly loosen: readonly LoosenReason[];
}

/** Reads checked text (the schema above refused anything else), so a failed parse is a bug. */
function changesOf(guardrails: CampaignGuardrails | undefined): GuardrailChanges {
  const must = <T>(value: T | string | undefined, what: string): T => {
    if (value === undefined || typeof value === 'string')
      throw new Error(`unreadable ${what} in a stored campaign`);
    return value;
  };
  const caps: Partial<Record<CapScope, CapRule | null>> = {};
  for (const scope of CAP_SCOPES) {
    const text = guardrails?.caps?.[scope];
    if (text === undefined) continue;
    caps[scope] = text.trim() === 'off' ? null : must(parseCap(scope, text, guardrailWindowMs), `cap`);
  }
  const window = (text: string | undefined) =>
    text === undefined ? undefined : must(guardrailWindowMs(text), 'window');
  const returnBlockMs = window(guardrails?.returnBlock);
  const purchaseBlockMs = window(guardrails?.purchaseBlock);
  const stockMaxAgeMs = window(guardrails?.stockMaxAge);
  return {
    caps,
    ...(guardrails?.quietHours === undefined
      ? {}
      : { quietHours: must<QuietHoursRule | null>(parseQuietHours(guardrails.quietHours), 'quiet hours') }),
    ...(returnBlockMs === undefined ? {} : { returnBlockMs }),
    ...(purchaseBlockMs === undefined ? {} : { purchaseBlockMs }),
    ...(stockMaxAgeMs === undefined ? {} : { stockMaxAgeMs }),
    ...(guardrails?.sensitiveCategories === undefined
      ? {}
      : { sensitiveCategories: guardrails.sensitiveCategories }),
    loosen: guardrails?.loosen ?? [],
  };
}

/** Whether the window `rule` is in at local minute `minute` (the end is not in it). */
function quietAt(rule: QuietHoursRule, minute: number): boolean {
  return rule.startMin < rule.endMin
    ? minute >= rule.startMin && minute < rule.endMin
    : minute >= rule.startMin || minute < rule.endMin;
}

/** True when `rule` is quiet at every minute `base` is (off covers only off). */
export function quietHoursCover(rule: QuietHoursRule | null, base: QuietHoursRule | null): boolean {
  if (base === null) return true;
  if (rule === null) return false;
  for (let minute = 0; minute < 1440; minute++) {
    if (quietAt(base, minute) && !quietAt(rule, minute)) return false;
  }
  return true;
}

/** True when `cap` allows no more than `base`: a count no higher over a window no shorter. */
function capWithin(cap: CapRule | null, base: CapRule | undefined): boolean {
  if (base === undefined) return true;
  return cap !== null && cap.count <= base.count && cap.windowMs >= base.windowMs;
}

/** One rule a campaign sets looser than the deployment's. */
export interface LooserRule {
  readonly reason: LoosenReason;
  /** Where the rule is in the definition (`guardrails.caps.push`). */
  readonly path: string;
  readonly value: string;
  readonly deployment: string;
}

const windowTextOf = (ms: number) => (ms === 0 ? 'off' : formatWindow(ms));
const capTextOf = (cap: CapRule | null | undefined) => (cap ? formatCap(cap) : 'off');

/** Every rule of the campaign's that is looser than the deployment's, loosened by name or not. */
function looserRules(changes: GuardrailChanges, base: GuardrailRules): LooserRule[] {
  const looser: LooserRule[] = [];
  for (const scope of CAP_SCOPES) {
    const cap = changes.caps[scope];
    const baseCap = base.caps.find((rule) => rule.scope === scope);
    if (cap !== undefined && !capWithin(cap, baseCap)) {
      looser.push({
        reason: 'frequency_cap',
        path: `guardrails.caps.${scope}`,
        value: capTextOf(cap),
        deployment: capTextOf(baseCap),
      });
    }
  }
  if (changes.quietHours !== undefined && !quietHoursCover(changes.quietHours, base.quietHours)) {
    looser.push({
      reason: 'quiet_hours',
      path: 'guardrails.quietHours',
      value: formatQuietHours(changes.quietHours),
      deployment: formatQuietHours(base.quietHours),
    });
  }
  const atLeast = (reason: LoosenReason, path: string, value: number | undefined, baseValue: number) => {
    if (value !== undefined && value < baseValue) {
      looser.push({ reason, path, value: windowTextOf(value), deployment: windowTextOf(baseValue) });
    }
  };
  atLeast('recently_returned', 'guardrails.returnBlock', changes.returnBlockMs, base.returnBlockMs);
  atLeast('recently_purchased', 'guardrails.purchaseBlock', changes.purchaseBlockMs, base.purchaseBlockMs);
  if (changes.stockMaxAgeMs !== undefined && changes.stockMaxAgeMs > base.stockMaxAgeMs) {
    looser.push({
      reason: 'stock_unknown',
      path: 'guardrails.stockMaxAge',
      value: windowTextOf(changes.stockMaxAgeMs),
      deployment: windowTextOf(base.stockMaxAgeMs),
    });
  }
  const categories = changes.sensitiveCategories;
  if (categories !== undefined && !base.sensitiveCategories.every((name) => categories.includes(name))) {
    looser.push({
      reason: 'sensitive_category',
      path: 'guardrails.sensitiveCategories',
      value: categories.join(',') || 'none',
      deployment: base.sensitiveCategories.join(','),
    });
  }
  return looser;
}

/**
 * The rules the campaign sets looser than the deployment's without naming them in `loosen`,
 * each with a message that says which rule, the deployment's value and how to loosen it anyway.
 * Empty when the campaign may run under these defaults.
 */
export function unnamedLoosening(
  guardrails: CampaignGuardrails | undefined,
  base: GuardrailRules,
): { readonly rule: LooserRule; readonly message: string }[] {
  const changes = changesOf(guardrails);
  return looserRules(changes, base)
    .filter((rule) => !changes.loosen.includes(rule.reason))
    .map((rule) => ({
      rule,
      message:
        `${rule.path}: ${rule.value} is looser than the deployment's ${rule.deployment} (${rule.reason}); ` +
        `a campaign may only tighten it, unless it names ${rule.reason} in guardrails.loosen`,
    }));
}

/**
 * The rules a campaign's offers carry (GuardrailOverrides: a rule named there replaces the
 * deployment's at every check), from the deployment's rules of the moment. Only the rules the
 * campaign changed are named, so every other rule follows the deployment. A change that was
 * tighter when the campaign was stored but is looser than a deployment tightened since, and not
 * named in `loosen`, gives way to the deployment's: a campaign never loosens a rule by accident.
 */
export function guardrailOverrides(
  guardrails: CampaignGuardrails | undefined,
  base: GuardrailRules,
): GuardrailOverrides {
  const changes = changesOf(guardrails);
  const allowed = (reason: LoosenReason, within: boolean) => within || changes.loosen.includes(reason);
  const overrides: GuardrailOverrides = {};
  const scopes = CAP_SCOPES.filter((scope) => {
    const cap = changes.caps[scope];
    return (
      cap !== undefined &&
      allowed(
        'frequency_cap',
        capWithin(
          cap,
          base.caps.find((rule) => rule.scope === scope),
        ),
      )
    );
  });
  if (scopes.length > 0) {
    // Caps are one rule to the ledger: the deployment's caps with the campaign's scopes replaced.
    overrides.caps = CAP_SCOPES.flatMap((scope) => {
      const cap = scopes.includes(scope)
        ? changes.caps[scope]
        : base.caps.find((rule) => rule.scope === scope);
      return cap ? [cap] : [];
    });
  }
  if (
    changes.quietHours !== undefined &&
    allowed('quiet_hours', quietHoursCover(changes.quietHours, base.quietHours))
  ) {
    overrides.quietHours = changes.quietHours;
  }
  if (
    changes.returnBlockMs !== undefined &&
    allowed('recently_returned', changes.returnBlockMs >= base.returnBlockMs)
  ) {
    overrides.returnBlockMs = changes.returnBlockMs;
  }
  if (
    changes.purchaseBlockMs !== undefined &&
    allowed('recently_purchased', changes.purchaseBlockMs >= base.purchaseBlockMs)
  ) {
    overrides.purchaseBlockMs = changes.purchaseBlockMs;
  }
  if (
    changes.stockMaxAgeMs !== undefined &&
    allowed('stock_unknown', changes.stockMaxAgeMs <= base.stockMaxAgeMs)
  ) {
    overrides.stockMaxAgeMs = changes.stockMaxAgeMs;
  }
  const categories = changes.sensitiveCategories;
  if (
    categories !== undefined &&
    allowed(
      'sensitive_category',
      base.sensitiveCategories.every((name) => categories.includes(name)),
    )
  ) {
    overrides.sensitiveCategories = [...categories];
  }
  return overrides;
}

/** Every rule a campaign's offers are held to, as text (docs/API.md, "A campaign as answered"). */
export const effectiveGuardrailsSchema = z.object({
  caps: z.object({ email: z.string(), push: z.string(), any: z.string() }),
  quietHours: z.string(),
  returnBlock: z.string(),
  purchaseBlock: z.string(),
  stockMaxAge: z.string(),
  signalMaxAge: z.string(),
  sensitiveCategories: z.array(z.string()),
  /** The rules the campaign changed from the deployment's (`caps.push`, `quietHours`, …). */
  changed: z.array(z.string()),
  loosen: z.array(z.enum(LOOSEN_REASONS)),
});
export type EffectiveGuardrails = z.infer<typeof effectiveGuardrailsSchema>;

/** The rules a campaign's offers are held to now: the deployment's, with the campaign's changes. */
export function effectiveGuardrails(
  guardrails: CampaignGuardrails | undefined,
  base: GuardrailRules,
): EffectiveGuardrails {
  const overrides = guardrailOverrides(guardrails, base);
  const rules: GuardrailRules = {
    sensitiveCategories: overrides.sensitiveCategories ?? base.sensitiveCategories,
    returnBlockMs: overrides.returnBlockMs ?? base.returnBlockMs,
    purchaseBlockMs: overrides.purchaseBlockMs ?? base.purchaseBlockMs,
    stockMaxAgeMs: overrides.stockMaxAgeMs ?? base.stockMaxAgeMs,
    signalMaxAgeMs: overrides.signalMaxAgeMs ?? base.signalMaxAgeMs,
    caps: overrides.caps ?? base.caps,
    // null is a rule of its own (no quiet hours), not "unchanged".
    quietHours: overrides.quietHours === undefined ? base.quietHours : overrides.quietHours,
  };
  const changed: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const caps = Object.fromEntries(
    CAP_SCOPES.map((scope) => {
      const cap = rules.caps.find((rule) => rule.scope === scope);
      if (
        !same(
          cap,
          base.caps.find((rule) => rule.scope === scope),
        )
      )
        changed.push(`caps.${scope}`);
      return [scope, capTextOf(cap)];
    }),
  ) as Record<CapScope, string>;
  const named = [
    ['quietHours', 'quietHours'],
    ['returnBlock', 'returnBlockMs'],
    ['purchaseBlock', 'purchaseBlockMs'],
    ['stockMaxAge', 'stockMaxAgeMs'],
    ['sensitiveCategories', 'sensitiveCategories'],
  ] as const;
  for (const [name, key] of named) {
    if (!same(rules[key], base[key])) changed.push(name);
  }
  return {
    caps,
    quietHours: formatQuietHours(rules.quietHours),
    returnBlock: windowTextOf(rules.returnBlockMs),
    purchaseBlock: windowTextOf(rules.purchaseBlockMs),
    stockMaxAge: formatWindow(rules.stockMaxAgeMs),
    signalMaxAge: formatWindow(rules.signalMaxAgeMs),
    sensitiveCategories: [...rules.sensitiveCategories],
    changed,
    loosen: [...(guardrails?.loosen ?? [])],
  };
}
