/**
 * Wiring: builds the functions' dependencies from the configuration, once
 * per instance (clients are reused across requests; creating a client per
 * request costs a connection and a credentials lookup each time).
 */

import {Firestore} from '@google-cloud/firestore';

import {createDecoder} from '../alert';
import type {Config} from '../config';
import {
  alertDocumentMapper,
  firestoreQuarantine,
  firestoreSubscriptions,
  storedFilterSource,
} from '../ingest/firestore-ports';
import {AlertStorePort, createIngestPipeline} from '../ingest/pipeline';
import type {Logger} from '../log';
import {createAlertStore} from '../store/alert-store';

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
  const subscriptions = firestoreSubscriptions(firestore, config);
  const alertStore = createAlertStore(firestore, config, {
    timeoutMs: config.storeTimeoutMs,
  });
  const toDocument = alertDocumentMapper(config);
  const alerts: AlertStorePort = {
    store: (alert, meta) => alertStore.store(toDocument(alert, meta)),
  };
  const quarantine = firestoreQuarantine(firestore, config);
  const filters = storedFilterSource(subscriptions, config, log);
  const pipeline = createIngestPipeline({
    decoder: createDecoder({schemaSource: config.schemaSource}),
    filters,
    alerts,
    quarantine,
    log,
  });
  return {pipeline, quarantine, filters, subscriptions, alertStore};
}
