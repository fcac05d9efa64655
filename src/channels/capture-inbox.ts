/** The channels a capture stands in for: the demo's mail server and push provider. */
export const CAPTURED_CHANNELS = ['email', 'push'] as const;

/** One message the demo's built-in capture received instead of a real provider. */
export interface CapturedMessage {
  readonly channel: (typeof CAPTURED_CHANNELS)[number];
  readonly at: string;
  readonly to: string;
  readonly offerId?: string;
  readonly kind?: string;
  readonly subject?: string;
  readonly text?: string;
  readonly html?: string;
}

/**
 * The demo's capture inbox (email and push): what the captures received, newest last. The demo
 * fills it; the command line hands it to the API, which shows it to admins.
 */
export interface CaptureInbox {
  messages(): readonly CapturedMessage[];
}
