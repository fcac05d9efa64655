/**
 * The closed set of error codes Concord reports, each with the one HTTP status it answers with.
 * `standsFor` marks the code a refusal raised outside Concord (by Fastify or a plugin) is
 * reported as when it carries that status; any other such 4xx is reported as `invalid_input`.
 * The command line prints the message as one line.
 */
export const CODES = {
  invalid_config: { status: 500 },
  invalid_input: { status: 400 },
  unauthorized: { status: 401, standsFor: true },
  forbidden: { status: 403, standsFor: true },
  not_found: { status: 404, standsFor: true },
  conflict: { status: 409 },
  rate_limited: { status: 429 },
  /** The customer already holds as many open offers as a deployment allows. */
  open_offer_limit: { status: 409 },
  /** An event or watermark dated further ahead of the ledger clock than a deployment allows. */
  in_the_future: { status: 422 },
  /** A guardrail refused the offer for this customer (`details.reason` names it). */
  guardrail: { status: 422 },
  ledger_unavailable: { status: 503 },
  internal: { status: 500 },
} as const satisfies Record<string, { readonly status: number; readonly standsFor?: true }>;

/** One of the closed set of error codes. */
export type ConcordErrorCode = keyof typeof CODES;

/** Every error code, in the order of {@link CODES}. */
export const ERROR_CODES = Object.keys(CODES) as [ConcordErrorCode, ...ConcordErrorCode[]];

const STANDING_FOR = new Map<number, ConcordErrorCode>(
  ERROR_CODES.flatMap((code) => {
    const entry: { readonly status: number; readonly standsFor?: true } = CODES[code];
    return entry.standsFor === true ? [[entry.status, code] as const] : [];
  }),
);

/**
 * The code reported for a 4xx refusal Concord did not raise itself (a route Fastify does not
 * know, a body it cannot parse): the code that stands for that status, or `invalid_input`.
 */
export function codeOfForeignRefusal(status: number): ConcordErrorCode {
  return STANDING_FOR.get(status) ?? 'invalid_input';
}

/** The one error class of Concord: a code from {@link CODES}, a message for people, optional details. */
export class ConcordError extends Error {
  override readonly name = 'ConcordError';
  readonly code: ConcordErrorCode;
  readonly details: unknown;
  /**
   * True when the operation may or may not have taken effect (the ledger did not answer in
   * time): the message, which tells the caller how to retry safely, is then shown to API
   * callers, where other `ledger_unavailable` messages are replaced by a generic one.
   */
  readonly outcomeUnknown: boolean;

  constructor(
    code: ConcordErrorCode,
    message: string,
    options: { cause?: unknown; details?: unknown; outcomeUnknown?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
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
