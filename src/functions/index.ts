/**
 * Entry points registered with the functions framework:
 * - `ingest`: Pub/Sub push (or Pub/Sub CloudEvent) → decode → filter → Firestore;
 * - `manage`: the subscription management REST API.
 * Dependencies are created on first use, once per instance.
 */

import * as ff from '@google-cloud/functions-framework';

import {createIdTokenVerifier, httpKeySource} from '../auth/id-token';
import {loadConfig} from '../config';
import {createLogger} from '../log';
import {createFirestore, createIngestContext} from './context';
import {createIngestHandler} from './ingest';
import type {createManageHandler} from './manage';

let ingestHandler: ReturnType<typeof createIngestHandler> | undefined;

function getIngestHandler() {
  if (!ingestHandler) {
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
    ingestHandler = createIngestHandler({
      pipeline: ctx.pipeline,
      quarantine: ctx.quarantine,
      log,
      auth,
    });
  }
  return ingestHandler;
}

ff.http('ingest', (req, res) => getIngestHandler()(req, res));

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
