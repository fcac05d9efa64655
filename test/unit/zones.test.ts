import { describe, expect, it } from 'vitest';
import { quietWindowEnd, zoneOffsets } from '../../src/ledger/zones.ts';

const at = (iso: string) => Date.parse(iso);
const DAY_MS = 86_400_000;
/** 21:00-08:00, crossing midnight. */
const NIGHT = { startMin: 21 * 60, endMin: 8 * 60 };

/** The window's end as an ISO instant (or undefined) for `zone` at `iso`. */
function windowEnd(zone: string, iso: string, rule = NIGHT): string | undefined {
  const now = at(iso);
  const end = quietWindowEnd(rule, zoneOffsets(zone, now), now);
  return end === undefined ? undefined : new Date(end).toISOString();
}

describe('zoneOffsets', () => {
  it('covers a day before to two days after the instant, starting at the range', () => {
    const around = at('2026-06-15T10:42:17Z');
    for (const zone of ['UTC', 'Europe/Paris', 'Asia/Kathmandu', 'Australia/Lord_Howe']) {
      const [first] = zoneOffsets(zone, around);
      expect(first?.[0]).toBeLessThanOrEqual(around - DAY_MS);
      expect(first?.[0]).toBeGreaterThan(around - DAY_MS - 3_600_000);
    }
    expect(zoneOffsets('UTC', around)).toEqual([[at('2026-06-14T10:00:00Z'), 0]]);
  });

  it('steps at New York spring-forward and fall-back, to the second', () => {
    expect(zoneOffsets('America/New_York', at('2026-03-08T04:00:00Z'))).toEqual([
      [at('2026-03-07T04:00:00Z'), -300],
      [at('2026-03-08T07:00:00Z'), -240],
    ]);
    expect(zoneOffsets('America/New_York', at('2026-11-01T03:00:00Z'))).toEqual([
      [at('2026-10-31T03:00:00Z'), -240],
      [at('2026-11-01T06:00:00Z'), -300],
    ]);
  });

  it('steps at Paris spring-forward and fall-back', () => {
    expect(zoneOffsets('Europe/Paris', at('2026-03-28T22:00:00Z'))).toEqual([
      [at('2026-03-27T22:00:00Z'), 60],
      [at('2026-03-29T01:00:00Z'), 120],
    ]);
    expect(zoneOffsets('Europe/Paris', at('2026-10-24T21:00:00Z'))).toEqual([
      [at('2026-10-23T21:00:00Z'), 120],
      [at('2026-10-25T01:00:00Z'), 60],
    ]);
  });

  it('keeps Kathmandu at +05:45 and finds Lord Howe’s 30-minute change on the half hour', () => {
    expect(zoneOffsets('Asia/Kathmandu', at('2026-12-01T16:00:00Z'))).toEqual([
      [at('2026-11-30T16:00:00Z'), 345],
    ]);
    expect(zoneOffsets('Australia/Lord_Howe', at('2026-04-04T12:00:00Z'))).toEqual([
      [at('2026-04-03T12:00:00Z'), 660],
      [at('2026-04-04T15:00:00Z'), 630],
    ]);
    expect(zoneOffsets('Australia/Lord_Howe', at('2026-10-03T12:00:00Z'))).toEqual([
      [at('2026-10-02T12:00:00Z'), 630],
      [at('2026-10-03T15:30:00Z'), 660],
    ]);
  });

  it('gives every caller steps of its own (the cached ones stay intact)', () => {
    const around = at('2026-03-08T04:00:00Z');
    const steps = zoneOffsets('America/New_York', around);
    steps.length = 0;
    expect(zoneOffsets('America/New_York', around + 60_000)).toHaveLength(2);
  });

  it('refuses a zone the runtime does not know', () => {
    expect(() => zoneOffsets('Mars/Olympus_Mons', 0)).toThrow(RangeError);
  });
});

describe('quietWindowEnd', () => {
  it('ends a New York night at 08:00 of the new offset across spring-forward and fall-back', () => {
    // 23:00 EST on 7 March; 08:00 the next morning is EDT (UTC-4).
    expect(windowEnd('America/New_York', '2026-03-08T04:00:00Z')).toBe('2026-03-08T12:00:00.000Z');
    // 23:00 EDT on 31 October; 08:00 the next morning is EST (UTC-5).
    expect(windowEnd('America/New_York', '2026-11-01T03:00:00Z')).toBe('2026-11-01T13:00:00.000Z');
  });

  it('ends a Paris night at 08:00 of the new offset across spring-forward and fall-back', () => {
    expect(windowEnd('Europe/Paris', '2026-03-28T22:00:00Z')).toBe('2026-03-29T06:00:00.000Z');
    expect(windowEnd('Europe/Paris', '2026-10-24T21:00:00Z')).toBe('2026-10-25T07:00:00.000Z');
  });

  it('reads Kathmandu at +05:45', () => {
    // 21:45 local.
    expect(windowEnd('Asia/Kathmandu', '2026-12-01T16:00:00Z')).toBe('2026-12-02T02:15:00.000Z');
    // 20:59 local: before the window.
    expect(windowEnd('Asia/Kathmandu', '2026-12-01T15:14:00Z')).toBeUndefined();
  });

  it('ends a Lord Howe night on the half-hour offset after the clocks go back 30 minutes', () => {
    // 22:00 at +11:00 on 4 April; 08:00 on 5 April is at +10:30.
    expect(windowEnd('Australia/Lord_Howe', '2026-04-04T11:00:00Z')).toBe('2026-04-04T21:30:00.000Z');
    // 22:00 at +10:30 on 3 October; 08:00 on 4 October is at +11:00.
    expect(windowEnd('Australia/Lord_Howe', '2026-10-03T11:30:00Z')).toBe('2026-10-03T21:00:00.000Z');
  });

  it('holds from exactly the start of a window crossing midnight, and not at exactly its end', () => {
    expect(windowEnd('UTC', '2026-12-01T21:00:00Z')).toBe('2026-12-02T08:00:00.000Z');
    expect(windowEnd('UTC', '2026-12-01T20:59:59Z')).toBeUndefined();
    expect(windowEnd('UTC', '2026-12-02T00:30:00Z')).toBe('2026-12-02T08:00:00.000Z');
    expect(windowEnd('UTC', '2026-12-02T07:59:59Z')).toBe('2026-12-02T08:00:00.000Z');
    expect(windowEnd('UTC', '2026-12-02T08:00:00Z')).toBeUndefined();
    expect(windowEnd('UTC', '2026-12-02T12:00:00Z')).toBeUndefined();
  });

  it('holds inside a window within one day, from exactly its start, and not at exactly its end', () => {
    const noon = { startMin: 12 * 60, endMin: 14 * 60 };
    expect(windowEnd('UTC', '2026-12-01T12:00:00Z', noon)).toBe('2026-12-01T14:00:00.000Z');
    expect(windowEnd('UTC', '2026-12-01T13:30:00Z', noon)).toBe('2026-12-01T14:00:00.000Z');
    expect(windowEnd('UTC', '2026-12-01T11:59:59Z', noon)).toBeUndefined();
    expect(windowEnd('UTC', '2026-12-01T14:00:00Z', noon)).toBeUndefined();
    expect(windowEnd('UTC', '2026-12-01T23:00:00Z', noon)).toBeUndefined();
    expect(windowEnd('Europe/Paris', '2026-12-01T12:00:00Z', noon)).toBe('2026-12-01T13:00:00.000Z');
  });

  it('ends at the jump when the clocks skip the end, and at the first reading when they repeat it', () => {
    // 22:00-02:30 in New York: 02:30 does not exist on 8 March, 03:00 EDT follows 01:59:59 EST.
    const toHalfPastTwo = { startMin: 22 * 60, endMin: 2 * 60 + 30 };
    expect(windowEnd('America/New_York', '2026-03-08T04:00:00Z', toHalfPastTwo)).toBe(
      '2026-03-08T07:00:00.000Z',
    );
    // 22:00-01:30: 01:30 is read twice on 1 November, first at UTC-4.
    const toHalfPastOne = { startMin: 22 * 60, endMin: 90 };
    expect(windowEnd('America/New_York', '2026-11-01T03:00:00Z', toHalfPastOne)).toBe(
      '2026-11-01T05:30:00.000Z',
    );
  });
});
