import { z } from 'zod';
import {
  isOneOf,
  MESSAGE_ERROR_CODES,
  SMTP_CONNECTION_CAUSES,
  smtpReplyCode,
  type SmtpConnectionCause,
} from '../reasons.ts';
import type { SendOutcome } from '../types.ts';

/** How far one message got before its send failed, as the email channel observed it. */
export interface SmtpProgress {
  /**
   * The message was handed to the transport (nodemailer ran its stream plugins for it). False
   * means it failed while being composed, before any connection was used for it.
   */
  readonly reachedTransport: boolean;
  /**
   * The whole message body was handed to the connection after the server accepted DATA (354).
   * From then on the server may have queued the message even if its final reply never arrived.
   */
  readonly bodySent: boolean;
}

/** The fields of a nodemailer error that classification reads; anything else is ignored. */
const nodemailerErrorSchema = z.object({
  message: z.string().catch(''),
  code: z.string().optional().catch(undefined),
  originalCode: z.string().optional().catch(undefined),
  timeoutType: z.string().optional().catch(undefined),
  command: z.string().optional().catch(undefined),
  response: z.string().optional().catch(undefined),
  responseCode: z.number().int().optional().catch(undefined),
  permanent: z.boolean().optional().catch(undefined),
});

/** The outcome of a message that was lost after its body went out: never resent by itself. */
export const CONNECTION_LOST_AFTER_DATA = 'connection_lost_after_data' as const;

/**
 * Maps a nodemailer send error to a {@link SendOutcome}:
 * - an SMTP reply 4xx → transient `smtp_<code>`; 5xx → permanent `smtp_<code>` (the reply's text
 *   is not kept: it often quotes the recipient's address)
 *   (503, "bad sequence of commands", is a session fault that nodemailer marks not permanent:
 *   transient). A reply is decisive whenever it came, before or after the body.
 * - no reply, and the body had been sent → `unknown` {@link CONNECTION_LOST_AFTER_DATA}: the
 *   server may have queued the message, so a resend could deliver it twice.
 * - no reply before the body was sent (refused, DNS, timeouts, greeting, a drop mid-envelope) →
 *   transient `smtp_connection: <cause>`, since the server cannot have accepted anything.
 * - nodemailer refusing the message itself (bad envelope, too many recipients) → permanent
 *   `message_rejected: <code>`.
 * Every reason is one of `EmailFailureReason` (reasons.ts); an unknown cause reads `other`.
 */
export function classifySmtpError(error: unknown, progress: SmtpProgress): SendOutcome {
  const parsed = nodemailerErrorSchema.safeParse(error);
  const err = parsed.success ? parsed.data : { message: String(error) };
  const code = err.responseCode;

  const reply = code === undefined ? undefined : smtpReplyCode(code);
  if (code !== undefined && reply !== undefined) {
    if (err.command?.startsWith('AUTH') === true) {
      // A refused login is the deployment's fault, not the message's: keep it retryable.
      return { status: 'transient', reason: `smtp_auth_${reply}` };
    }
    if (code < 500 || err.permanent === false) return { status: 'transient', reason: `smtp_${reply}` };
    return { status: 'permanent', reason: `smtp_${reply}` };
  }

  if (progress.bodySent) return { status: 'unknown', reason: CONNECTION_LOST_AFTER_DATA };
  if (err.code !== undefined && isOneOf(MESSAGE_ERROR_CODES, err.code)) {
    return { status: 'permanent', reason: `message_rejected: ${err.code}` };
  }
  if (!progress.reachedTransport && err.code === undefined) {
    // Composing the message threw (an input nodemailer cannot encode): permanent for this message.
    return { status: 'permanent', reason: 'message_rejected' };
  }
  return { status: 'transient', reason: `smtp_connection: ${connectionCause(err)}` };
}

/** The first of nodemailer's timeout type, original code and code that is a known cause. */
function connectionCause(err: {
  timeoutType?: string | undefined;
  originalCode?: string | undefined;
  code?: string | undefined;
}): SmtpConnectionCause {
  for (const candidate of [err.timeoutType, err.originalCode, err.code]) {
    if (candidate !== undefined && isOneOf(SMTP_CONNECTION_CAUSES, candidate)) return candidate;
  }
  return 'other';
}
