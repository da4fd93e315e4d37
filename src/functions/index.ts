/**
 * Entry points registered with the functions framework:
 * - `ingest`: Pub/Sub push (or Pub/Sub CloudEvent) → decode → filter → Firestore;
 * - `manage`: the subscription management REST API;
 * - `explore`: the explorer pages and the read API (./explore.ts).
 * Dependencies are created once per instance: an ingest instance's as it
 * starts, manage's on first use.
 */

// First: makes the Firestore client's per-commit require a cache hit (it
// must load before @google-cloud/firestore; see the module).
import '../store/firestore-require-cache';

import * as ff from '@google-cloud/functions-framework';

import {createIdTokenVerifier, httpKeySource} from '../auth/id-token';
import {loadConfig} from '../config';
import {errorMessage} from '../errors';
import {createLogger} from '../log';
import {createFirestore, createIngestContext} from './context';
import {tuneHeap} from './heap-tuning';
import {outsideDomain} from './outside-domain';
import {createIngestHandler} from './ingest';
import type {createManageHandler} from './manage';
// Registers the `explore` function (its dependencies load on first use).
import './explore';

tuneHeap();

let ingest:
  | {handler: ReturnType<typeof createIngestHandler>; warm(): Promise<void>}
  | undefined;

function getIngest() {
  if (!ingest) {
    const config = loadConfig();
    const log = createLogger({
      minSeverity: config.logLevel,
      fields: {function: 'ingest'},
    });
    const ctx = createIngestContext(config, () => createFirestore(config), log);
    const auth = config.pushAuthEmails.length
      ? {
          verifier: createIdTokenVerifier({
            allowedEmails: config.pushAuthEmails,
            keySource: httpKeySource(config.authCertsUrl),
          }),
          audiences: config.pushAuthAudiences,
        }
      : undefined;
    const handler = createIngestHandler({
      pipeline: ctx.pipeline,
      quarantine: ctx.quarantine,
      log,
      auth,
    });
    const warm = async () => {
      const started = Date.now();
      const [filters] = await Promise.all([
        ctx.filters.warm(),
        ctx.warmWrites().catch(error =>
          log.warn('could not ready the write path', {
            error: errorMessage(error),
          }),
        ),
      ]);
      log.info('instance warmed', {
        filtersPreloaded: filters,
        latencyMs: Date.now() - started,
      });
    };
    ingest = {handler, warm};
  }
  return ingest;
}

ff.http('ingest', (req, res) =>
  outsideDomain(() => getIngest().handler(req, res)),
);

// An ingest instance (the platform sets FUNCTION_TARGET) builds its
// dependencies and preloads the stored filters as it starts: the Firestore
// client's first-call set-up and the filter reads then overlap the server's
// start instead of delaying the first message.
if (process.env.FUNCTION_TARGET === 'ingest') void getIngest().warm();

let manageHandler: ReturnType<typeof createManageHandler> | undefined;

/**
 * The manage function's module (and with it the Pub/Sub client) is loaded
 * on its first request only: an ingest instance never pays for it at cold start.
 */
function getManageHandler() {
  if (!manageHandler) {
    const manage = require('./manage') as typeof import('./manage');
    const config = loadConfig();
    const log = createLogger({
      minSeverity: config.logLevel,
      fields: {function: 'manage'},
    });
    manageHandler = manage.createManageHandler(
      manage.createManageContext(config, createFirestore(config), log),
    );
  }
  return manageHandler;
}

ff.http('manage', (req, res) => getManageHandler()(req, res));
