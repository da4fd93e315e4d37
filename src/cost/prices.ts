/**
 * List prices the capacity and cost sheet (docs/capacity.md, `npm run cost`)
 * uses — the one place they live. USD, as listed on Google's pricing pages on
 * the date below (Firestore standard edition, multi-region such as nam5, the
 * deploy's default location; a regional database costs about half; Cloud Run
 * functions gen2, tier-1 region, request-based billing). Free tiers are not
 * subtracted. Check the pages before relying on a number.
 */

export interface Price {
  usd: number;
  unit: string;
  source: string;
}

export const PRICES_GATHERED = '2026-12-03';

export const PRICES = {
  vcpuSecond: {
    usd: 0.000024,
    unit: 'vCPU-second of instance time',
    source: 'https://cloud.google.com/run/pricing',
  },
  gibSecond: {
    usd: 0.0000025,
    unit: 'GiB-second of instance memory',
    source: 'https://cloud.google.com/run/pricing',
  },
  requestsPerMillion: {
    usd: 0.4,
    unit: 'million requests',
    source: 'https://cloud.google.com/run/pricing',
  },
  firestoreWritesPer100k: {
    usd: 0.18,
    unit: '100,000 document writes',
    source: 'https://cloud.google.com/firestore/pricing',
  },
  firestoreDeletesPer100k: {
    usd: 0.02,
    unit: '100,000 document deletes (TTL deletes included)',
    source: 'https://cloud.google.com/firestore/pricing',
  },
  firestoreReadsPer100k: {
    usd: 0.06,
    unit: '100,000 document reads',
    source: 'https://cloud.google.com/firestore/pricing',
  },
  firestoreStorageGibMonth: {
    usd: 0.18,
    unit: 'GiB-month stored (documents and index entries)',
    source: 'https://cloud.google.com/firestore/pricing',
  },
  pubsubDeliveryPerTib: {
    usd: 40,
    unit: 'TiB delivered to a subscription (the subscriber pays; first 10 GiB a month free)',
    source: 'https://cloud.google.com/pubsub/pricing',
  },
} as const satisfies Record<string, Price>;

export type Prices = {[K in keyof typeof PRICES]: number};

/** The list prices as plain numbers (what the model computes with). */
export function listPrices(): Prices {
  return Object.fromEntries(
    Object.entries(PRICES).map(([k, v]) => [k, v.usd]),
  ) as Prices;
}
