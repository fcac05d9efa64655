import { describe, expect, it } from 'vitest';
import { holdForConflict } from '../../src/campaigns/definition.ts';
import {
  campaignGuardrailsSchema,
  effectiveGuardrails,
  guardrailOverrides,
  quietHoursCover,
  unnamedLoosening,
  type CampaignGuardrails,
} from '../../src/campaigns/guardrails.ts';
import {
  GUARDRAILS_OFF,
  parseQuietHours,
  type GuardrailRules,
  type QuietHoursRule,
} from '../../src/config/guardrails.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The deployment of the documented defaults. */
const DEPLOYMENT: GuardrailRules = {
  sensitiveCategories: ['health', 'baby', 'adult'],
  returnBlockMs: 30 * DAY,
  purchaseBlockMs: 14 * DAY,
  stockMaxAgeMs: 6 * HOUR,
  signalMaxAgeMs: 30 * DAY,
  caps: [
    { scope: 'email', count: 3, windowMs: DAY },
    { scope: 'push', count: 3, windowMs: DAY },
    { scope: 'any', count: 10, windowMs: 7 * DAY },
  ],
  quietHours: { startMin: 21 * 60, endMin: 8 * 60 },
};

const guardrails = (value: unknown): CampaignGuardrails => campaignGuardrailsSchema.parse(value);
const looser = (value: unknown, base = DEPLOYMENT) =>
  unnamedLoosening(guardrails(value), base).map(({ rule }) => rule.reason);
const window = (text: string): QuietHoursRule | null => {
  const rule = parseQuietHours(text);
  if (typeof rule === 'string') throw new Error(rule);
  return rule;
};

/** Each rule with a tighter and a looser value than DEPLOYMENT's, and the reason that names it. */
const RULES = [
  { reason: 'frequency_cap', tighter: { caps: { push: '1/P1D' } }, looser: { caps: { push: '5/P1D' } } },
  { reason: 'frequency_cap', tighter: { caps: { email: '3/P2D' } }, looser: { caps: { email: '3/PT12H' } } },
  { reason: 'frequency_cap', tighter: { caps: { any: '10/P7D' } }, looser: { caps: { any: 'off' } } },
  { reason: 'quiet_hours', tighter: { quietHours: '20:00-09:00' }, looser: { quietHours: '22:00-07:00' } },
  { reason: 'quiet_hours', tighter: { quietHours: '21:00-08:00' }, looser: { quietHours: 'off' } },
  { reason: 'recently_returned', tighter: { returnBlock: 'P60D' }, looser: { returnBlock: 'P7D' } },
  { reason: 'recently_purchased', tighter: { purchaseBlock: 'P30D' }, looser: { purchaseBlock: 'P1D' } },
  { reason: 'stock_unknown', tighter: { stockMaxAge: 'PT1H' }, looser: { stockMaxAge: 'PT12H' } },
  {
    reason: 'sensitive_category',
    tighter: { sensitiveCategories: ['health', 'baby', 'adult', 'alcohol'] },
    looser: { sensitiveCategories: ['health', 'adult'] },
  },
] as const;

describe('a campaign tightens the deployment freely and loosens a rule only by naming it', () => {
  for (const rule of RULES) {
    it(`${rule.reason}: ${JSON.stringify(rule.tighter)} is a tightening`, () => {
      expect(looser(rule.tighter)).toEqual([]);
    });
    it(`${rule.reason}: ${JSON.stringify(rule.looser)} is refused unless loosen names it`, () => {
      expect(looser(rule.looser)).toEqual([rule.reason]);
      expect(looser({ ...rule.looser, loosen: [rule.reason] })).toEqual([]);
      // Naming another rule does not do.
      const other = rule.reason === 'quiet_hours' ? 'frequency_cap' : 'quiet_hours';
      expect(looser({ ...rule.looser, loosen: [other] })).toEqual([rule.reason]);
    });
  }

  it('a cap that allows more sends in the same window, or as many in a shorter one, is looser', () => {
    expect(looser({ caps: { push: '4/P1D' } })).toEqual(['frequency_cap']);
    expect(looser({ caps: { push: '3/PT23H' } })).toEqual(['frequency_cap']);
    expect(looser({ caps: { push: '0/P1D' } })).toEqual([]);
    expect(looser({ caps: { push: '3/P1D', email: '2/P3D', any: '1/P30D' } })).toEqual([]);
  });

  it('a cap for a scope the deployment does not cap is always a tightening, even off', () => {
    const base = { ...DEPLOYMENT, caps: [] };
    expect(looser({ caps: { push: '500/PT1M' } }, base)).toEqual([]);
    expect(looser({ caps: { any: 'off' } }, base)).toEqual([]);
  });

  it('every looser rule is reported, each by its own reason', () => {
    expect(
      looser({ caps: { email: '9/P1D', push: '9/P1D' }, quietHours: 'off', returnBlock: 'P1D' }),
    ).toEqual(['frequency_cap', 'frequency_cap', 'quiet_hours', 'recently_returned']);
  });

  it('against a deployment with every rule off, anything is a tightening', () => {
    expect(
      looser(
        {
          caps: { email: '1/P1D', push: 'off' },
          quietHours: '01:00-02:00',
          returnBlock: 'PT1S',
          purchaseBlock: 'P1D',
          stockMaxAge: 'P400D',
          sensitiveCategories: [],
        },
        GUARDRAILS_OFF,
      ),
    ).toEqual([]);
  });
});

describe('quiet hours: the campaign window must cover every minute of the deployment window', () => {
  const cases: [string, string, boolean][] = [
    // A window crossing midnight against one crossing midnight.
    ['20:00-09:00', '21:00-08:00', true],
    ['21:00-08:00', '21:00-08:00', true],
    ['21:01-08:00', '21:00-08:00', false],
    ['21:00-07:59', '21:00-08:00', false],
    ['22:00-07:00', '21:00-08:00', false],
    // Within one day against crossing midnight: never covers the minutes on both sides of 00:00.
    ['00:00-23:59', '21:00-08:00', false],
    ['00:00-08:00', '21:00-08:00', false],
    // Crossing midnight against within one day.
    ['11:00-02:00', '12:00-14:00', true],
    ['15:00-13:00', '12:00-14:00', false],
    ['23:00-00:01', '23:30-00:00', true],
    // Within one day against within one day.
    ['12:00-14:00', '12:00-14:00', true],
    ['12:00-13:59', '12:00-14:00', false],
    ['off', '21:00-08:00', false],
    ['off', 'off', true],
    ['01:00-01:01', 'off', true],
  ];
  for (const [rule, base, covers] of cases) {
    it(`${rule} ${covers ? 'covers' : 'does not cover'} ${base}`, () => {
      expect(quietHoursCover(window(rule), window(base))).toBe(covers);
    });
  }
});

describe('the refusal says which rule, the deployment value and how to loosen it', () => {
  it('for a cap', () => {
    const [first] = unnamedLoosening(guardrails({ caps: { push: '5/P1D' } }), DEPLOYMENT);
    expect(first?.message).toBe(
      "guardrails.caps.push: 5/P1D is looser than the deployment's 3/P1D (frequency_cap); " +
        'a campaign may only tighten it, unless it names frequency_cap in guardrails.loosen',
    );
  });

  it('for a cap turned off, quiet hours, windows and categories', () => {
    const messages = unnamedLoosening(
      guardrails({
        caps: { any: 'off' },
        quietHours: '22:00-07:00',
        returnBlock: 'P7D',
        purchaseBlock: 'PT12H',
        stockMaxAge: 'P1D',
        sensitiveCategories: [],
      }),
      DEPLOYMENT,
    ).map(({ message }) => message.split(';')[0]);
    expect(messages).toEqual([
      "guardrails.caps.any: off is looser than the deployment's 10/P7D (frequency_cap)",
      "guardrails.quietHours: 22:00-07:00 is looser than the deployment's 21:00-08:00 (quiet_hours)",
      "guardrails.returnBlock: P7D is looser than the deployment's P30D (recently_returned)",
      "guardrails.purchaseBlock: PT12H is looser than the deployment's P14D (recently_purchased)",
      "guardrails.stockMaxAge: P1D is looser than the deployment's PT6H (stock_unknown)",
      "guardrails.sensitiveCategories: none is looser than the deployment's health,baby,adult (sensitive_category)",
    ]);
  });
});

describe('the guardrails schema', () => {
  const problem = (value: unknown) => {
    const parsed = campaignGuardrailsSchema.safeParse(value);
    return parsed.success ? undefined : parsed.error.issues[0]?.message;
  };

  it('accepts the documented example', () => {
    expect(problem({ caps: { push: '1/P1D' }, quietHours: '20:00-09:00', holdFor: 'PT6H' })).toBeUndefined();
  });

  it('refuses text its parsers refuse, and unknown or repeated names', () => {
    expect(problem({ caps: { push: '1/day' } })).toMatch(/count\/duration for push/);
    expect(problem({ caps: { web: '1/P1D' } })).toBeDefined();
    expect(problem({ quietHours: '21:00-21:00' })).toMatch(/must not start where it ends/);
    expect(problem({ quietHours: '9pm-8am' })).toMatch(/HH:MM-HH:MM/);
    expect(problem({ returnBlock: 'P1M' })).toMatch(/weeks to seconds/);
    expect(problem({ stockMaxAge: 'P401D' })).toMatch(/at most 400 days/);
    expect(problem({ holdFor: 'P31D' })).toMatch(/30 days/);
    expect(problem({ loosen: ['quiet_hours', 'quiet_hours'] })).toMatch(/must not repeat/);
    expect(problem({ loosen: ['no_consent'] })).toBeDefined();
    expect(problem({ signalMaxAge: 'P1D' })).toBeDefined();
  });
});

describe('what the offers carry and what the campaign shows', () => {
  it('only the rules the campaign changed, caps as the deployment caps with its scopes replaced', () => {
    expect(guardrailOverrides(undefined, DEPLOYMENT)).toEqual({});
    expect(
      guardrailOverrides(
        guardrails({ caps: { push: '1/P1D' }, quietHours: '20:00-09:00', holdFor: 'PT6H' }),
        DEPLOYMENT,
      ),
    ).toEqual({
      caps: [
        { scope: 'email', count: 3, windowMs: DAY },
        { scope: 'push', count: 1, windowMs: DAY },
        { scope: 'any', count: 10, windowMs: 7 * DAY },
      ],
      quietHours: { startMin: 20 * 60, endMin: 9 * 60 },
    });
    expect(
      guardrailOverrides(
        guardrails({
          caps: { any: 'off' },
          quietHours: 'off',
          returnBlock: 'P60D',
          purchaseBlock: 'P1D',
          stockMaxAge: 'PT1H',
          sensitiveCategories: ['health'],
          loosen: ['frequency_cap', 'quiet_hours', 'recently_purchased', 'sensitive_category'],
        }),
        DEPLOYMENT,
      ),
    ).toEqual({
      caps: [
        { scope: 'email', count: 3, windowMs: DAY },
        { scope: 'push', count: 3, windowMs: DAY },
      ],
      quietHours: null,
      returnBlockMs: 60 * DAY,
      purchaseBlockMs: DAY,
      stockMaxAgeMs: HOUR,
      sensitiveCategories: ['health'],
    });
  });

  it('a change the deployment has since tightened past gives way to the deployment, unless loosened', () => {
    const stricter: GuardrailRules = {
      ...DEPLOYMENT,
      returnBlockMs: 90 * DAY,
      quietHours: window('19:00-10:00'),
    };
    const campaign = guardrails({ returnBlock: 'P60D', quietHours: '20:00-09:00' });
    expect(guardrailOverrides(campaign, stricter)).toEqual({});
    expect(guardrailOverrides({ ...campaign, loosen: ['recently_returned'] }, stricter)).toEqual({
      returnBlockMs: 60 * DAY,
    });
  });

  it('the effective rules, every one as text', () => {
    expect(effectiveGuardrails(undefined, DEPLOYMENT)).toEqual({
      caps: { email: '3/P1D', push: '3/P1D', any: '10/P7D' },
      quietHours: '21:00-08:00',
      returnBlock: 'P30D',
      purchaseBlock: 'P14D',
      stockMaxAge: 'PT6H',
      signalMaxAge: 'P30D',
      sensitiveCategories: ['health', 'baby', 'adult'],
      changed: [],
      loosen: [],
    });
    expect(
      effectiveGuardrails(
        guardrails({
          caps: { push: '1/P1D', any: 'off' },
          quietHours: 'off',
          loosen: ['frequency_cap', 'quiet_hours'],
        }),
        DEPLOYMENT,
      ),
    ).toMatchObject({
      caps: { email: '3/P1D', push: '1/P1D', any: 'off' },
      quietHours: 'off',
      changed: ['caps.push', 'caps.any', 'quietHours'],
      loosen: ['frequency_cap', 'quiet_hours'],
    });
    expect(effectiveGuardrails(undefined, GUARDRAILS_OFF)).toMatchObject({
      caps: { email: 'off', push: 'off', any: 'off' },
      quietHours: 'off',
      returnBlock: 'off',
      purchaseBlock: 'off',
      sensitiveCategories: [],
    });
  });
});

describe('holdFor, at the top or in guardrails', () => {
  it('either alone, or both when they are the same length', () => {
    expect(holdForConflict({ holdFor: 'PT6H' })).toBeUndefined();
    expect(holdForConflict({ guardrails: { holdFor: 'PT6H' } })).toBeUndefined();
    expect(holdForConflict({ holdFor: 'PT6H', guardrails: { holdFor: 'PT360M' } })).toBeUndefined();
    expect(holdForConflict({ holdFor: 'PT6H', guardrails: { holdFor: 'PT7H' } })).toBe(
      'guardrails.holdFor (PT7H) and holdFor (PT6H) differ: give one of them',
    );
  });
});
