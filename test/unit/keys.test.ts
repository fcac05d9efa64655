import { describe, expect, it } from 'vitest';
import { LedgerKeys, fnv1a32 } from '../../src/ledger/index.ts';

const hashTag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

describe('LedgerKeys', () => {
  const keys = new LedgerKeys({ prefix: 'concord', partitions: 16 });

  it('hashes with FNV-1a 32 (reference vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('puts every key of a customer and its partition under one hash tag', () => {
    for (const customerId of ['c-1', 'c-1001', 'ana@example.com', 'ü-kunde']) {
      const tags = new Set(keys.transitionKeys(customerId).map(hashTag));
      expect(tags).toEqual(new Set([`p${keys.label(keys.partitionOf(customerId))}`]));
    }
  });

  it('spreads customers over every partition', () => {
    const used = new Set(Array.from({ length: 2000 }, (_, i) => keys.partitionOf(`c-${i}`)));
    expect(used.size).toBe(16);
  });

  it('names the partition in offer ids and reads it back', () => {
    const id = keys.offerIdFor('c-1001', '01J0000000000000000000000A');
    expect(id).toMatch(/^o\d{2}-01J0000000000000000000000A$/);
    expect(keys.partitionOfOffer(id)).toBe(keys.partitionOf('c-1001'));
  });

  it('refuses offer ids this deployment cannot own', () => {
    expect(() => keys.partitionOfOffer('o99-01J0000000000000000000000A')).toThrow(/no offer/);
    expect(() => keys.partitionOfOffer('o007-01J0000000000000000000000A')).toThrow(/no offer/);
    expect(() => keys.partitionOfOffer('nonsense')).toThrow(/no offer/);
  });

  it('pads labels to the partition count', () => {
    const wide = new LedgerKeys({ prefix: 'x', partitions: 1000 });
    expect(wide.tag(7)).toBe('{p007}');
    expect(keys.tag(7)).toBe('{p07}');
  });

  it('rejects layouts that would break the hash tag', () => {
    expect(() => new LedgerKeys({ prefix: 'a{b}', partitions: 16 })).toThrow(/prefix/);
    expect(() => new LedgerKeys({ prefix: 'a', partitions: 0 })).toThrow(/partitions/);
  });
});
