import { createHash } from 'node:crypto';
import webpush from 'web-push';
import { z } from 'zod';
import { ConcordError } from '../../errors.ts';
import { defaultTemplates, type TemplateRenderer } from '../templates.ts';
import type { MessageChannel, SendContext, SendOutcome } from '../types.ts';
import {
  collapseKey,
  outcomeForNetworkError,
  outcomeForResponse,
  pushPayload,
  readBody,
  type PushKind,
  type PushPayload,
} from './shared.ts';

/** A browser's PushSubscription as JSON (what `recipient.address` holds for Web Push); other keys are dropped. */
export const pushSubscriptionSchema = z.object({
  endpoint: z.url({ protocol: /^https?$/ }),
  keys: z.object({ p256dh: z.string().min(1), auth: z.string().min(1) }),
});
/** A parsed PushSubscription: endpoint and the browser's keys. */
export type PushSubscriptionJson = z.infer<typeof pushSubscriptionSchema>;

/** One Web Push message before encryption: where it goes and what the service is told. */
export interface RenderedWebPush {
  readonly subscription: PushSubscriptionJson;
  /** The same fields the HTTP provider receives; encrypted (aes128gcm) for the browser. */
  readonly payload: PushPayload;
  /** The `Topic`: replaces an undelivered message under the same collapse key. */
  readonly topic: string;
  /** Seconds the push service may hold the message: at most the offer's remaining validity. */
  readonly ttlSeconds: number;
}

/** The VAPID identity of the application server (RFC 8292). */
export interface VapidDetails {
  /** `mailto:` or `https:` contact of the sender. */
  readonly subject: string;
  /** URL-safe base64, uncompressed P-256 point (65 bytes). */
  readonly publicKey: string;
  /** URL-safe base64, 32 bytes. */
  readonly privateKey: string;
}

/** What the Web Push channel needs. */
export interface WebPushChannelOptions {
  readonly vapid: VapidDetails;
  /** The most one request may take, answer body included. */
  readonly timeoutMs: number;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
  /** The clock the TTL is counted from (default: `Date.now`). */
  readonly now?: () => number;
  readonly templates?: TemplateRenderer;
}

/** The longest TTL push services honour (four weeks). */
const MAX_TTL_SECONDS = 28 * 24 * 3600;

/**
 * A Web Push topic for a collapse key: push services allow at most 32 URL-safe base64
 * characters, so the key is hashed (SHA-256, first 24 bytes); the same key gives the same topic.
 */
export function webPushTopic(key: string): string {
  return createHash('sha256').update(key).digest().subarray(0, 24).toString('base64url');
}

/**
 * The push channel over Web Push (VAPID, RFC 8030/8291/8292), behind the same interface as the
 * HTTP provider. `recipient.address` must be a PushSubscription as JSON, else `render` throws
 * `invalid_input`. The payload is encrypted with aes128gcm by `web-push`; the request is sent
 * with fetch, so `timeoutMs` bounds the whole exchange. `send` and `retract` never throw:
 * 2xx sent; 404 and 410 permanent `subscription_gone`; 429 and 5xx transient (Retry-After as
 * `retryAfterMs`); other statuses permanent with the service's reason; no answer transient.
 */
export function createWebPushChannel(options: WebPushChannelOptions): MessageChannel<RenderedWebPush> {
  const vapidDetails = { ...options.vapid };
  try {
    // Validates subject and keys once, here, rather than on every send.
    webpush.getVapidHeaders(
      'https://push.example',
      vapidDetails.subject,
      vapidDetails.publicKey,
      vapidDetails.privateKey,
      'aes128gcm',
    );
  } catch (error) {
    throw new ConcordError('invalid_config', `VAPID: ${error instanceof Error ? error.message : 'invalid'}`);
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new ConcordError('invalid_config', 'push timeoutMs must be a positive number');
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const templates = options.templates ?? defaultTemplates();

  const renderKind = (context: SendContext, kind: PushKind): RenderedWebPush => {
    const subscription = parseSubscription(context.recipient.address);
    const remainingSeconds = Math.floor((context.offer.validUntil - now()) / 1000);
    return {
      subscription,
      payload: pushPayload(context, kind, subscription.endpoint, templates),
      topic: webPushTopic(collapseKey(context.offer)),
      // A retraction must outlive the offer it replaces on a device that is offline for now.
      ttlSeconds:
        kind === 'retract' ? MAX_TTL_SECONDS : Math.min(MAX_TTL_SECONDS, Math.max(0, remainingSeconds)),
    };
  };

  const post = async (rendered: RenderedWebPush): Promise<SendOutcome> => {
    let request: { endpoint: string; headers: Record<string, string>; body: Buffer | null };
    try {
      const details = webpush.generateRequestDetails(
        rendered.subscription,
        JSON.stringify(rendered.payload),
        {
          vapidDetails,
          TTL: rendered.ttlSeconds,
          topic: rendered.topic,
          contentEncoding: 'aes128gcm',
          urgency: 'normal',
        },
      );
      const headers: Record<string, string> = {};
      // Typed as strings, but web-push sets TTL and Content-Length as numbers; fetch sets
      // Content-Length from the body itself.
      for (const [name, value] of Object.entries(details.headers as Record<string, string | number>)) {
        if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
      }
      request = { endpoint: details.endpoint, headers, body: details.body };
    } catch (error) {
      return {
        status: 'permanent',
        reason: `webpush_invalid: ${error instanceof Error ? error.message : 'error'}`,
      };
    }
    try {
      const response = await doFetch(request.endpoint, {
        method: 'POST',
        headers: request.headers,
        ...(request.body === null ? {} : { body: new Uint8Array(request.body) }),
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const body = await readBody(response);
      const outcome = outcomeForResponse(
        { status: response.status, retryAfter: response.headers.get('retry-after'), body },
        { prefix: 'webpush', gone: [404, 410] },
      );
      // A push service answers 201 with the message's URL in Location (RFC 8030 §5).
      const location = response.headers.get('location');
      return outcome.status === 'sent' && location !== null
        ? { status: 'sent', providerRef: location }
        : outcome;
    } catch (error) {
      return outcomeForNetworkError(error, 'webpush');
    }
  };

  return {
    name: 'push',
    render: (context) => renderKind(context, 'offer'),
    send: post,
    retract: async (context) => {
      let rendered: RenderedWebPush;
      try {
        rendered = renderKind(context, 'retract');
      } catch (error) {
        return {
          status: 'permanent',
          reason: `render_failed: ${error instanceof Error ? error.message : 'error'}`,
        };
      }
      return post(rendered);
    },
    close: () => Promise.resolve(),
  };
}

function parseSubscription(address: string): PushSubscriptionJson {
  let json: unknown;
  try {
    json = JSON.parse(address);
  } catch {
    throw new ConcordError('invalid_input', 'push recipient is not a PushSubscription (not JSON)');
  }
  const parsed = pushSubscriptionSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConcordError(
      'invalid_input',
      `push recipient is not a PushSubscription: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}
