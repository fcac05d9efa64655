import { describe, expect, it } from 'vitest';
import { LedgerKeys, TRANSITION_KEYS } from '../../src/ledger/keys.ts';
import { SCRIPT_TABLE, type ScriptName } from '../../src/ledger/script-table.ts';
import { loadScripts } from '../../src/ledger/scripts.ts';

const keys = new LedgerKeys({ prefix: 't', partitions: 16 });

/** What each script's keys are built from, for a sample call. */
const SCOPES: Record<ScriptName, string | number | undefined> = {
  issueOffer: 'c1',
  cancelOffer: 'c1',
  redeemOffer: 'c1',
  activateOffer: 'c1',
  expireOffer: 'c1',
  claimDelivery: 'c1',
  confirmDelivery: 'c1',
  holdDelivery: 'c1',
  expireLease: 'c1',
  resolveDelivery: 'c1',
  beginRetraction: 'c1',
  confirmRetraction: 'c1',
  upsertProfile: 'c1',
  eraseCustomer: 'c1',
  readOffers: 'c1',
  readLiveDocument: 'c1',
  recordEvent: 'c1',
  recordStock: undefined,
  advanceWatermark: undefined,
  updateCampaign: 'k1',
  indexCampaign: undefined,
  eraseCampaignMember: 'k1',
  ensureOutboxGroup: 3,
  ackOutbox: 3,
  pruneOutboxConsumers: 3,
};

describe('the script table', () => {
  it('has a row for every Lua file and a Lua file for every row', () => {
    expect([...loadScripts().keys()].sort()).toEqual(Object.keys(SCRIPT_TABLE).sort());
  });

  it("builds as many keys for each script as its file's name says, all under one hash tag", () => {
    for (const script of loadScripts().values()) {
      const build = SCRIPT_TABLE[script.name].keys as (keys: LedgerKeys, scope: unknown) => readonly string[];
      const built = build(keys, SCOPES[script.name]);
      expect(built, script.name).toHaveLength(script.numberOfKeys);
      expect(new Set(built.map((key) => /\{[^}]*\}/.exec(key)?.[0])).size, script.name).toBe(1);
    }
  });

  it('names the transition keys in Lua in the order the key builder passes them', () => {
    const built = keys.transitionKeys('c1');
    const customer = keys.customer('c1');
    expect(built).toEqual(TRANSITION_KEYS.map((name) => customer[name]));
    const claim = loadScripts().get('claimDelivery')!;
    const table = /local C = \{ ([^}]*) \}/.exec(claim.lua)?.[1];
    const named = table?.split(', ').map((field) => field.split(' = '));
    expect(named).toEqual(TRANSITION_KEYS.map((name, index) => [name, `KEYS[${index + 1}]`]));
    for (const script of loadScripts().values()) {
      expect(script.lua, script.name).not.toMatch(/^--@(include|transitionKeys) /m);
      if (script.lua.includes('local C = {')) {
        expect(script.numberOfKeys, script.name).toBeGreaterThanOrEqual(TRANSITION_KEYS.length);
      }
    }
  });
});
