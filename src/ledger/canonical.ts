import { createHash } from 'node:crypto';

/** The record with its keys in one order, so equal records serialize alike. */
export function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** A stable digest of a value, whatever the order of its objects' fields. */
export function fingerprint(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, (_key, inner: unknown) => (isPlainObject(inner) ? sortKeys(inner) : inner)))
    .digest('base64url')
    .slice(0, 22);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A flat Redis field list (`[field, value, field, value, …]`) as a record. */
export function fieldRecord(
  fields: readonly string[],
  into: Record<string, string> = {},
): Record<string, string> {
  for (let i = 0; i + 1 < fields.length; i += 2) into[fields[i] ?? ''] = fields[i + 1] ?? '';
  return into;
}
