import { ConcordError } from '../errors.ts';
import { scriptErrorSchema } from './replies.ts';

/**
 * Maps what a Redis call threw to a {@link ConcordError}: a script's runtime error is a bug
 * (`internal`); anything else means the ledger could not be reached (`ledger_unavailable`), and
 * the caller must treat the outcome as not having happened unless a later read says otherwise.
 */
export function toLedgerError(error: unknown): ConcordError {
  if (error instanceof ConcordError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Replies that mean "not now" (loading, busy script, failover, out of memory) are outages, not bugs.
  if (
    error instanceof Error &&
    /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/.test(message)
  ) {
    return new ConcordError('ledger_unavailable', `the ledger cannot answer now: ${message}`, {
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'ReplyError') {
    return new ConcordError('internal', `ledger script failed: ${message}`, { cause: error });
  }
  if (/timed out/i.test(message)) {
    // The command may still run once Redis answers: the caller cannot know whether it did.
    return new ConcordError(
      'ledger_unavailable',
      'the ledger did not answer in time; the outcome is unknown: retry with the same idempotencyKey',
      { cause: error, outcomeUnknown: true },
    );
  }
  return new ConcordError('ledger_unavailable', `the ledger cannot be reached: ${message}`, { cause: error });
}

/**
 * Throws the {@link ConcordError} a script answered with, if it answered with one; afterwards the
 * reply's type no longer includes the error answer.
 */
export function throwIfScriptError<T>(reply: T): asserts reply is Exclude<T, { result: 'error' }> {
  const parsed = scriptErrorSchema.safeParse(reply);
  if (parsed.success) {
    const { code, message, details, now } = parsed.data;
    throw new ConcordError(code, message, { details: { ...details, ledgerNow: now } });
  }
}
