/**
 * Wiring of the explorer: the read API over a Firestore client, the pages,
 * the router. Built once per instance (the explore function) or per process
 * (`pittgoogle explore`) from the typed configuration.
 */

import type {Firestore} from '@google-cloud/firestore';

import {lightCurve} from '../alert/light-curve';
import type {Config} from '../config';
import {renderStampPng} from '../cutouts/render';
import type {Logger} from '../log';
import {decodeCursor, encodeCursor} from '../store/alert-query';
import {
  decodeQuarantineCursor,
  encodeQuarantineCursor,
} from '../store/quarantine-query';
import {createApi} from './api';
import {createFirestoreReader} from './firestore-reader';
import {createExploreHandler} from './router';
import {serveWeb} from './web/serve';

export type ExploreHandler = ReturnType<typeof createExploreHandler>;

export function createExploreContext(
  config: Config,
  firestore: Firestore,
  log: Logger,
): {handler: ExploreHandler} {
  const reader = createFirestoreReader(firestore, config, {
    timeoutMs: config.storeTimeoutMs,
    log,
  });
  const api = createApi({
    reader,
    alertCursors: {encode: encodeCursor, decode: decodeCursor},
    quarantineCursors: {
      encode: encodeQuarantineCursor,
      decode: decodeQuarantineCursor,
    },
    renderPng: (bytes, opts) => renderStampPng(bytes, opts),
    lightCurve,
    log,
  });
  return {handler: createExploreHandler({api, serveWeb, log})};
}
