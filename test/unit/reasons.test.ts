import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BANNER_MISS_REASONS,
  CLAIM_HOLD_REASONS,
  ENDED_OFFER_STATES,
  OFFER_STATES,
  UNCERTAIN_HOLD_REASONS,
  consentRefusalSchema,
  historyEntrySchema,
  offerRecordSchema,
  reasonCodeSchema,
} from '../../src/ledger/index.ts';
import {
  claimReplySchema,
  deliveryReplySchema,
  liveReplySchema,
  retractionStartSchema,
} from '../../src/ledger/replies.ts';
import { reasonsIn, type FoundReason } from '../support/lua-reasons.ts';

const LUA = new URL('../../src/ledger/lua/', import.meta.url);
/** Campaign scripts write a campaign's log and answer, not an offer's or a delivery's reason. */
const CAMPAIGN_SCRIPTS = new Set(['updateCampaign-3.lua', 'eraseCampaignMember-3.lua']);

function luaSources(): { file: string; source: string }[] {
  const files = [
    ...readdirSync(LUA).filter((name) => name.endsWith('.lua')),
    ...readdirSync(new URL('includes/', LUA)).map((name) => `includes/${name}`),
  ];
  return files.map((file) => ({ file, source: readFileSync(new URL(file, LUA), 'utf8') }));
}

/** What a `*` in a found value may stand for: the values the scripts join to a prefix. */
const FILLERS = [
  ...ENDED_OFFER_STATES,
  ...CLAIM_HOLD_REASONS,
  'lease_nearly_over',
  'skipped',
  'transient',
  'smtp_451',
  'o07-01J0000000000000000000000A',
];

/** The found values no reason code matches (a `*` matching when some filler makes a code). */
function unknownReasons(found: readonly FoundReason[]): string[] {
  return found
    .filter(({ value }) => value !== '*')
    .filter(({ value }) => {
      const candidates = value.includes('*') ? FILLERS.map((fill) => value.replaceAll('*', fill)) : [value];
      return !candidates.some((candidate) => reasonCodeSchema.safeParse(candidate).success);
    })
    .map(({ file, value }) => `${file}: ${value}`);
}

describe('the reason codes the Lua scripts write', () => {
  const found = luaSources()
    .filter(({ file }) => !CAMPAIGN_SCRIPTS.has(file))
    .flatMap(({ file, source }) => reasonsIn(file, source));

  it('are all in the TypeScript unions', () => {
    expect(unknownReasons(found)).toEqual([]);
  });

  it('are found: the scan reads every kind of place a reason is written', () => {
    const values = new Set(found.map(({ value }) => value));
    for (const expected of [
      'unknown_offer', // skip()
      'not_yet_valid', // hold()
      'in_flight', // reason = … in a reply
      'too_little_validity_left', // skipDelivery()
      'lease_expired', // setDelivery()
      'provider_refused', // req.reason or …
      'retry:transient',
      'offer_*',
      'held_past_deadline:*',
      'uncertain:*',
      'replaced_by:*', // finish()
      'no_address',
      'validity_ended', // endOffer()
      'cancelled', // endOnRequest()
      'purchased',
      'published', // d.reason = …
      'resolved_by_support', // local why = …
    ]) {
      expect(values, expected).toContain(expected);
    }
  });

  it('a reason the unions do not know is reported', () => {
    const source = `
      if x then return skip('made_up') end
      setDelivery(offer, channel, now, actor, 'failed', req.reason or 'also_made_up', nil, detail)
      record(now, { action = 'retracted', reason = 'nope_' .. id })
      return skip(d.state == 'sent' and 'already_sent' or ('delivery_' .. d.state))`;
    expect(unknownReasons(reasonsIn('test.lua', source)).sort()).toEqual([
      'test.lua: also_made_up',
      'test.lua: made_up',
      'test.lua: nope_*',
    ]);
  });

  it('uncertain holds are the ones the claim script gives up as uncertain', () => {
    const delivery = readFileSync(new URL('includes/delivery.lua', LUA), 'utf8');
    const table = /local UNCERTAIN = \{([^}]*)\}/.exec(delivery)?.[1] ?? '';
    const names = [...table.matchAll(/(\w+) = true/g)].map((match) => match[1]);
    expect(names.sort()).toEqual([...UNCERTAIN_HOLD_REASONS].sort());
  });

  it('consent refusals are the ones consent.lua decides', () => {
    const consent = readFileSync(new URL('includes/consent.lua', LUA), 'utf8');
    const returned = [...consent.matchAll(/return '(\w+)'/g)].map((match) => match[1]);
    const refusals = returned.filter((value) => value !== 'apply' && value !== 'unchanged');
    expect([...new Set(refusals)].sort()).toEqual([...consentRefusalSchema.options].sort());
  });

  it('ended offer states are offer states', () => {
    expect(OFFER_STATES).toEqual(expect.arrayContaining([...ENDED_OFFER_STATES]));
  });
});

describe('script replies', () => {
  it('a claim, a retraction start or a banner read with an unknown reason fails to parse', () => {
    expect(claimReplySchema.safeParse({ answer: 'skip', reason: 'no_consent', now: 1 }).success).toBe(true);
    expect(claimReplySchema.safeParse({ answer: 'skip', reason: 'made_up', now: 1 }).success).toBe(false);
    expect(
      claimReplySchema.safeParse({ answer: 'hold', reason: 'quiet_hours', retryAt: 2, now: 1 }).success,
    ).toBe(true);
    expect(
      claimReplySchema.safeParse({ answer: 'hold', reason: 'lease_nearly_over', retryAt: 2, now: 1 }).success,
    ).toBe(false);
    expect(retractionStartSchema.safeParse({ answer: 'failed', reason: 'no_address', now: 1 }).success).toBe(
      true,
    );
    expect(retractionStartSchema.safeParse({ answer: 'failed', reason: 'gone', now: 1 }).success).toBe(false);
    for (const reason of BANNER_MISS_REASONS) {
      expect(liveReplySchema.safeParse({ reason, now: 1 }).success).toBe(true);
    }
    expect(liveReplySchema.safeParse({ reason: 'hidden', now: 1 }).success).toBe(false);
  });

  it('a delivery summary, a stored offer and history still read any text earlier versions stored', () => {
    const old = '550 ada@example.com: mailbox full';
    const summary = { state: 'failed', reason: old, attempts: 1 };
    expect(deliveryReplySchema.parse({ result: 'stale', delivery: summary, now: 1 })).toMatchObject({
      delivery: { reason: old },
    });
    expect(
      historyEntrySchema.parse({ id: '1-0', at: '1', actor: 'a', action: 'cancelled', reason: old }),
    ).toMatchObject({ reason: old });
    expect(offerRecordSchema.shape.endReason.parse(old)).toBe(old);
    expect(offerRecordSchema.shape.deliveries.parse({ email: summary })).toMatchObject({ email: summary });
  });
});
