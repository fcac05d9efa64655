import { z } from 'zod';
import { ConcordError } from '../../errors.ts';
import { defaultTemplates, type TemplateRenderer } from '../templates.ts';
import type { MessageChannel, SendContext, SendOutcome } from '../types.ts';
import {
  outcomeForNetworkError,
  outcomeForResponse,
  pushIdempotencyKey,
  pushPayload,
  readBody,
  type PushKind,
  type PushPayload,
} from './shared.ts';

/** One push for the HTTP provider: the JSON body and the idempotency key it is sent under. */
export interface RenderedPush {
  readonly idempotencyKey: string;
  readonly payload: PushPayload;
}

/** What the HTTP push channel needs. */
export interface HttpPushChannelOptions {
  /** The provider endpoint (`PUSH_URL`). */
  readonly url: string;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
  /** The most one request may take, answer body included. */
  readonly timeoutMs: number;
  readonly templates?: TemplateRenderer;
}

const urlSchema = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
const acceptedSchema = z.looseObject({ id: z.string().min(1).max(200) });

/**
 * The push channel over the HTTP provider at `PUSH_URL` (docs/API.md, "Push provider requests"):
 * one JSON POST per push under the `Idempotency-Key` `<offerId>:push:<version>`, so a resend after
 * a timeout or a lost answer is stored once. `send` and `retract` never throw: 2xx and 409 are
 * sent; 429 and 5xx transient (with Retry-After as `retryAfterMs`); other 4xx permanent
 * `push_<status>` (the answer's text is not kept); no answer at all is transient. `retract` sends
 * `kind: "retract"` under the same collapse key. `PUSH_URL` is the operator's; a customer's `to`
 * is only ever data in the body.
 */
export function createHttpPushChannel(options: HttpPushChannelOptions): MessageChannel<RenderedPush> {
  const endpoint = urlSchema.safeParse(options.url);
  if (!endpoint.success) {
    throw new ConcordError(
      'invalid_config',
      `PUSH_URL: ${endpoint.error.issues[0]?.message ?? 'invalid URL'}`,
    );
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new ConcordError('invalid_config', 'push timeoutMs must be a positive number');
  }
  const url = endpoint.data;
  const doFetch = options.fetch ?? globalThis.fetch;
  const templates = options.templates ?? defaultTemplates();

  const renderKind = (context: SendContext, kind: PushKind): RenderedPush => {
    const to = context.recipient.address.trim();
    if (to === '') throw new ConcordError('invalid_input', 'push recipient has no address');
    return {
      idempotencyKey: pushIdempotencyKey(context.offer, kind),
      payload: pushPayload(context, kind, to, templates),
    };
  };

  const post = async (rendered: RenderedPush): Promise<SendOutcome> => {
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': rendered.idempotencyKey,
        },
        body: JSON.stringify(rendered.payload),
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const outcome = outcomeForResponse(
        { status: response.status, retryAfter: response.headers.get('retry-after') },
        { prefix: 'push' },
      );
      if (outcome.status !== 'sent') {
        await response.body?.cancel().catch(() => undefined);
        return outcome;
      }
      const providerRef = providerId(await readBody(response));
      return providerRef === undefined ? outcome : { status: 'sent', providerRef };
    } catch (error) {
      return outcomeForNetworkError(error, 'push');
    }
  };

  return {
    name: 'push',
    render: (context) => renderKind(context, 'offer'),
    send: post,
    retract: async (context) => {
      let rendered: RenderedPush;
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

/** The provider's id for the push, when its answer is JSON with an `id`. */
function providerId(body: string): string | undefined {
  if (body === '') return undefined;
  try {
    const parsed = acceptedSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.id : undefined;
  } catch {
    return undefined;
  }
}
