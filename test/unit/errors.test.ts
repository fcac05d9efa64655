import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { errorBody, errorBodySchema, errorHandler } from '../../src/api/errors.ts';
import {
  CODES,
  codeOfForeignRefusal,
  ConcordError,
  ERROR_CODES,
  type ConcordErrorCode,
} from '../../src/errors.ts';
import { toLedgerError } from '../../src/ledger/errors.ts';

/** The statuses the API promises, written out so that changing one is a visible decision. */
const STATUS: Record<ConcordErrorCode, number> = {
  invalid_config: 500,
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  open_offer_limit: 409,
  in_the_future: 422,
  guardrail: 422,
  ledger_unavailable: 503,
  internal: 500,
};

/** A bare app with the one error handler and a route throwing whatever the test hands it. */
async function answerTo(error: Error) {
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler);
  app.get('/', async () => {
    throw error;
  });
  try {
    return await app.inject({ method: 'GET', url: '/' });
  } finally {
    await app.close();
  }
}

describe('the error table', () => {
  it('gives every code its status', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(STATUS).sort());
    for (const code of ERROR_CODES) {
      expect(new ConcordError(code, 'x').status, code).toBe(STATUS[code]);
      expect(CODES[code].status, code).toBe(STATUS[code]);
    }
  });

  it('reports a refusal raised outside Concord by the code that stands for its status', () => {
    expect(codeOfForeignRefusal(401)).toBe('unauthorized');
    expect(codeOfForeignRefusal(403)).toBe('forbidden');
    expect(codeOfForeignRefusal(404)).toBe('not_found');
    // Statuses without a code of their own, or shared by several, are the caller's input.
    for (const status of [400, 405, 406, 409, 413, 414, 415, 422, 429, 431]) {
      expect(codeOfForeignRefusal(status), String(status)).toBe('invalid_input');
    }
  });
});

describe('the error handler', () => {
  it('answers every code with its status, in the one error shape', async () => {
    for (const code of ERROR_CODES) {
      const reply = await answerTo(new ConcordError(code, `${code} happened`, { details: { at: 1 } }));
      expect(reply.statusCode, code).toBe(STATUS[code]);
      const body: unknown = reply.json();
      expect(errorBodySchema.safeParse(body).success, code).toBe(true);
      const expected =
        code === 'internal'
          ? errorBody(code, 'internal error')
          : code === 'ledger_unavailable'
            ? errorBody(code, 'the ledger is unavailable; retry later', { at: 1 })
            : errorBody(code, `${code} happened`, { at: 1 });
      expect(body, code).toEqual(expected);
      const waits = code === 'ledger_unavailable' || code === 'rate_limited';
      expect(reply.headers['retry-after'], code).toBe(waits ? '5' : undefined);
    }
  });

  it("shows an outcome-unknown message, which says how to retry, and hides other outages' messages", async () => {
    const timedOut = toLedgerError(new Error('Command timed out'));
    expect(timedOut.code).toBe('ledger_unavailable');
    expect(timedOut.outcomeUnknown).toBe(true);
    const unknown = await answerTo(timedOut);
    expect(unknown.statusCode).toBe(503);
    expect(unknown.json()).toEqual(errorBody('ledger_unavailable', timedOut.message));

    const refused = toLedgerError(new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect(refused.outcomeUnknown).toBe(false);
    const away = await answerTo(refused);
    expect(away.json()).toEqual(errorBody('ledger_unavailable', 'the ledger is unavailable; retry later'));
  });

  it('keeps the status of a 4xx raised outside Concord and hides anything else behind 500', async () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    const refused = await answerTo(tooLarge);
    expect(refused.statusCode).toBe(413);
    expect(refused.json()).toEqual(errorBody('invalid_input', 'Request body is too large'));

    const crash = await answerTo(new Error('secret internals'));
    expect(crash.statusCode).toBe(500);
    expect(crash.body).toBe(JSON.stringify(errorBody('internal', 'internal error')));
  });
});

describe('errorBody', () => {
  it('writes details only when there are some', () => {
    expect(JSON.stringify(errorBody('not_found', 'no offer x'))).toBe(
      '{"error":{"code":"not_found","message":"no offer x"}}',
    );
    expect(JSON.stringify(errorBody('conflict', 'taken', { conflicting: ['a'] }))).toBe(
      '{"error":{"code":"conflict","message":"taken","details":{"conflicting":["a"]}}}',
    );
  });
});
