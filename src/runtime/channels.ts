/** The channels a deployment sends through, built from its environment. */
import {
  createEmailChannel,
  createHttpPushChannel,
  createSmtpTransport,
  createWebPushChannel,
} from '../channels/index.ts';
import type { MessageChannel } from '../channels/types.ts';
import { requireSetting, type Env } from '../config/env.ts';
import type { QueuedChannel } from '../ledger/index.ts';
import { publicUrl } from './links.ts';

/** The queued channels a worker process sends through, by name. */
export type ChannelSet = Partial<Record<QueuedChannel, MessageChannel<unknown>>>;

/** The most one push request may take, and the part of it the connection (lookup, TCP, TLS) may take. */
const PUSH_TIMEOUT_MS = 5_000;
const PUSH_CONNECT_TIMEOUT_MS = 3_000;

/**
 * Email through SMTP_URL, and push through Web Push when the VAPID keys are set, else through the
 * HTTP provider at PUSH_URL. Throws `invalid_config` naming the setting that is missing.
 */
export function channelsFromEnv(env: Env): ChannelSet {
  const email = createEmailChannel({
    transport: createSmtpTransport(requireSetting(env, 'SMTP_URL')),
    from: env.EMAIL_FROM,
    messageIdDomain: env.EMAIL_FROM.split('@')[1] ?? new URL(publicUrl(env)).hostname,
  });
  const push =
    env.VAPID_PUBLIC_KEY && env.VAPID_PRIVATE_KEY && env.VAPID_SUBJECT
      ? createWebPushChannel({
          vapid: {
            subject: env.VAPID_SUBJECT,
            publicKey: env.VAPID_PUBLIC_KEY,
            privateKey: env.VAPID_PRIVATE_KEY,
          },
          // Short: a hanging endpoint must not hold a worker slot for long.
          timeoutMs: PUSH_TIMEOUT_MS,
          connectTimeoutMs: PUSH_CONNECT_TIMEOUT_MS,
          allowedHosts: env.CONCORD_PUSH_HOSTS,
        })
      : createHttpPushChannel({ url: requireSetting(env, 'PUSH_URL'), timeoutMs: PUSH_TIMEOUT_MS });
  return { email, push };
}
