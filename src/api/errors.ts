import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CODES, ConcordError, type ConcordErrorCode } from '../errors.ts';

/** The JSON shape of every error answer (API.md). */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Seconds a client should wait before retrying while the ledger is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

function body(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * The one error handler: a ConcordError answers with its code's status; a request that fails
 * its schema answers 400 with the zod issues; anything else is logged once and answers 500
 * without internals.
 */
export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (hasZodFastifySchemaValidationErrors(error)) {
    // The zod issues, as API.md promises, with the part of the request first in their path.
    const context = error.validationContext ?? 'request';
    const issues = error.validation.map((issue) => ({
      ...issue.params,
      code: issue.keyword,
      path: [context, ...issue.instancePath.split('/').filter((segment) => segment !== '')],
      message: issue.message,
    }));
    const first = issues[0];
    void reply
      .code(400)
      .send(
        body(
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
    void reply.code(error.status).send(body(error.code, publicMessage(error), details));
    return;
  }
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code: ConcordErrorCode =
      status === 404
        ? 'not_found'
        : status === 401
          ? 'unauthorized'
          : status === 403
            ? 'forbidden'
            : 'invalid_input';
    void reply.code(status).send(body(code, error.message));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.code(500).send(body('internal', 'internal error'));
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
    return error.message.includes('outcome is unknown')
      ? error.message
      : 'the ledger is unavailable; retry later';
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
    .send(body('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
}
