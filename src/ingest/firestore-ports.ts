/**
 * The ingest pipeline's ports over Firestore, shared by the push function
 * (src/functions/context.ts) and the pull harness (src/consumer): the same
 * document mapping, stored-filter cache and quarantine for both.
 */

import type {Firestore} from '@google-cloud/firestore';

import {toGenericAlert, toTarget} from '../alert';
import type {Alert} from '../alert/model';
import type {Config} from '../config';
import {errorMessage} from '../errors';
import type {Logger} from '../log';
import {AlertDocument, toAlertDocument} from '../store/alert-document';
import {createQuarantineStore} from '../store/quarantine-store';
import {
  createSubscriptionStore,
  SubscriptionStore,
} from '../store/subscription-store';
import {createFilterCache, FilterCache} from './filter-cache';
import type {QuarantinePort, StoreMeta} from './pipeline';

/** The TOM Toolkit mappings stored with each alert. */
export function tomMapping(a: Alert) {
  return {generic: toGenericAlert(a), target: toTarget(a)};
}

/** Alert → its Firestore document(s), as configured (where the cutouts go). */
export function alertDocumentMapper(
  config: Pick<Config, 'cutouts'>,
): (alert: Alert, meta: StoreMeta) => AlertDocument {
  return (alert, meta) =>
    toAlertDocument(alert, meta, {
      cutouts: config.cutouts,
      tom: tomMapping,
    });
}

/** Subscriptions' stored filters, cached per instance for config.filterCacheTtlMs. */
export function storedFilterSource(
  subscriptions: Pick<SubscriptionStore, 'loadFilter' | 'loadFilters'>,
  config: Pick<Config, 'filterCacheTtlMs'>,
  log: Logger,
): FilterCache & {warm(): Promise<number>} {
  const cache = createFilterCache({
    ttlMs: config.filterCacheTtlMs,
    maxEntries: FILTER_CACHE_ENTRIES,
    load: name => subscriptions.loadFilter(name),
    onStale: (subscription, error) =>
      log.warn('filter reload failed; using the cached filter', {
        subscription,
        error: errorMessage(error),
      }),
    onPrimeFailed: error =>
      log.warn('could not preload the filters; loading them one by one', {
        error: errorMessage(error),
      }),
  });
  return {
    ...cache,
    /** Preloads the subscriptions' filters (an instance's start). */
    warm: () => cache.prime(() => subscriptions.loadFilters(FILTERS_PRELOADED)),
  };
}

/** Subscriptions' filters an instance keeps. */
const FILTER_CACHE_ENTRIES = 1000;
/** Filters read at an instance's start (one read each). */
const FILTERS_PRELOADED = 100;

export function firestoreSubscriptions(
  firestore: Firestore,
  config: Config,
): SubscriptionStore {
  return createSubscriptionStore(firestore, {
    ...config,
    timeoutMs: config.storeTimeoutMs,
  });
}

export function firestoreQuarantine(
  firestore: Firestore,
  config: Config,
): QuarantinePort {
  const store = createQuarantineStore(firestore, config, {
    timeoutMs: config.storeTimeoutMs,
    retentionDays: config.quarantineRetentionDays,
  });
  return {quarantine: record => store.quarantine(record)};
}
