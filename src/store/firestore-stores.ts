/**
 * The stores of one Firestore client (alert writes, subscriptions,
 * quarantine), every call bounded by config.storeTimeoutMs, with the alert
 * writes in one of two modes: coalesced per turn of the event loop for the
 * push function (write-coalescer.ts: its requests arrive one by one,
 * concurrently), batched by size and count for the pull consumer
 * (write-batcher.ts: its messages arrive in bursts). A handle runs each call
 * on the current client: a fixed one, or one that is replaced when its
 * connection is stuck (client-recycler.ts).
 */

import type {Firestore} from '@google-cloud/firestore';

import type {Config} from '../config';
import {PULL_DEFAULTS} from '../defaults';
import type {Logger} from '../log';
import type {AlertDocument} from './alert-document';
import {AlertStoreOptions, createAlertStore, StoreOutcome} from './alert-store';
import {createClientRecycler} from './client-recycler';
import {isCallTimeout} from './firestore-errors';
import {createQuarantineStore, QuarantineStore} from './quarantine-store';
import {createSubscriptionStore, SubscriptionStore} from './subscription-store';
import {createWriteBatcher, WriteBatcherOptions} from './write-batcher';
import {createWriteCoalescer} from './write-coalescer';

/** How alert writes reach Firestore: coalesced (push) or batched (pull). */
export type WriteMode = 'coalesced' | 'batched';

export interface AlertWrites {
  /** Queues one document; settles with its own outcome. */
  store(doc: AlertDocument): Promise<StoreOutcome>;
  /** Writes what is pending (batched mode; coalesced writes go out each turn). */
  flush(): Promise<void>;
  /** Batches written so far (batched mode; 0 otherwise). */
  readonly batches: number;
}

export interface FirestoreStores {
  db: Firestore;
  writes: AlertWrites;
  subscriptions: SubscriptionStore;
  quarantine: Pick<QuarantineStore, 'quarantine'>;
}

export interface StoresOptions {
  writes: WriteMode;
  /** The alert store's bounds (default: WriteBatch commits; batched mode: PULL_DEFAULTS.batchBytes each). */
  store?: AlertStoreOptions;
  /** Batched mode: the micro-batches' bounds (default: PULL_DEFAULTS.batchBytes). */
  batching?: WriteBatcherOptions;
}

export function firestoreStores(
  db: Firestore,
  config: Config,
  options: StoresOptions,
): FirestoreStores {
  const timeoutMs = config.storeTimeoutMs;
  const batched = options.writes === 'batched';
  const alertStore = createAlertStore(db, config, {
    timeoutMs,
    mode: 'batch',
    ...(batched ? {maxBatchBytes: PULL_DEFAULTS.batchBytes} : {}),
    ...options.store,
  });
  const storeMany = (docs: readonly AlertDocument[]) =>
    alertStore.storeMany(docs);
  let writes: AlertWrites;
  if (batched) {
    writes = createWriteBatcher(storeMany, {
      maxBytes: PULL_DEFAULTS.batchBytes,
      ...options.batching,
    });
  } else {
    const coalescer = createWriteCoalescer({storeMany});
    writes = {store: coalescer.store, flush: async () => {}, batches: 0};
  }
  return {
    db,
    writes,
    subscriptions: createSubscriptionStore(db, {...config, timeoutMs}),
    quarantine: createQuarantineStore(db, config, {
      timeoutMs,
      retentionDays: config.quarantineRetentionDays,
    }),
  };
}

/** Runs each call on the stores of the current client. */
export interface StoresHandle {
  run<T>(op: (stores: FirestoreStores) => Promise<T>): Promise<T>;
  current(): FirestoreStores;
}

/** A handle over the stores of one client. */
export function fixedStores(stores: FirestoreStores): StoresHandle {
  return {run: op => op(stores), current: () => stores};
}

/**
 * How long a replaced Firestore client lives on before it is terminated: the
 * client's longest retry horizon (Commit's total timeout, 600 s).
 */
export const REPLACED_CLIENT_GRACE_MS = 600_000;

/**
 * A handle whose client `newFirestore` makes, and makes again when the
 * current one's connection is stuck: only call timeouts for two store
 * timeouts in a row (client-recycler.ts).
 */
export function recyclingStores(
  newFirestore: () => Firestore,
  config: Config,
  options: StoresOptions,
  log: Logger,
): StoresHandle {
  return createClientRecycler({
    create: () => firestoreStores(newFirestore(), config, options),
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
}
