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
import {
  AlertStorePort,
  createIngestPipeline,
  QuarantinePort,
} from '../ingest/pipeline';
import type {Logger} from '../log';
import {createAlertStore} from '../store/alert-store';
import {createClientRecycler} from '../store/client-recycler';
import {isCallTimeout} from '../store/firestore-errors';
import {createWriteCoalescer} from '../store/write-coalescer';

/**
 * How long a replaced Firestore client lives on before it is terminated: the
 * client's longest retry horizon (Commit's total timeout, 600 s).
 */
export const REPLACED_CLIENT_GRACE_MS = 600_000;

/** One Firestore client per instance; the emulator is selected by FIRESTORE_EMULATOR_HOST. */
export function createFirestore(config: Config): Firestore {
  return new Firestore({
    projectId: config.projectId,
    ignoreUndefinedProperties: true,
    // Explicit: spares google-auth a metadata-server probe to discover it.
    universeDomain: 'googleapis.com',
  });
}

/**
 * The ingest pipeline over Firestore. `newFirestore` makes the instance's
 * client, and a new one when the current one's connection is stuck: only
 * call timeouts for two store timeouts in a row (see
 * ../store/client-recycler.ts; the filter cache survives a replacement).
 */
export function createIngestContext(
  config: Config,
  newFirestore: () => Firestore,
  log: Logger,
) {
  const firestore = createClientRecycler({
    create: () => {
      const db = newFirestore();
      // The concurrent requests' alerts go out together: one commit per
      // turn of the event loop (../store/write-coalescer.ts).
      const alertStore = createAlertStore(db, config, {
        timeoutMs: config.storeTimeoutMs,
        mode: 'batch',
      });
      return {
        db,
        writes: createWriteCoalescer({
          storeMany: docs => alertStore.storeMany(docs),
        }),
        subscriptions: firestoreSubscriptions(db, config),
        quarantine: firestoreQuarantine(db, config),
      };
    },
    dispose: old => {
      // Not at once: between the attempts of a failed read the Firestore
      // client holds nothing in its pool, so terminating it then makes the
      // next attempt reject ("The client has already been terminated")
      // where nothing handles it, and the functions framework stops the
      // process on an unhandled rejection (the outage test, under load).
      // Its own retries end within its longest retry horizon.
      setTimeout(
        () => void old.db.terminate().catch(() => undefined),
        REPLACED_CLIENT_GRACE_MS,
      ).unref();
    },
    isTimeout: isCallTimeout,
    windowMs: 2 * config.storeTimeoutMs,
    onRecycle: info =>
      log.warn('Firestore client replaced: no answer to any call', info),
  });
  const toDocument = alertDocumentMapper(config);
  const alerts: AlertStorePort = {
    store: (alert, meta) => {
      const doc = toDocument(alert, meta);
      return firestore.run(c => c.writes.store(doc));
    },
  };
  const quarantine: QuarantinePort = {
    quarantine: record => firestore.run(c => c.quarantine.quarantine(record)),
  };
  const filters = storedFilterSource(
    {
      loadFilter: name => firestore.run(c => c.subscriptions.loadFilter(name)),
      loadFilters: limit =>
        firestore.run(c => c.subscriptions.loadFilters(limit)),
    },
    config,
    log,
  );
  const pipeline = createIngestPipeline({
    decoder: createDecoder({schemaSource: config.schemaSource}),
    filters,
    alerts,
    quarantine,
    log,
  });
  return {pipeline, quarantine, filters, firestore};
}
