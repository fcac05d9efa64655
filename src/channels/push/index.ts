export { createHttpPushChannel } from './http.ts';
export { pushPayload } from './shared.ts';
export { createWebPushChannel } from './webpush.ts';
