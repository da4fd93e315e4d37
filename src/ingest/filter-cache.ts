/**
 * Per-instance cache of subscriptions' compiled filters with a short expiry,
 * so that a changed filter takes effect within seconds without a redeploy,
 * and the filter is read from Firestore about once per TTL, not per message.
 * Concurrent misses share one load. An expired filter keeps serving while
 * it is reloaded (stale-while-revalidate), and keeps serving if the reload
 * fails (reported through onStale); with no known filter, a failed load
 * propagates (a TransientError → redelivery).
 */

import type {FilterPort, FilterSourcePort} from './pipeline';

export interface FilterCacheOptions {
  load(subscription: string): Promise<FilterPort>;
  ttlMs: number;
  now?: () => number;
  onStale?: (subscription: string, error: unknown) => void;
  /** Most subscriptions an instance remembers (oldest evicted first). */
  maxEntries?: number;
}

interface Entry {
  filter?: FilterPort;
  loadedAt: number;
  pending?: Promise<FilterPort>;
}

export function createFilterCache(
  opts: FilterCacheOptions,
): FilterSourcePort & {
  invalidate(subscription?: string): void;
} {
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? 1000;
  const entries = new Map<string, Entry>();

  function reload(subscription: string, entry: Entry): Promise<FilterPort> {
    entry.pending ??= opts
      .load(subscription)
      .then(
        filter => {
          entry.filter = filter;
          entry.loadedAt = now();
          return filter;
        },
        error => {
          if (!entry.filter) {
            entries.delete(subscription);
            throw error;
          }
          opts.onStale?.(subscription, error);
          return entry.filter;
        },
      )
      .finally(() => {
        entry.pending = undefined;
      });
    return entry.pending;
  }

  return {
    filterFor(subscription: string): FilterPort | Promise<FilterPort> {
      let entry = entries.get(subscription);
      if (!entry) {
        if (entries.size >= maxEntries) {
          entries.delete(entries.keys().next().value as string);
        }
        entry = {loadedAt: 0};
        entries.set(subscription, entry);
      }
      if (entry.filter && now() - entry.loadedAt < opts.ttlMs) {
        return entry.filter;
      }
      if (entry.filter) {
        // Expired: serve the known filter while one reload runs (its errors
        // are reported through onStale and keep the known filter).
        void reload(subscription, entry);
        return entry.filter;
      }
      return reload(subscription, entry);
    },
    invalidate(subscription?: string) {
      if (subscription === undefined) entries.clear();
      else entries.delete(subscription);
    },
  };
}
