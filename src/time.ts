import { z } from 'zod';

/** An ISO 8601 instant with a zone offset (`2026-12-01T09:00:00Z`), as the API and the CLI take it. */
export const isoInstantSchema = z.iso.datetime({
  offset: true,
  error: 'expected an ISO 8601 time with an offset, e.g. 2026-12-01T09:00:00Z',
});

/** The same, read as epoch milliseconds. */
export const isoInstantMsSchema = isoInstantSchema.transform((value) => Date.parse(value));

/** An ISO 8601 duration (`P7D`, `PT36H`, `P1W`, `P1M2DT3H`), by its parts. */
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

/** The parts of an ISO 8601 duration longer than zero, or undefined for anything else. */
export function parseIsoDuration(text: string): IsoDuration | undefined {
  const match = ISO_DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
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
  return Object.values(duration).every((value) => value === 0) ? undefined : duration;
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
