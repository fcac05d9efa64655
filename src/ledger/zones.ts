/**
 * A customer's UTC offsets around an instant, as a step function the claim script can read
 * without a time-zone database, and the end of a quiet-hours window computed from it the way the
 * script computes it. Pure: the instant is always given, never read from the machine's clock.
 */
import type { QuietHoursRule } from '../config/guardrails.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The offset in force from `fromMs` (epoch milliseconds) until the next pair's `fromMs`, in minutes
 * east of UTC (Asia/Kathmandu: 345).
 */
export type OffsetStep = [fromMs: number, offsetMinutes: number];

/** A small map that forgets the entry written longest ago once it is full. */
function boundedMemo<V>(capacity: number, compute: (key: string) => V): (key: string) => V {
  const entries = new Map<string, V>();
  return (key) => {
    const known = entries.get(key);
    if (known !== undefined) return known;
    const value = compute(key);
    if (entries.size >= capacity) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(key, value);
    return value;
  };
}

// Building a DateTimeFormat costs far more than formatting with one, so one is kept per zone.
const wallClock = boundedMemo(
  512,
  (timeZone) =>
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }),
);

/** The zone's offset at `atMs` in whole minutes (offsets with seconds predate 1980 everywhere). */
function offsetAt(timeZone: string, atMs: number): number {
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of wallClock(timeZone).formatToParts(atMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const wall = new Date(0);
  wall.setUTCFullYear(fields.year ?? 1970, (fields.month ?? 1) - 1, fields.day ?? 1);
  wall.setUTCHours(fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0, 0);
  // The wall clock shows whole seconds: compare it with the instant cut to its second.
  return Math.round((wall.getTime() - Math.floor(atMs / 1000) * 1000) / MINUTE_MS);
}

/**
 * The first whole second after `beforeMs` at which the offset is no longer `before`: zones change
 * on whole seconds, so the bisection ends on the exact instant.
 */
function transitionBetween(timeZone: string, beforeMs: number, afterMs: number, before: number): number {
  let low = beforeMs;
  let high = afterMs;
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (offsetAt(timeZone, middle) === before) low = middle;
    else high = middle;
  }
  return high;
}

const offsetSteps = boundedMemo(1024, (key) => {
  const separator = key.lastIndexOf('|');
  const timeZone = key.slice(0, separator);
  const hourStart = Number(key.slice(separator + 1)) * HOUR_MS;
  // Every instant of the hour gets the same steps, so they cover the whole hour's range.
  const start = hourStart - DAY_MS;
  const end = hourStart + HOUR_MS + 2 * DAY_MS;
  let previous = offsetAt(timeZone, start);
  const steps: OffsetStep[] = [[start, previous]];
  // Hourly samples: no zone has changed its offset twice within an hour.
  for (let sample = start + HOUR_MS; sample <= end; sample += HOUR_MS) {
    const offset = offsetAt(timeZone, sample);
    if (offset !== previous) {
      const from = transitionBetween(timeZone, sample - HOUR_MS, sample, previous);
      steps.push([from, offsetAt(timeZone, from)]);
      // Were the offset to change twice within the hour, the second change starts at the sample:
      // late, but never lost.
      if (steps[steps.length - 1]?.[1] !== offset) steps.push([sample, offset]);
      previous = offset;
    }
  }
  return steps;
});

/**
 * The zone's UTC offset as a step function covering at least `aroundMs` - 1 day to `aroundMs` +
 * 2 days: the first step starts the range, each further one starts at a change of offset (a DST
 * transition) to the exact second. Computed once per zone and hour of `aroundMs`. Throws a
 * RangeError for a zone this runtime does not know (profiles only hold known zones).
 */
export function zoneOffsets(timeZone: string, aroundMs: number): OffsetStep[] {
  const steps = offsetSteps(`${timeZone}|${Math.floor(aroundMs / HOUR_MS)}`);
  // The cached steps are shared by every caller; each gets its own copy to keep.
  return steps.map(([fromMs, offsetMinutes]) => [fromMs, offsetMinutes]);
}

/** The index of the step in force at `atMs` (the first one for an instant before them all). */
function stepIndexAt(offsets: readonly OffsetStep[], atMs: number): number {
  let index = 0;
  while (index + 1 < offsets.length && (offsets[index + 1]?.[0] ?? Infinity) <= atMs) index += 1;
  return index;
}

/** Milliseconds since the local midnight. */
function sinceMidnight(localMs: number): number {
  return ((localMs % DAY_MS) + DAY_MS) % DAY_MS;
}

/**
 * Where `nowMs` falls against a quiet-hours window in a zone given by its offsets (see
 * {@link zoneOffsets}): undefined when the local time is outside `startMin` (inclusive) to
 * `endMin` (exclusive), a window that crosses midnight when `startMin > endMin`; else the first
 * instant after `nowMs` at which the local clock reads `endMin` or later on the day the window
 * ends. Across a DST change during the night that is the offset then in force; an end the clocks
 * skip over (a spring-forward gap) ends the window at the jump; an end the clocks read twice
 * (fall-back) ends it at the first reading. The claim script computes the same.
 */
export function quietWindowEnd(
  rule: QuietHoursRule,
  offsets: readonly OffsetStep[],
  nowMs: number,
): number | undefined {
  const first = offsets[0];
  if (first === undefined) return undefined;
  const nowIndex = stepIndexAt(offsets, nowMs);
  const nowLocal = nowMs + (offsets[nowIndex]?.[1] ?? first[1]) * MINUTE_MS;
  const minute = Math.floor(sinceMidnight(nowLocal) / MINUTE_MS);
  const crossesMidnight = rule.startMin > rule.endMin;
  const inside = crossesMidnight
    ? minute >= rule.startMin || minute < rule.endMin
    : minute >= rule.startMin && minute < rule.endMin;
  if (!inside) return undefined;
  // Before midnight in a window that crosses it, the window ends tomorrow (local).
  const endsTomorrow = crossesMidnight && minute >= rule.startMin;
  const localDayStart = nowLocal - sinceMidnight(nowLocal);
  const endLocal = localDayStart + (endsTomorrow ? DAY_MS : 0) + rule.endMin * MINUTE_MS;
  // The first step, from now on, whose local time reaches the end before the next step begins;
  // the last step lasts forever, so it always does.
  let index = nowIndex;
  for (; index + 1 < offsets.length; index += 1) {
    const [fromMs, offsetMinutes] = offsets[index] ?? first;
    const candidate = Math.max(fromMs, nowMs, endLocal - offsetMinutes * MINUTE_MS);
    if (candidate < (offsets[index + 1]?.[0] ?? Infinity)) return candidate;
  }
  const [lastFromMs, lastOffset] = offsets[index] ?? first;
  return Math.max(lastFromMs, nowMs, endLocal - lastOffset * MINUTE_MS);
}
