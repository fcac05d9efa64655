import type { Ledger } from '../ledger/index.ts';
import { describeHistory, type TimelineLine } from './timeline.ts';
import { supportOfferView, type SupportOfferView } from './views.ts';

/** A customer's timeline as support reads it: one page, or every page from `before` on. */
export interface CustomerHistory {
  readonly customerId: string;
  /** The open offers, and the ended ones the timeline names. */
  readonly offers: SupportOfferView[];
  readonly timeline: TimelineLine[];
  /** The `before` of the next page, when there is one. */
  readonly next?: string;
  /** False when the ledger holds nothing of the customer: no history, offer or profile. */
  readonly known: boolean;
}

/**
 * Reads a customer's history newest first, `limit` entries a page from below `before` (every
 * page with `all`), in plain words, with the offers it names and the open ones — never every
 * offer the customer had. The API and the command line answer with this.
 */
export async function customerHistory(
  ledger: Ledger,
  customerId: string,
  options: { limit: number; before?: string | undefined; all?: boolean },
): Promise<CustomerHistory> {
  const profile = await ledger.customers.getProfile(customerId);
  const entries = [];
  let before = options.before;
  let next: string | undefined;
  do {
    const page = await ledger.customers.historyPage(customerId, { limit: options.limit, before });
    entries.push(...page.entries);
    next = page.next;
    before = next;
  } while (options.all === true && next !== undefined);
  const named = entries.flatMap((entry) => (entry.offer === undefined ? [] : [entry.offer]));
  const offers = await ledger.offers.openOffers(customerId, named);
  return {
    customerId,
    offers: offers.map(supportOfferView),
    timeline: describeHistory(entries, { timezone: profile?.timezone }),
    ...(next === undefined ? {} : { next }),
    known: entries.length > 0 || offers.length > 0 || profile !== undefined,
  };
}
