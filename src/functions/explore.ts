/**
 * The `explore` function: the explorer pages and the read API
 * (src/explore/), over Firestore with the instance's (read-only) service
 * account. Its modules, the Firestore client and the PNG encoder are loaded
 * on its first request only, so that an ingest instance never pays for them.
 */

import * as ff from '@google-cloud/functions-framework';

import {loadConfig} from '../config';
import {createLogger} from '../log';
import type {ExploreHandler} from '../explore/context';
import {createFirestore} from './context';
import {outsideDomain} from './outside-domain';

let handler: ExploreHandler | undefined;

function getHandler(): ExploreHandler {
  if (!handler) {
    const explore =
      require('../explore/context') as typeof import('../explore/context');
    const config = loadConfig();
    const log = createLogger({
      minSeverity: config.logLevel,
      fields: {function: 'explore'},
    });
    handler = explore.createExploreContext(
      config,
      createFirestore(config),
      log,
    ).handler;
  }
  return handler;
}

// Outside the framework's domain: the handler answers every failure itself.
ff.http('explore', (req, res) => outsideDomain(() => getHandler()(req, res)));
