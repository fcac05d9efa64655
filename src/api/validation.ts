import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

/** The parts of a request a route schema validates. */
type HttpPart = 'params' | 'querystring' | 'headers' | 'body';

/**
 * A check that recognises input the route's schema certainly accepts and answers the value the
 * schema would produce, or `undefined` when it cannot tell (then the schema decides).
 */
export type FastCheck = (data: unknown) => object | undefined;

/**
 * The zod validator compiler with a cheap first pass, for a route read so often that parsing
 * with zod shows in its profile: where a part's {@link FastCheck} recognises the input, its value
 * is used as is; anything else is parsed by the schema, so every refusal carries exactly the
 * issues the schema gives (the same 400 as any other route).
 */
export function fastValidatorCompiler(
  checks: Partial<Record<HttpPart, FastCheck | undefined>>,
): FastifySchemaCompiler<unknown> {
  return (route) => {
    // Fastify compiles each part on its own: `route.schema` is that part's zod schema.
    const parse = validatorCompiler(route as Parameters<typeof validatorCompiler>[0]);
    const fast = route.httpPart === undefined ? undefined : checks[route.httpPart as HttpPart];
    if (fast === undefined) return parse;
    return (data: unknown) => {
      const value = fast(data);
      return value === undefined ? parse(data) : { value };
    };
  };
}

const PLAIN_STRING_KEYS = new Set(['type', 'checks', 'error']);

/**
 * A test equivalent to a zod string schema whose only checks are regular expressions, or
 * `undefined` for any other schema (coercion, length checks, refinements…), so that a change to
 * the schema can only turn the fast path off, never make it accept what the schema refuses.
 */
export function stringTest(schema: z.ZodType): ((value: string) => boolean) | undefined {
  const def = schema._zod.def;
  // A plain `z.string()`: string formats (`z.email()`…) carry their check in the definition
  // itself, coercion a flag; both make the schema more than its `checks`.
  if (def.type !== 'string' || Object.keys(def).some((key) => !PLAIN_STRING_KEYS.has(key))) return undefined;
  const patterns: RegExp[] = [];
  for (const check of def.checks ?? []) {
    const checkDef = check._zod.def as { check: string; format?: string; pattern?: unknown; when?: unknown };
    if (
      checkDef.check !== 'string_format' ||
      checkDef.format !== 'regex' ||
      !(checkDef.pattern instanceof RegExp) ||
      checkDef.when !== undefined
    ) {
      return undefined;
    }
    // Without the stateful flags, `test` answers the same on every call.
    patterns.push(new RegExp(checkDef.pattern.source, checkDef.pattern.flags.replace(/[gy]/g, '')));
  }
  return (value) => patterns.every((pattern) => pattern.test(value));
}

/**
 * How many keys `for…in` yields (the keys a zod strict object looks at), or `undefined` when the
 * input is not an object a zod object schema would take.
 */
export function keyCount(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  let count = 0;
  for (const _key in data) count++;
  return count;
}
