import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';
import { isoInstantMsSchema, parseIsoDuration, type IsoDuration } from '../time.ts';

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

/** An ISO-8601 instant with a zone (`2026-12-01T09:00:00Z`), as epoch milliseconds. */
export function isoInstant(value: string): number {
  const parsed = isoInstantMsSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidArgumentError('expected an ISO-8601 instant with a zone, e.g. 2026-12-01T09:00:00Z');
  }
  return parsed.data;
}

/** An ISO-8601 duration longer than zero (`P7D`, `PT36H`, `P1W`, `P1M2DT3H`). */
export function isoDuration(value: string): IsoDuration {
  const duration = parseIsoDuration(value);
  if (!duration)
    throw new InvalidArgumentError('expected an ISO-8601 duration longer than zero, e.g. P7D or PT12H');
  return duration;
}

/** `{ [name]: value }` when value is defined, else `{}` (exactOptionalPropertyTypes). */
export function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
