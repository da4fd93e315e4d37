/**
 * Per-instance cache of subscriptions' compiled filters with a short expiry,
 * so that a changed filter takes effect within seconds without a redeploy,
 * and the filter is read from Firestore about once per TTL, not per message.
 * Concurrent misses share one load. An expired filter keeps serving while
 * it is reloaded (stale-while-revalidate), and keeps serving if the reload
 * fails (reported through onStale); with no known filter, a failed load
 * propagates (a TransientError → redelivery).
 *
 * `prime` fills the cache from one bulk read at instance start (all the
 * subscriptions' filters at once): the first messages then find their
 * filter cached, and the Firestore client's first-call set-up (loading its
 * protos, opening the channel) overlaps the server's start instead of
 * delaying the first message. A miss while priming waits for it first.
 */

import {TransientError} from '../errors';
import {compileFilter, validateFilter} from '../filter';
import type {FilterPort, FilterSourcePort} from './pipeline';

export interface FilterCacheOptions {
  load(subscription: string): Promise<FilterPort>;
  ttlMs: number;
  now?: () => number;
  onStale?: (subscription: string, error: unknown) => void;
  /** A failed `prime` (the cache stays as it was). */
  onPrimeFailed?: (error: unknown) => void;
  /** Most subscriptions an instance remembers (oldest evicted first). */
  maxEntries?: number;
}

interface Entry {
  filter?: FilterPort;
  loadedAt: number;
  pending?: Promise<FilterPort>;
}

export interface FilterCache extends FilterSourcePort {
  invalidate(subscription?: string): void;
  /**
   * Caches the filters a bulk load returns (those absent load one by one
   * as usual). Never rejects: a failed prime leaves the cache as it was.
   */
  prime(
    loadAll: () => Promise<Iterable<[string, FilterPort]>>,
  ): Promise<number>;
}

export function createFilterCache(opts: FilterCacheOptions): FilterCache {
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? 1000;
  const entries = new Map<string, Entry>();
  let priming: Promise<number> | undefined;

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

  function lookup(subscription: string): FilterPort | Promise<FilterPort> {
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
  }

  return {
    filterFor(subscription: string): FilterPort | Promise<FilterPort> {
      if (priming && !entries.get(subscription)?.filter) {
        return priming.then(() => lookup(subscription));
      }
      return lookup(subscription);
    },
    invalidate(subscription?: string) {
      if (subscription === undefined) entries.clear();
      else entries.delete(subscription);
    },
    prime(loadAll) {
      const started = now();
      priming ??= loadAll()
        .then(
          loaded => {
            let n = 0;
            for (const [subscription, filter] of loaded) {
              const known = entries.get(subscription);
              if (known) {
                // Loaded one by one meanwhile: at least as fresh.
                if (known.filter && known.loadedAt >= started) continue;
                known.filter = filter;
                known.loadedAt = started;
              } else {
                if (entries.size >= maxEntries) break;
                entries.set(subscription, {filter, loadedAt: started});
              }
              n++;
            }
            return n;
          },
          error => {
            opts.onPrimeFailed?.(error);
            return 0;
          },
        )
        .finally(() => {
          priming = undefined;
        });
      return priming;
    },
  };
}

const PASS_ALL = compileFilter(null);

/**
 * A subscription's stored filter JSON (as the subscription store reads it)
 * compiled for the ingest path, with the subscription's retention (days its
 * alerts are kept; null: forever) riding along. A subscription without a
 * record (`undefined`) passes everything, like tom_pittgoogle without a
 * threshold. A stored filter that no longer validates is a TransientError:
 * its alerts wait in Pub/Sub until the filter is fixed.
 */
export function compileStoredFilter(
  subscription: string,
  stored: unknown,
  retentionDays: number | null = null,
): FilterPort {
  if (stored === undefined) return PASS_ALL;
  try {
    const compiled = compileFilter(validateFilter(stored));
    return retentionDays === null ? compiled : {...compiled, retentionDays};
  } catch (e) {
    throw new TransientError(
      'invalid-filter',
      `the stored filter of subscription ${subscription} is invalid (${(e as Error).message}); fix it with PATCH /subscriptions/${subscription}`,
      {subscription},
    );
  }
}

/**
 * The stored filters of a bulk read, compiled; one that no longer validates
 * is left out (loading it alone reports it when a message needs it).
 */
export function compileStoredFilters(
  stored: Map<string, unknown>,
  retention: ReadonlyMap<string, number | null> = new Map(),
): Map<string, FilterPort> {
  const filters = new Map<string, FilterPort>();
  for (const [subscription, json] of stored) {
    try {
      filters.set(
        subscription,
        compileStoredFilter(
          subscription,
          json ?? null,
          retention.get(subscription) ?? null,
        ),
      );
    } catch {
      // invalid: left to compileStoredFilter's error
    }
  }
  return filters;
}
