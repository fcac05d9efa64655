import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CODES, codeOfForeignRefusal, ConcordError, ERROR_CODES, type ConcordErrorCode } from '../errors.ts';

/**
 * The JSON shape of every error answer (docs/API.md): one of the error codes, a message for
 * people, and details (the zod issues of a refused request, a refusal's ledger time) when any.
 */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** An error answer, as {@link errorBody} builds it. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The codes answering with a status in `[from, to)`, as `code (status)`, in table order. */
function codesBetween(from: number, to: number): string {
  return ERROR_CODES.filter((code) => CODES[code].status >= from && CODES[code].status < to)
    .map((code) => `${code} (${CODES[code].status})`)
    .join(', ');
}

/**
 * The error answers every route declares in `schema.response` (spread beside its success
 * statuses): any 4xx or 5xx is an {@link ErrorBody}, which is what the OpenAPI document shows.
 */
export const errorResponses = {
  '4xx': errorBodySchema.describe(
    `Refused, and nothing changed: ${codesBetween(400, 500)}. A refused request's zod issues are in details; rate_limited says when to retry in Retry-After`,
  ),
  '5xx': errorBodySchema.describe(
    `${codesBetween(500, 600)}. ledger_unavailable carries Retry-After, and says how to retry when the outcome of the request is unknown`,
  ),
} as const;

/** The one builder of an error answer: `details` appears only when given. */
export function errorBody(code: ConcordErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Seconds a client should wait before retrying while the ledger is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The one error handler: a ConcordError answers with its code's status; a request that fails
 * its schema answers 400 with the zod issues; a 4xx raised by Fastify or a plugin keeps its
 * status; anything else is logged once and answers 500 without internals.
 */
export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (hasZodFastifySchemaValidationErrors(error)) {
    // The zod issues, with the part of the request first in their path.
    const context = error.validationContext ?? 'request';
    const issues = error.validation.map((issue) => ({
      ...issue.params,
      code: issue.keyword,
      path: [context, ...issue.instancePath.split('/').filter((segment) => segment !== '')],
      message: issue.message,
    }));
    const first = issues[0];
    void reply
      .code(CODES.invalid_input.status)
      .send(
        errorBody(
          'invalid_input',
          first ? `${first.path.join('.')}: ${first.message ?? 'invalid'}` : `invalid ${context}`,
          issues,
        ),
      );
    return;
  }
  if (error instanceof ConcordError) {
    setRetryAfter(reply, error);
    if (error.code === 'internal') request.log.error({ err: error }, 'internal error');
    const details = error.code === 'internal' ? undefined : publicDetails(error.details);
    void reply.code(error.status).send(errorBody(error.code, publicMessage(error), details));
    return;
  }
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    void reply.code(status).send(errorBody(codeOfForeignRefusal(status), error.message));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.code(CODES.internal.status).send(errorBody('internal', 'internal error'));
}

/** `Retry-After` for the refusals that pass: the ledger away, or a rate limit's window. */
export function setRetryAfter(reply: FastifyReply, error: ConcordError): void {
  if (error.code === 'ledger_unavailable') void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (error.code === 'rate_limited') {
    const wait = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    void reply.header('retry-after', String(typeof wait === 'number' ? wait : RETRY_AFTER_SECONDS));
  }
}

function publicMessage(error: ConcordError): string {
  if (error.code === 'internal') return 'internal error';
  if (error.code === 'ledger_unavailable') {
    // Only a caller told that its request may have taken effect needs more than "retry later".
    return error.outcomeUnknown ? error.message : 'the ledger is unavailable; retry later';
  }
  return error.message;
}

function publicDetails(details: unknown): unknown {
  if (details === null || typeof details !== 'object') return undefined;
  // The ledger time of a refusal is for the caller; causes and stack traces are not.
  return details;
}

/** Answers 404 in the error shape for any route that does not exist. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .code(CODES.not_found.status)
    .send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
}
