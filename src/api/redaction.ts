/**
 * Log paths that may hold personal data or secrets; pino replaces them before a line is written.
 * Request logs carry no bodies or query strings (see app.ts), so these guard errors and bindings.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'email',
  'pushEndpoint',
  'name',
  'token',
  'sig',
  '*.email',
  '*.pushEndpoint',
  '*.name',
  '*.token',
  '*.sig',
  '*.authorization',
  'err.details',
] as const;
