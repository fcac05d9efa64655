import { z } from 'zod';
import { boundedText, categorySchema, type Channel } from './schemas.ts';

/** Why a consent change was not applied (see lua/includes/consent.lua). */
export const consentRefusalSchema = z.enum(['older_than_last_change', 'customer_unsubscribed']);
export type ConsentRefusal = z.infer<typeof consentRefusalSchema>;

/** Consent for one channel, with when and from where it was last changed. */
export const consentRecordSchema = z
  .object({
    granted: z.boolean(),
    /** When it was decided: the event's own time, or the ledger clock for a direct change. */
    at: z.number(),
    source: z.string(),
    /** When the ledger wrote it; absent in records written before it was kept. */
    recordedAt: z.number().optional(),
    /** The customer's own one-click unsubscribe, which only the customer lifts. */
    byCustomer: z.boolean().optional(),
    /** Earlier event records: `at` was the write, `eventAt` the decision. */
    eventAt: z.number().optional(),
  })
  .transform(({ granted, at, source, recordedAt, byCustomer, eventAt }) => ({
    granted,
    at: recordedAt === undefined ? (eventAt ?? at) : at,
    source,
    recordedAt: recordedAt ?? at,
    byCustomer: byCustomer ?? (recordedAt === undefined && !granted && source === 'one-click-unsubscribe'),
  }));
export type ConsentRecord = z.infer<typeof consentRecordSchema>;

/** An IANA time zone this runtime knows (`Europe/Paris`). */
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'expected an IANA time zone');

/**
 * A Web Push endpoint: an https URL (no credentials) of at most 1024 characters. It is the one
 * URL a customer's data makes Concord connect to, so the channel checks it again at send time
 * (public address, port 443, `CONCORD_PUSH_HOSTS`).
 */
export const webPushEndpointSchema = z
  .url({ protocol: /^https$/, hostname: z.regexes.hostname, error: 'expected an https:// URL' })
  .max(1024)
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'expected a URL without credentials');

/** A browser's PushSubscription as JSON (what a Web Push recipient's address holds); other keys are dropped. */
export const webPushSubscriptionSchema = z.object({
  endpoint: webPushEndpointSchema,
  keys: z.object({ p256dh: z.string().min(1).max(200), auth: z.string().min(1).max(200) }),
});

/**
 * A profile's push address: a PushSubscription as JSON for Web Push (anything starting with `{`
 * must be one, with an https endpoint), else an opaque device token the HTTP provider receives
 * as `to` — data in a request body, never a URL Concord connects to.
 */
export const pushEndpointSchema = z
  .string()
  .min(1)
  .max(2048)
  .refine(
    // JSON's own whitespace (tab, line feed, carriage return) may stay; other control characters may not.
    (value) => !/\p{Cc}/u.test(value.replace(/[\t\n\r]/g, '')),
    'expected no control characters',
  )
  .superRefine((value, ctx) => {
    if (!value.trimStart().startsWith('{')) return;
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a PushSubscription as JSON' });
      return;
    }
    const parsed = webPushSubscriptionSchema.safeParse(json);
    for (const issue of parsed.error?.issues ?? []) {
      ctx.addIssue({ code: 'custom', message: `PushSubscription ${issue.path.join('.')}: ${issue.message}` });
    }
  });

/** A profile as a use case writes it (every field optional: an upsert). */
export const profilePatchSchema = z.strictObject({
  email: z.email().max(254).optional(),
  pushEndpoint: pushEndpointSchema.optional(),
  timezone: timeZoneSchema.optional(),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a BCP 47 language tag')
    .optional(),
  name: boundedText(200).optional(),
  attributes: z
    .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean()]))
    .optional(),
  consent: z
    .strictObject({
      email: z.boolean().optional(),
      push: z.boolean().optional(),
      web: z.boolean().optional(),
    })
    .optional(),
  sensitiveOptIns: z.array(categorySchema).max(100).optional(),
});
export type ProfilePatch = z.input<typeof profilePatchSchema>;

/** A profile as the ledger stores it. */
export interface Profile {
  customerId: string;
  email?: string;
  pushEndpoint?: string;
  timezone?: string;
  locale?: string;
  name?: string;
  attributes: Record<string, string | number | boolean>;
  consent: Partial<Record<Channel, ConsentRecord>>;
  sensitiveOptIns: string[];
  createdAt?: number;
  updatedAt?: number;
}
