import nodemailer, { type SMTPPoolOptions, type Transporter } from 'nodemailer';
import { z } from 'zod';
import { ConcordError } from '../../errors.ts';

/** Connection limits and timeouts of the pooled SMTP transport; every field has a default. */
export interface SmtpTransportOptions {
  /** Concurrent SMTP connections (default 5). */
  readonly maxConnections?: number;
  /** Messages per connection before it is replaced (default 100). */
  readonly maxMessages?: number;
  /** TCP connect, greeting and TLS setup together (default 10 s). */
  readonly connectionTimeoutMs?: number;
  /** Waiting for the server's greeting (default 10 s). */
  readonly greetingTimeoutMs?: number;
  /** Inactivity on an open connection, including waiting for a reply (default 60 s). */
  readonly socketTimeoutMs?: number;
  /** DNS lookups (default 10 s). */
  readonly dnsTimeoutMs?: number;
}

const smtpUrlSchema = z.url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' });

/**
 * A pooled nodemailer transport for `smtp://` or `smtps://` URLs (credentials in the URL's user
 * info), with bounded timeouts so a silent server cannot stall a worker. The caller owns it and
 * passes it to {@link createEmailChannel}; a bad URL throws `invalid_config`.
 */
export function createSmtpTransport(smtpUrl: string, options: SmtpTransportOptions = {}): Transporter {
  const url = smtpUrlSchema.safeParse(smtpUrl);
  if (!url.success) {
    throw new ConcordError('invalid_config', `SMTP_URL: ${url.error.issues[0]?.message ?? 'invalid URL'}`);
  }
  const config: SMTPPoolOptions & { pool: true } = {
    url: url.data,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: options.maxMessages ?? 100,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    dnsTimeout: options.dnsTimeoutMs ?? 10_000,
  };
  return nodemailer.createTransport(config);
}
