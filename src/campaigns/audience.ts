import { fnv1a32 } from '../ledger/index.ts';

/**
 * Whether a customer is in a campaign's holdout: decided from (campaign, customer) alone, so a
 * customer stays in or out across runs, processes and previews.
 */
export function inHoldout(campaignId: string, customerId: string, percent: number | undefined): boolean {
  if (percent === undefined || percent <= 0) return false;
  return fnv1a32(`holdout|${campaignId}|${customerId}`) % 10_000 < Math.round(percent * 100);
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
