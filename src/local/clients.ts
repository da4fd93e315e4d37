/**
 * Pub/Sub and Firestore clients for the CLI, the local stack and the
 * benchmarks: an explicit emulator host (`127.0.0.1:PORT`) wins, then the
 * *_EMULATOR_HOST environment variables, then Google Cloud itself
 * (Application Default Credentials).
 */

import {Firestore} from '@google-cloud/firestore';
import {PubSub} from '@google-cloud/pubsub';

export interface ClientOptions {
  projectId: string;
  /** Emulator host:port; default from the environment. */
  host?: string;
  env?: Record<string, string | undefined>;
}

export function pubsubClient(opts: ClientOptions): PubSub {
  const host = opts.host ?? (opts.env ?? process.env).PUBSUB_EMULATOR_HOST;
  return host
    ? new PubSub({
        projectId: opts.projectId,
        apiEndpoint: host,
        emulatorMode: true,
        universeDomain: 'googleapis.com',
      })
    : new PubSub({projectId: opts.projectId});
}

export function firestoreClient(opts: ClientOptions): Firestore {
  const host = opts.host ?? (opts.env ?? process.env).FIRESTORE_EMULATOR_HOST;
  return host
    ? new Firestore({
        projectId: opts.projectId,
        host,
        ssl: false,
        universeDomain: 'googleapis.com',
        ignoreUndefinedProperties: true,
      })
    : new Firestore({
        projectId: opts.projectId,
        ignoreUndefinedProperties: true,
      });
}
