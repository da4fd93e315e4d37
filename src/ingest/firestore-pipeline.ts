/**
 * The one wiring of the ingest pipeline over Firestore, shared by the push
 * function (src/functions/context.ts) and the pull consumer (src/consumer,
 * `pittgoogle fetch`): the same decoder, document mapping, stored-filter
 * cache and quarantine for both. Only the alert writes differ: coalesced per
 * turn of the event loop for push (../store/write-coalescer.ts), batched by
 * size and count for pull (../store/write-batcher.ts).
 */

import type {Firestore} from '@google-cloud/firestore';

import {createDecoder, toGenericAlert, toTarget} from '../alert';
import type {Alert} from '../alert/model';
import type {Config} from '../config';
import {errorMessage, PermanentError} from '../errors';
import type {Logger} from '../log';
import {AlertDocument, toAlertDocument} from '../store/alert-document';
import {
  firestoreStores,
  fixedStores,
  recyclingStores,
  StoresHandle,
  StoresOptions,
} from '../store/firestore-stores';
import type {SubscriptionStore} from '../store/subscription-store';
import {
  compileStoredFilter,
  compileStoredFilters,
  createFilterCache,
  FilterCache,
} from './filter-cache';
import {
  AlertStorePort,
  createIngestPipeline,
  FilterSourcePort,
  IngestPipeline,
  QuarantinePort,
  StoreMeta,
} from './pipeline';

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

/**
 * Where the pipeline's ports write: one client (pull), or clients that
 * `newFirestore` makes and replaces when a connection is stuck (push), in a
 * write mode.
 */
export type PipelineFirestore = StoresOptions &
  ({firestore: Firestore} | {newFirestore: () => Firestore});

/** Subscriptions' filters an instance keeps. */
const FILTER_CACHE_ENTRIES = 1000;
/** Filters read at an instance's start (one read each). */
const FILTERS_PRELOADED = 100;

export type StoredFilterSource = FilterCache & {warm(): Promise<number>};

/**
 * Subscriptions' stored filters, compiled and cached per instance for
 * config.filterCacheTtlMs, each with its subscription's retention.
 */
export function storedFilterSource(
  subscriptions: Pick<SubscriptionStore, 'readIngest' | 'readIngestAll'>,
  config: Pick<Config, 'filterCacheTtlMs'>,
  log: Logger,
): StoredFilterSource {
  const cache = createFilterCache({
    ttlMs: config.filterCacheTtlMs,
    maxEntries: FILTER_CACHE_ENTRIES,
    load: async name => {
      const record = await subscriptions.readIngest(name);
      return compileStoredFilter(
        name,
        record?.filter,
        record?.retentionDays ?? null,
      );
    },
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
    warm: () =>
      cache.prime(async () => {
        const all = await subscriptions.readIngestAll(FILTERS_PRELOADED);
        const filters = new Map<string, unknown>();
        const retention = new Map<string, number | null>();
        for (const [name, r] of all) {
          filters.set(name, r.filter);
          retention.set(name, r.retentionDays);
        }
        return compileStoredFilters(filters, retention);
      }),
  };
}

/** What replaces a Firestore port (e.g. the CLI's --filter or --jsonl). */
export interface PipelineOverrides {
  filters?: FilterSourcePort;
  alerts?: AlertStorePort;
  quarantine?: QuarantinePort;
}

export interface FirestorePipeline {
  pipeline: IngestPipeline;
  quarantine: QuarantinePort;
  /** The stored filters (warm() preloads them); undefined when overridden. */
  filters: StoredFilterSource | undefined;
  /** Writes pending batched alerts (called before a pull subscription closes). */
  flush(): Promise<void>;
  /**
   * Readies the write path before the first alert: an empty commit (no
   * document is written; Firestore bills writes per document) sets up the
   * client's Commit call, so the first alert's write does not pay for it.
   */
  warmWrites(): Promise<void>;
  readonly batches: number;
}

/** The stores the ports run on; `where` undefined: none (every port overridden). */
function connect(
  where: PipelineFirestore | undefined,
  config: Config,
  log: Logger,
): StoresHandle | undefined {
  if (!where) return undefined;
  return 'firestore' in where
    ? fixedStores(firestoreStores(where.firestore, config, where))
    : recyclingStores(where.newFirestore, config, where, log);
}

/**
 * The ingest pipeline: decode → the subscription's stored filter → alert
 * writes, quarantine on permanent failures, each port over Firestore unless
 * overridden (`where` may be undefined only when all three are). The ports
 * are built first; the clients they run on last.
 */
export function createFirestorePipeline(
  where: PipelineFirestore | undefined,
  config: Config,
  log: Logger,
  overrides: PipelineOverrides = {},
): FirestorePipeline {
  if (!where) {
    const missing = !overrides.alerts
      ? 'to store alerts'
      : !overrides.filters
        ? 'for stored filters'
        : !overrides.quarantine
          ? 'for the quarantine'
          : undefined;
    if (missing) {
      throw new PermanentError('bad-config', `Firestore is needed ${missing}`);
    }
  }
  // Called only once `stores` is set below (by a message, a flush, a warm).
  const on = (): StoresHandle => stores!;
  const toDocument = alertDocumentMapper(config);
  const alerts: AlertStorePort = overrides.alerts ?? {
    store: (alert, meta) => {
      let doc: AlertDocument;
      try {
        doc = toDocument(alert, meta);
      } catch (e) {
        return Promise.reject(e);
      }
      return on().run(c => c.writes.store(doc));
    },
  };
  const filters = overrides.filters
    ? undefined
    : storedFilterSource(
        {
          readIngest: name => on().run(c => c.subscriptions.readIngest(name)),
          readIngestAll: limit =>
            on().run(c => c.subscriptions.readIngestAll(limit)),
        },
        config,
        log,
      );
  const quarantine: QuarantinePort = overrides.quarantine ?? {
    quarantine: record => on().run(c => c.quarantine.quarantine(record)),
  };
  const pipeline = createIngestPipeline({
    decoder: createDecoder({schemaSource: config.schemaSource}),
    filters: overrides.filters ?? filters!,
    alerts,
    quarantine,
    log,
  });
  const stores = connect(where, config, log);
  const writes = () =>
    overrides.alerts ? undefined : stores?.current().writes;
  return {
    pipeline,
    quarantine,
    filters,
    flush: async () => writes()?.flush(),
    warmWrites: async () => {
      if (stores) await stores.run(c => c.db.batch().commit());
    },
    get batches() {
      return writes()?.batches ?? 0;
    },
  };
}
