import fc from 'fast-check';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAuthenticator } from '../../src/api/auth.ts';
import { bannerValidator, slotQuery, storedCustomerParams } from '../../src/api/routes/customers.ts';
import { stringTest } from '../../src/api/validation.ts';
import { customerIdSchema, slotSchema, storedCustomerIdSchema } from '../../src/ledger/index.ts';
import { iso } from '../../src/support/views.ts';

const RUNS = Number(process.env['API_FUZZ_RUNS'] ?? 2000);

describe('iso', () => {
  it('writes what toISOString writes', () => {
    const day = 86_400_000;
    const edges = [0, 1, 999, day - 1, day, 951_782_400_000, 1_767_225_599_999, 253_402_300_799_999];
    for (const ms of edges) expect(iso(ms)).toBe(new Date(ms).toISOString());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        expect(iso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: RUNS },
    );
  });

  it('leaves unusual instants to toISOString', () => {
    for (const ms of [-1, -62_198_755_200_000, 253_402_300_800_000, 8.64e15, 1.5]) {
      expect(iso(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => iso(Number.NaN)).toThrow(RangeError);
  });
});

describe('stringTest', () => {
  it('agrees with the schemas of the banner read', () => {
    for (const schema of [customerIdSchema, storedCustomerIdSchema, slotSchema]) {
      const test = stringTest(schema);
      expect(test).toBeDefined();
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 140 }), fc.stringMatching(/^[a-z0-9][a-z0-9_.:@+-]{0,40}\n?$/)),
          (value) => {
            expect(test?.(value)).toBe(schema.safeParse(value).success);
          },
        ),
        { numRuns: RUNS },
      );
    }
  });

  it('refuses any schema that does more than regular expressions', () => {
    expect(stringTest(z.string().regex(/^a+$/).max(3))).toBeUndefined();
    expect(
      stringTest(
        z
          .string()
          .regex(/^a+$/)
          .refine((value) => value !== 'aa'),
      ),
    ).toBeUndefined();
    expect(stringTest(z.coerce.string().regex(/^a+$/))).toBeUndefined();
    expect(stringTest(z.number())).toBeUndefined();
    expect(stringTest(z.email())).toBeUndefined();
    expect(stringTest(z.uuid())).toBeUndefined();
    expect(stringTest(z.iso.datetime())).toBeUndefined();
    expect(stringTest(z.string().trim().regex(/^a+$/))).toBeUndefined();
    expect(stringTest(z.string().startsWith('a'))).toBeUndefined();
    expect(stringTest(z.string().regex(/^a+$/).optional())).toBeUndefined();
    expect(stringTest(z.string({ error: 'text' }).regex(/^a+$/))?.('b')).toBe(false);
    expect(stringTest(z.string().regex(/^a+$/g))?.('aa')).toBe(true);
  });
});

describe('the banner validator', () => {
  const route = (httpPart: string, schema: z.ZodType) => ({
    schema,
    method: 'GET',
    url: '/v1/customers/:customerId/offers/current',
    httpPart,
  });
  const parts = [
    {
      part: 'params',
      // The banner reads customers stored by earlier versions too (ids with `@`).
      schema: storedCustomerParams,
      key: 'customerId',
      valid: /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/,
    },
    { part: 'querystring', schema: slotQuery, key: 'slot', valid: /^[a-z0-9][a-z0-9_-]{0,31}$/ },
  ] as const;

  it('answers exactly what zod answers, for valid and invalid input', () => {
    for (const { part, schema, key, valid } of parts) {
      const fast = bannerValidator(route(part, schema));
      const slow = validatorCompiler(route(part, schema));
      const text = fc.oneof(fc.stringMatching(valid), fc.string({ maxLength: 140 }));
      const value = fc.oneof(text, fc.array(text, { maxLength: 2 }), fc.integer(), fc.constant(undefined));
      const input = fc.oneof(
        fc.record({ [key]: value }, { requiredKeys: [] }),
        fc.dictionary(fc.oneof(fc.constant(key), fc.string({ maxLength: 5 })), value, { maxKeys: 3 }),
        fc.constantFrom(null, [], 'x', Object.assign(Object.create(null) as object, { [key]: 'abc' })),
      );
      fc.assert(
        fc.property(input, (data) => {
          expect(fast(data)).toEqual(slow(data));
        }),
        { numRuns: RUNS },
      );
    }
  });
});

describe('the authenticator', () => {
  const keys = [
    { role: 'web', key: 'web-key-0123456789abcdef' },
    { role: 'admin', key: 'admin-key-0123456789abcdef' },
  ] as const;
  const request = (authorization: string | undefined, roles: readonly string[] | undefined) =>
    ({
      headers: authorization === undefined ? {} : { authorization },
      routeOptions: { config: roles === undefined ? {} : { roles } },
    }) as unknown as FastifyRequest;
  const run = (auth: ReturnType<typeof createAuthenticator>, req: FastifyRequest) => {
    let outcome: Error | undefined | 'pending' = 'pending';
    auth.hook(req, {} as FastifyReply, (error?: Error) => {
      outcome = error;
    });
    return outcome;
  };

  it('identifies a repeated header the same way, and enforces roles on every request', () => {
    const auth = createAuthenticator(keys, 'unit-test-signing-secret-0123456789abcdef');
    for (let i = 0; i < 3; i++) {
      const web = request('Bearer web-key-0123456789abcdef', ['web']);
      expect(run(auth, web)).toBeUndefined();
      expect(web.caller).toMatchObject({ role: 'web' });
      const refused = request('Bearer web-key-0123456789abcdef', ['admin']);
      expect(run(auth, refused)).toMatchObject({ code: 'forbidden' });
      expect(run(auth, request('bearer web-key-0123456789abcdef', ['web']))).toBeUndefined();
      expect(run(auth, request('Bearer web-key-0123456789abcdef ', ['web']))).toMatchObject({
        code: 'unauthorized',
      });
      expect(run(auth, request(undefined, ['web']))).toMatchObject({ code: 'unauthorized' });
    }
    expect(run(auth, request(undefined, undefined))).toBeUndefined();
    expect(auth.remembered).toBe(2);
  });

  it('remembers nothing of keys that do not match, and stays bounded', () => {
    const auth = createAuthenticator(keys, 'unit-test-signing-secret-0123456789abcdef');
    for (let i = 0; i < 2000; i++) {
      expect(run(auth, request(`Bearer guess-${i}`, ['web']))).toMatchObject({ code: 'unauthorized' });
    }
    expect(auth.remembered).toBe(0);
    // Every letter case of the scheme is a valid spelling: 64 per key.
    for (const { key } of keys) {
      for (let mask = 0; mask < 64; mask++) {
        const scheme = ['b', 'e', 'a', 'r', 'e', 'r']
          .map((c, i) => ((mask >> i) & 1 ? c.toUpperCase() : c))
          .join('');
        expect(run(auth, request(`${scheme} ${key}`, ['web', 'admin']))).toBeUndefined();
      }
    }
    expect(auth.remembered).toBeLessThanOrEqual(256);
    expect(auth.remembered).toBe(128);
  });
});
