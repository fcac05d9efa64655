import type { QueuedChannel } from '../ledger/index.ts';

/** The BullMQ queues Concord runs. */
export const QUEUE_NAMES = ['email', 'push', 'retract', 'timers', 'campaigns'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Deterministic job ids (BullMQ forbids `:` in custom ids). The same effect relayed twice is the
 * same job; a new attempt of a delivery (after a lost lease, or a support resend) is a new one.
 */
export const jobIds = {
  deliver: (offerId: string, channel: QueuedChannel, attempt: number) =>
    `deliver.${offerId}.${channel}.${attempt}`,
  retract: (offerId: string, channel: QueuedChannel, version: number) =>
    `retract.${offerId}.${channel}.${version}`,
  timer: (kind: 'activate' | 'expire', offerId: string, at: number) => `${kind}.${offerId}.${at}`,
  /** A one-off schedule's fire; a new schedule of the same campaign is a new job. */
  campaignFire: (campaignId: string, scheduleVersion: number) =>
    `campaign.${campaignId.replaceAll(':', '_')}.fire.${scheduleVersion}`,
  /** Going on with a run after a resume (each resume is a new job, named by its ledger time). */
  campaignContinue: (campaignId: string, run: number, at: number) =>
    `campaign.${campaignId.replaceAll(':', '_')}.run.${run}.${at}`,
  /** Ending a cancelled campaign's open offers, in the background as well as in the cancel call. */
  campaignEnd: (campaignId: string, version: number) =>
    `campaign.${campaignId.replaceAll(':', '_')}.end.${version}`,
  /** The job scheduler of a recurring (cron) schedule. */
  campaignScheduler: (campaignId: string) => `campaign.${campaignId.replaceAll(':', '_')}`,
};
