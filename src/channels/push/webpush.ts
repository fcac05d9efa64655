import { createHash } from 'node:crypto';
import webpush from 'web-push';
import type { z } from 'zod';
import { ConcordError } from '../../errors.ts';
import { webPushSubscriptionSchema } from '../../ledger/index.ts';
import { defaultTemplates, type TemplateRenderer } from '../templates.ts';
import type { MessageChannel, SendContext, SendOutcome } from '../types.ts';
import { checkEndpoint, systemResolve, type CheckedEndpoint, type Resolve } from './endpoint-policy.ts';
import { pinnedRequest, RequestTimeoutError } from './pinned-request.ts';
import {
  collapseKey,
  outcomeForNetworkError,
  outcomeForResponse,
  pushPayload,
  type PushKind,
  type PushPayload,
} from './shared.ts';

/** A browser's PushSubscription as JSON (what `recipient.address` holds for Web Push); other keys are dropped. */
export const pushSubscriptionSchema = webPushSubscriptionSchema;
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
  /** The most one request may take, from the host lookup to the answer's headers. */
  readonly timeoutMs: number;
  /** The most the lookup, the TCP connection and the TLS handshake may take (default: 3 s, at most `timeoutMs`). */
  readonly connectTimeoutMs?: number;
  /** `CONCORD_PUSH_HOSTS`: only these push-service hosts and their subdomains (default: any public host). */
  readonly allowedHosts?: readonly string[] | undefined;
  /** How host names are resolved (default: the system resolver). */
  readonly resolve?: Resolve;
  /** The clock the TTL is counted from (default: `Date.now`). */
  readonly now?: () => number;
  readonly templates?: TemplateRenderer;
  /**
   * UNSAFE, tests only — production wiring never sets it, and no setting of the environment
   * does: lets the channel post to loopback addresses on any port and trust `ca` (the test push
   * service's self-signed certificate) besides the system's roots. Private, link-local and
   * metadata addresses stay refused even then.
   */
  readonly unsafeLoopbackForTests?: { readonly ca: string };
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
 * `invalid_input`. The payload is encrypted with aes128gcm by `web-push`.
 *
 * The endpoint is a URL the customer's browser chose, so before each request the channel checks
 * it (https, port 443, on `allowedHosts` when set), resolves its host and refuses — without
 * connecting — when any address is loopback, private, link-local, metadata or otherwise not
 * public (`webpush_endpoint_refused`, `webpush_host_not_allowed`); it then connects to that
 * checked address only (see `pinned-request.ts`). `send` and `retract` never throw: 2xx sent;
 * 404 and 410 permanent `subscription_gone`; 429 and 5xx transient (Retry-After as
 * `retryAfterMs`); other statuses permanent `webpush_<status>`; no answer transient. Only the
 * status is kept of an answer, never its text.
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
  const connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 3_000, options.timeoutMs);
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new ConcordError('invalid_config', 'push connectTimeoutMs must be a positive number');
  }
  const policy = {
    allowedHosts: options.allowedHosts,
    allowLoopback: options.unsafeLoopbackForTests !== undefined,
  };
  const resolve = options.resolve ?? systemResolve;
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
      // Typed as strings, but web-push sets TTL and Content-Length as numbers; the request sets
      // Content-Length from the body itself.
      for (const [name, value] of Object.entries(details.headers as Record<string, string | number>)) {
        if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
      }
      request = { endpoint: details.endpoint, headers, body: details.body };
    } catch {
      return { status: 'permanent', reason: 'webpush_invalid' };
    }
    try {
      const startedAt = Date.now();
      const target = await withDeadline(
        checkEndpoint(request.endpoint, policy, resolve),
        connectTimeoutMs,
        'push service host did not resolve in time',
      );
      if (typeof target === 'string') return { status: 'permanent', reason: target };
      const left = Math.max(1, options.timeoutMs - (Date.now() - startedAt));
      const response = await pinnedRequest({
        endpoint: target,
        headers: request.headers,
        body: request.body,
        connectTimeoutMs: Math.min(connectTimeoutMs, left),
        timeoutMs: left,
        extraCa: options.unsafeLoopbackForTests?.ca,
      });
      const outcome = outcomeForResponse(
        { status: response.status, retryAfter: response.retryAfter },
        { prefix: 'webpush', gone: [404, 410] },
      );
      // A push service answers 201 with the message's URL in Location (RFC 8030 §5); kept only
      // when it is that: an https URL on the endpoint's own origin.
      const providerRef = messageUrl(response.location, target);
      return outcome.status === 'sent' && providerRef !== undefined
        ? { status: 'sent', providerRef }
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
      } catch {
        return { status: 'permanent', reason: 'render_failed' };
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

/** The Location of an accepted push when it is a message URL on the endpoint's origin (≤ 500 characters). */
function messageUrl(location: string | null, target: CheckedEndpoint): string | undefined {
  if (location === null || location.length > 500) return undefined;
  try {
    const url = new URL(location, target.url);
    return url.origin === target.url.origin ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** `promise`, or a {@link RequestTimeoutError} once `ms` have passed (the lookup itself has no timeout). */
async function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new RequestTimeoutError(message));
    }, ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
