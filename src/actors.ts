/**
 * Actor strings, as histories and campaigns record who did something, and the principal (the
 * person or system) behind each: four-eyes approval compares principals, so one person holding
 * two keys, or a key and a shell account, is still one person.
 *
 * - `api:<role>:<keyId>:<principal>` — an API key configured as `role:principal:key`
 * - `api:<role>:<keyId>` — a key without a principal: it is its own principal
 * - `cli:<user>` — the command line (`CONCORD_ACTOR` or the OS user): the user is the principal,
 *   the same namespace as API principals
 * - anything else (`campaign:<id>`, `event:<source>`, `customer`) is its own principal
 */

/** A principal's name: what `CONCORD_API_KEYS` and `CONCORD_ACTOR` may give (no `:`, no `@`). */
export const PRINCIPAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The actor string of an API caller; never the key itself. */
export function apiActor(caller: { role: string; keyId: string; principal?: string | undefined }): string {
  return caller.principal === undefined
    ? `api:${caller.role}:${caller.keyId}`
    : `api:${caller.role}:${caller.keyId}:${caller.principal}`;
}

/** Who is behind an actor string, for four-eyes. */
export function principalOf(actor: string): string {
  const api = /^api:[a-z]+:([0-9a-f]+)(?::(.+))?$/.exec(actor);
  if (api) return api[2] ?? `key:${api[1] ?? ''}`;
  const cli = /^cli:(.+)$/.exec(actor);
  if (cli?.[1] !== undefined) return cli[1];
  return actor;
}
