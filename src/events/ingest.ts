import { z } from 'zod';
import { ConcordError, isConcordError } from '../errors.ts';
import {
  customerEventSchema,
  stockEventSchema,
  type ConsentRefusal,
  type Ledger,
  type OfferEndCode,
} from '../ledger/index.ts';
import { isoInstantMsSchema } from '../time.ts';

/** The time of an event as commerce systems send it (docs/API.md, "An event"): ISO 8601 with an offset. */
const timedSchema = z.looseObject({ at: isoInstantMsSchema });

/** What became of one event of a batch. */
export type EventOutcome =
  | {
      readonly index: number;
      readonly status: 'stored';
      readonly eventId: string;
      readonly cancelled: readonly string[];
      /** A consent event that was stored but did not change consent, and why. */
      readonly consent?: ConsentRefusal;
    }
  | { readonly index: number; readonly status: 'duplicate'; readonly eventId: string }
  | {
      readonly index: number;
      readonly status: 'rejected';
      readonly reason: string;
      /** Set when the ledger refused a well-formed event (`in_the_future`: dated too far ahead). */
      readonly code?: RejectionCode;
    };

/** Why the ledger refused a well-formed event. */
export type RejectionCode = 'invalid_input' | 'in_the_future';

const parsedSchema = z.discriminatedUnion('type', [...customerEventSchema.options, stockEventSchema]);

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid event';
  return `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/**
 * Records a batch of events in order, each once (by `eventId`), and applies their reactions:
 * a purchase or return ends the customer's open offers for that SKU; consent sets consent; a
 * stock-out ends the open offers for the SKU in every partition; each source's watermark moves
 * forward. A malformed event is rejected with its reason and changes nothing.
 */
export async function ingestEvents(ledger: Ledger, events: readonly unknown[]): Promise<EventOutcome[]> {
  refuseEmailIds(events);
  const outcomes: EventOutcome[] = [];
  for (const [index, raw] of events.entries()) {
    const timed = timedSchema.safeParse(raw);
    const input = timed.success ? parsedSchema.safeParse({ ...timed.data, at: timed.data.at }) : timed;
    if (!input.success) {
      outcomes.push({ index, status: 'rejected', reason: firstIssue(input.error) });
      continue;
    }
    const event = input.data;
    try {
      if (event.type === 'stock') {
        const recorded = await ledger.signals.recordStock(event);
        if (recorded.duplicate) {
          outcomes.push({ index, status: 'duplicate', eventId: event.eventId });
          continue;
        }
        const cancelled =
          recorded.changed && !event.inStock ? await endOffersForSku(ledger, event.sku, event.source) : [];
        await ledger.signals.advanceWatermark(event.source, event.at);
        outcomes.push({ index, status: 'stored', eventId: event.eventId, cancelled });
      } else {
        const recorded = await ledger.signals.recordEvent(event);
        if (recorded.duplicate) {
          outcomes.push({ index, status: 'duplicate', eventId: event.eventId });
          continue;
        }
        await ledger.signals.advanceWatermark(event.source, event.at);
        const consent =
          recorded.consent === undefined || recorded.consent === 'applied' || recorded.consent === 'unchanged'
            ? {}
            : { consent: recorded.consent };
        outcomes.push({
          index,
          status: 'stored',
          eventId: event.eventId,
          cancelled: recorded.cancelled,
          ...consent,
        });
      }
    } catch (error) {
      // The ledger refused this event (text it cannot store, a date too far ahead): the others
      // still count.
      const code = isConcordError(error) ? error.code : undefined;
      if (code !== 'invalid_input' && code !== 'in_the_future') throw error;
      outcomes.push({ index, status: 'rejected', reason: (error as Error).message, code });
    }
  }
  return outcomes;
}

/**
 * A batch naming a customer by email address is refused whole (`invalid_input`, nothing
 * recorded): a feed that sends addresses as ids would put them in keys, jobs and audit trails,
 * and its other events are as likely to be keyed wrongly.
 */
function refuseEmailIds(events: readonly unknown[]): void {
  for (const [index, raw] of events.entries()) {
    const customerId = (raw as { customerId?: unknown } | null)?.customerId;
    if (typeof customerId === 'string' && customerId.includes('@')) {
      throw new ConcordError(
        'invalid_input',
        `events[${index}].customerId: customer ids must not be email addresses; no event of the batch was recorded`,
      );
    }
  }
}

/** The reason an offer ends with when its SKU is out of stock. */
const OUT_OF_STOCK = 'out_of_stock' satisfies OfferEndCode;

/** A stock-out walks the partitions and ends every open offer for the SKU. */
async function endOffersForSku(ledger: Ledger, sku: string, source: string): Promise<string[]> {
  const ended: string[] = [];
  for (let partition = 0; partition < ledger.keys.partitions; partition++) {
    for (const { offerId } of await ledger.indexes.offersForSku(partition, sku)) {
      try {
        const result = await ledger.offers.cancel(offerId, {
          reason: OUT_OF_STOCK,
          actor: `event:${source}`,
        });
        if (result.changed) ended.push(offerId);
      } catch (error) {
        // Ended meanwhile (expired, redeemed): nothing left to do for it.
        if (!isConcordError(error, 'conflict')) throw error;
      }
    }
  }
  return ended;
}
