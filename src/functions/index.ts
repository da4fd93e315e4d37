/**
 * Entry points registered with the functions framework:
 * - `ingest`: Pub/Sub push (or Pub/Sub CloudEvent) → decode → filter → Firestore;
 * - `manage`: the subscription management REST API.
 * Dependencies are created on first use, once per instance.
 */

import * as ff from '@google-cloud/functions-framework';

import {loadConfig} from '../config';
import {createLogger} from '../log';
import {createFirestore, createIngestContext} from './context';
import {createIngestHandler} from './ingest';
import {createManageContext, createManageHandler} from './manage';

let ingestHandler: ReturnType<typeof createIngestHandler> | undefined;

function getIngestHandler() {
  if (!ingestHandler) {
    const config = loadConfig();
    const log = createLogger({
      minSeverity: config.logLevel,
      fields: {function: 'ingest'},
    });
    const ctx = createIngestContext(config, createFirestore(config), log);
    ingestHandler = createIngestHandler({
      pipeline: ctx.pipeline,
      quarantine: ctx.quarantine,
      log,
    });
  }
  return ingestHandler;
}

ff.http('ingest', (req, res) => getIngestHandler()(req, res));

let manageHandler: ReturnType<typeof createManageHandler> | undefined;

function getManageHandler() {
  if (!manageHandler) {
    const config = loadConfig();
    const log = createLogger({
      minSeverity: config.logLevel,
      fields: {function: 'manage'},
    });
    manageHandler = createManageHandler(
      createManageContext(config, createFirestore(config), log),
    );
  }
  return manageHandler;
}

ff.http('manage', (req, res) => getManageHandler()(req, res));
