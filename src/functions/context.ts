/**
 * Wiring: builds the functions' dependencies from the configuration, once
 * per instance (clients are reused across requests; creating a client per
 * request costs a connection and a credentials lookup each time).
 */

import {Firestore} from '@google-cloud/firestore';

import type {Config} from '../config';
import {createFirestorePipeline} from '../ingest/firestore-pipeline';
import type {Logger} from '../log';

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
 * client, and a new one when the current one's connection is stuck
 * (../store/firestore-stores.ts; the filter cache survives a replacement).
 * The concurrent requests' alerts go out together: one commit per turn of
 * the event loop (../store/write-coalescer.ts).
 */
export function createIngestContext(
  config: Config,
  newFirestore: () => Firestore,
  log: Logger,
) {
  const {pipeline, quarantine, filters, warmWrites} = createFirestorePipeline(
    {newFirestore, writes: 'coalesced'},
    config,
    log,
  );
  // filters is set: no port is overridden here.
  return {pipeline, quarantine, filters: filters!, warmWrites};
}
