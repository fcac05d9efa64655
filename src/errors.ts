/**
 * The closed set of error codes Concord reports. The HTTP layer maps each code to one status;
 * the command line prints the message as one line.
 */
export const CODES = {
  invalid_config: { status: 500 },
  invalid_input: { status: 400 },
  unauthorized: { status: 401 },
  forbidden: { status: 403 },
  not_found: { status: 404 },
  conflict: { status: 409 },
  rate_limited: { status: 429 },
  /** The customer already holds as many open offers as a deployment allows. */
  open_offer_limit: { status: 409 },
  /** An event or watermark dated further ahead of the ledger clock than a deployment allows. */
  in_the_future: { status: 422 },
  ledger_unavailable: { status: 503 },
  internal: { status: 500 },
} as const;

/** One of the closed set of error codes. */
export type ConcordErrorCode = keyof typeof CODES;

/** The one error class of Concord: a code from {@link CODES}, a message for people, optional details. */
export class ConcordError extends Error {
  override readonly name = 'ConcordError';
  readonly code: ConcordErrorCode;
  readonly details: unknown;

  constructor(code: ConcordErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /** The HTTP status this error answers with. */
  get status(): number {
    return CODES[this.code].status;
  }
}

/** True when `error` is a {@link ConcordError}, optionally of the given code. */
export function isConcordError(error: unknown, code?: ConcordErrorCode): error is ConcordError {
  return error instanceof ConcordError && (code === undefined || error.code === code);
}

/**
 * `invalid_input` for a value a schema refused: the message names the first problem and where it
 * is (`offer.discount: …`), the details carry every issue.
 */
export function invalidInput(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  fallback = 'invalid',
): ConcordError {
  const issue = issues[0];
  const where = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  return new ConcordError('invalid_input', `${where}${issue?.message ?? fallback}`, { details: issues });
}
