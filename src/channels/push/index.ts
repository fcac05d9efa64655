export { createHttpPushChannel, type HttpPushChannelOptions, type RenderedPush } from './http.ts';
export {
  collapseKey,
  parseRetryAfter,
  pushIdempotencyKey,
  pushPayload,
  RETRACT_TITLE,
  type PushKind,
  type PushPayload,
} from './shared.ts';
export {
  createWebPushChannel,
  pushSubscriptionSchema,
  webPushTopic,
  type PushSubscriptionJson,
  type RenderedWebPush,
  type VapidDetails,
  type WebPushChannelOptions,
} from './webpush.ts';
