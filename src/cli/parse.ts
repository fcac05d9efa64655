import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';

/**
 * Argument parsers for commander: each returns the parsed value or throws InvalidArgumentError,
 * which commander reports as one line naming the option (exit code 2).
 */

/** A comma-separated list whose every item `schema` accepts, without repeats. */
export function listOf<T extends string>(schema: z.ZodType<T>, what: string) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${what}`);
    const parsed = items.map((item) => {
      const result = schema.safeParse(item);
      if (!result.success) throw new InvalidArgumentError(`${JSON.stringify(item)} is not one of ${what}`);
      return result.data;
    });
    if (new Set(parsed).size !== parsed.length) throw new InvalidArgumentError(`${what} must not repeat`);
    return parsed;
  };
}

/** A finite number (decimals allowed). */
export function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError('expected a number');
  return parsed;
}

/** An integer in [min, max]. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return parsed;
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 instant with a zone (`2026-12-01T09:00:00Z`), as epoch milliseconds. */
export function isoInstant(value: string): number {
  const ms = Date.parse(value);
  if (!ISO_INSTANT.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('expected an ISO-8601 instant with a zone, e.g. 2026-12-01T09:00:00Z');
  }
  return ms;
}

/** An ISO-8601 duration (`P7D`, `PT36H`, `P1W`, `P1M2DT3H`). */
export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function isoDuration(value: string): IsoDuration {
  const match = ISO_DURATION.exec(value);
  if (!match || value === 'P' || value.endsWith('T')) {
    throw new InvalidArgumentError('expected an ISO-8601 duration, e.g. P7D or PT12H');
  }
  const part = (index: number) => Number(match[index] ?? 0);
  const duration = {
    years: part(1),
    months: part(2),
    weeks: part(3),
    days: part(4),
    hours: part(5),
    minutes: part(6),
    seconds: part(7),
  };
  if (Object.values(duration).every((part) => part === 0)) {
    throw new InvalidArgumentError('expected a duration longer than zero');
  }
  return duration;
}

/** `start` plus the duration; years and months are calendar units (UTC), the rest fixed lengths. */
export function addDuration(start: number, duration: IsoDuration): number {
  const date = new Date(start);
  if (duration.years !== 0 || duration.months !== 0) {
    date.setUTCMonth(date.getUTCMonth() + duration.years * 12 + duration.months);
  }
  return (
    date.getTime() +
    ((duration.weeks * 7 + duration.days) * 86_400 + duration.hours * 3_600 + duration.minutes * 60) * 1000 +
    Math.round(duration.seconds * 1000)
  );
}

/** `{ [name]: value }` when value is defined, else `{}` (exactOptionalPropertyTypes). */
export function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
