/**
 * Wiring: builds the functions' dependencies from the configuration, once
 * per instance (clients are reused across requests; creating a client per
 * request costs a connection and a credentials lookup each time).
 */

import {Firestore} from '@google-cloud/firestore';

import {createDecoder, toGenericAlert, toTarget} from '../alert';
import type {Config} from '../config';
import {createFilterCache} from '../ingest/filter-cache';
import {createIngestPipeline} from '../ingest/pipeline';
import type {AlertStorePort, QuarantinePort} from '../ingest/pipeline';
import {errorMessage} from '../errors';
import type {Logger} from '../log';
import {toAlertDocument} from '../store/alert-document';
import {createAlertStore} from '../store/alert-store';
import {createQuarantineStore} from '../store/quarantine-store';
import {createSubscriptionStore} from '../store/subscription-store';

/** One Firestore client per instance; the emulator is selected by FIRESTORE_EMULATOR_HOST. */
export function createFirestore(config: Config): Firestore {
  return new Firestore({
    projectId: config.projectId,
    ignoreUndefinedProperties: true,
    // Explicit: spares google-auth a metadata-server probe to discover it.
    universeDomain: 'googleapis.com',
  });
}

export function createIngestContext(
  config: Config,
  firestore: Firestore,
  log: Logger,
) {
  const subscriptions = createSubscriptionStore(firestore, {
    ...config,
    timeoutMs: config.storeTimeoutMs,
  });
  const alertStore = createAlertStore(firestore, config, {
    timeoutMs: config.storeTimeoutMs,
  });
  const quarantineStore = createQuarantineStore(firestore, config, {
    timeoutMs: config.storeTimeoutMs,
  });
  const tom = (a: Parameters<typeof toGenericAlert>[0]) => ({
    generic: toGenericAlert(a),
    target: toTarget(a),
  });
  const alerts: AlertStorePort = {
    store: (alert, meta) =>
      alertStore.store(
        toAlertDocument(alert, meta, {keepCutouts: config.keepCutouts, tom}),
      ),
  };
  const quarantine: QuarantinePort = {
    quarantine: record => quarantineStore.quarantine(record),
  };
  const filters = createFilterCache({
    ttlMs: config.filterCacheTtlMs,
    load: name => subscriptions.loadFilter(name),
    onStale: (subscription, error) =>
      log.warn('filter reload failed; using the cached filter', {
        subscription,
        error: errorMessage(error),
      }),
  });
  const pipeline = createIngestPipeline({
    decoder: createDecoder({schemaSource: config.schemaSource}),
    filters,
    alerts,
    quarantine,
    log,
  });
  return {pipeline, quarantine, filters, subscriptions, alertStore};
}
