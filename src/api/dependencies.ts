import type { Redis } from 'ioredis';
import type { CaptureInbox } from '../channels/capture-inbox.ts';
import type { LinkSigner } from '../delivery/links.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Queues } from '../queue/queues.ts';

/**
 * What the routes of the HTTP API are given. Each route plugin takes only the part it uses (a
 * `Pick` of this type), so that what a resource can reach is written at its top; the caller
 * owns and closes the connections.
 */
export interface ApiDependencies {
  readonly ledger: Ledger;
  /** The connection the ledger uses; erasure reaches a customer's queued jobs through it. */
  readonly redis: Redis;
  readonly links: LinkSigner;
  readonly metrics: Metrics;
  /** Queues: campaigns schedule on them; the dashboard and queue-depth metrics show them. */
  readonly queues: Queues;
  /** The demo's captured emails and pushes, readable by admins; absent outside the demo. */
  readonly inbox?: CaptureInbox;
}
