/**
 * The Firestore alert store: idempotent creates at
 * `{subscriptionsCollection}/{subscription}/{alertsCollection}/{documentId}`
 * with `documentId = alertDocumentId(sourceId)` (./layout.ts).
 * A redelivered alert is reported as 'duplicate' (ALREADY_EXISTS), never
 * written twice. Every other failure is a typed error (see
 * ./firestore-errors.ts); each call is bounded by `timeoutMs` so that an
 * unreachable Firestore surfaces as a TransientError, not a hang.
 *
 * An alert with a cutouts document (CUTOUTS=separate: `doc.cutouts`) is one
 * unit: both documents are created in the same commit, both or neither; the
 * unit is a 'duplicate' when its alert exists (a cutouts document left
 * without its alert is replaced, and the alert created). Every fallback
 * that redoes a batch item by item redoes units, never half of one.
 *
 * `storeMany` (pull consumer) writes many alerts with per-item outcomes. Modes
 * (measured on the emulator: ./README.md):
 * - 'bulk' (default): a BulkWriter without throttling, flushed by bytes;
 *   per-item outcomes natively, 1.5-2x the throughput of 'concurrent'. A
 *   BulkWriter's writes are not atomic together, so units of two documents
 *   are written as 'concurrent' ones (one commit each) beside it;
 * - 'batch': atomic WriteBatch commits bounded by bytes and writes; as fast
 *   as 'bulk' (within the noise), but a batch that fails on one duplicate is
 *   redone unit by unit;
 * - 'concurrent': bounded parallel commits of one unit each (the slowest).
 */

import {
  BulkWriter,
  CollectionGroup,
  CollectionReference,
  DocumentReference,
  Firestore,
  WriteBatch,
} from '@google-cloud/firestore';

import {Config} from '../config';
import {INGEST_DEFAULTS} from '../defaults';
import {AlertError} from '../errors';
import {Logger} from '../log';
import {
  AlertDocument,
  checkDocumentIds,
  writeBytes,
  writeCount,
} from './alert-document';
import {
  ALREADY_EXISTS,
  classifyFirestoreError,
  grpcCode,
  withTimeout,
} from './firestore-errors';

export type StoreOutcome = 'stored' | 'duplicate';

export type ItemOutcome =
  | {status: 'stored'}
  | {status: 'duplicate'}
  | {status: 'failed'; kind: 'transient' | 'permanent'; error: AlertError};

export type StoreManyMode = 'concurrent' | 'bulk' | 'batch';

export interface AlertStoreOptions {
  /** Bound on one write (and on one storeMany commit), ms. Default 15 s. */
  timeoutMs?: number;
  /** storeMany strategy. Default 'bulk'. */
  mode?: StoreManyMode;
  /** storeMany: writes in flight ('concurrent'). Default 32. */
  concurrency?: number;
  /** storeMany: bytes per commit ('bulk', 'batch'). Default 3 MiB (< the ~4 MiB the emulator answers). */
  maxBatchBytes?: number;
  /** storeMany: documents written per commit ('batch'; 'bulk' uses the writer's 20). Default 500. */
  maxBatchCount?: number;
  log?: Logger;
}

export interface AlertStore {
  /** Creates the alert document: 'stored', or 'duplicate' if it exists. */
  store(doc: AlertDocument): Promise<StoreOutcome>;
  /** Stores many; one outcome per input, in order. Never rejects. */
  storeMany(docs: readonly AlertDocument[]): Promise<ItemOutcome[]>;
  /** The alert collection of one subscription. */
  alerts(subscription: string): CollectionReference;
  /** All alerts of every subscription (collection group query). */
  allAlerts(): CollectionGroup;
  alertRef(subscription: string, sourceId: string): DocumentReference;
  /** The cutouts document beside an alert (CUTOUTS=separate). */
  cutoutsRef(subscription: string, sourceId: string): DocumentReference;
}

type StoreConfig = Pick<
  Config,
  'subscriptionsCollection' | 'alertsCollection' | 'cutoutsCollection'
>;

const BULK_WRITER_BATCH = 20; // BulkWriter's own ops per BatchWrite

export function createAlertStore(
  firestore: Firestore,
  config: StoreConfig,
  options: AlertStoreOptions = {},
): AlertStore {
  const timeoutMs = options.timeoutMs ?? INGEST_DEFAULTS.storeTimeoutMs;
  const mode = options.mode ?? 'bulk';
  const concurrency = Math.max(1, options.concurrency ?? 32);
  const maxBatchBytes = options.maxBatchBytes ?? 3 * 1024 * 1024;
  const maxBatchCount = Math.min(
    500,
    Math.max(1, options.maxBatchCount ?? 500),
  );

  const sub = (subscription: string) =>
    firestore.collection(config.subscriptionsCollection).doc(subscription);
  const alerts = (subscription: string) =>
    sub(subscription).collection(config.alertsCollection);
  /** The alert's document: `alertDocumentId(sourceId)` (./layout.ts). */
  const alertRef = (subscription: string, sourceId: string) =>
    alerts(subscription).doc(checkDocumentIds(subscription, sourceId));
  const cutoutsRef = (subscription: string, sourceId: string) =>
    sub(subscription)
      .collection(config.cutoutsCollection)
      .doc(checkDocumentIds(subscription, sourceId));
  // A document's refs from the id it carries (made and checked once, by
  // toAlertDocument): no second hash and check per write.
  const docRef = (doc: AlertDocument) =>
    alerts(doc.subscription).doc(doc.documentId);
  const docCutoutsRef = (doc: AlertDocument) =>
    sub(doc.subscription)
      .collection(config.cutoutsCollection)
      .doc(doc.documentId);
  /** Adds the unit's creates to a batch (throws on invalid ids or data). */
  const addUnit = (batch: WriteBatch, doc: AlertDocument) => {
    batch.create(docRef(doc), doc.data);
    if (doc.cutouts) {
      batch.create(docCutoutsRef(doc), doc.cutouts.data);
    }
  };
  const ids = (doc: AlertDocument) => ({
    subscription: doc.subscription,
    sourceId: doc.sourceId,
  });

  async function store(doc: AlertDocument): Promise<StoreOutcome> {
    try {
      if (doc.cutouts) {
        // The alert and its cutouts: one commit, both or neither.
        const batch = firestore.batch();
        addUnit(batch, doc);
        await withTimeout(batch.commit(), timeoutMs, 'a create');
      } else {
        const ref = docRef(doc);
        await withTimeout(ref.create(doc.data), timeoutMs, 'a create');
      }
      return 'stored';
    } catch (e) {
      if (grpcCode(e) === ALREADY_EXISTS) {
        return doc.cutouts ? orphanedCutouts(doc) : 'duplicate';
      }
      throw classifyFirestoreError(e, ids(doc));
    }
  }

  /**
   * A unit's commit found a document: a duplicate when the alert exists.
   * When only its cutouts document does (the alert deleted by hand or by
   * TTL before it, a purge interrupted), the alert is created and the
   * cutouts document replaced, in one commit: a replay restores what was
   * deleted instead of answering 'duplicate' for an alert that is not there.
   */
  async function orphanedCutouts(doc: AlertDocument): Promise<StoreOutcome> {
    const alert = docRef(doc);
    try {
      const [snap] = await withTimeout(
        firestore.getAll(alert, {fieldMask: []}),
        timeoutMs,
        'a read',
      );
      if (snap.exists) return 'duplicate';
      const batch = firestore.batch();
      batch.create(alert, doc.data);
      batch.set(docCutoutsRef(doc), doc.cutouts!.data);
      await withTimeout(batch.commit(), timeoutMs, 'a create');
      return 'stored';
    } catch (e) {
      if (grpcCode(e) === ALREADY_EXISTS) return 'duplicate';
      throw classifyFirestoreError(e, ids(doc));
    }
  }

  const outcomeOf = async (doc: AlertDocument): Promise<ItemOutcome> => {
    try {
      return {status: await store(doc)};
    } catch (e) {
      return failed(classifyFirestoreError(e, ids(doc)));
    }
  };

  async function storeConcurrent(
    docs: readonly AlertDocument[],
  ): Promise<ItemOutcome[]> {
    const results: ItemOutcome[] = new Array(docs.length);
    let next = 0;
    const worker = async () => {
      while (next < docs.length) {
        const i = next++;
        results[i] = await outcomeOf(docs[i]);
      }
    };
    await Promise.all(
      Array.from({length: Math.min(concurrency, docs.length)}, worker),
    );
    return results;
  }

  async function storeBulk(
    all: readonly AlertDocument[],
  ): Promise<ItemOutcome[]> {
    // Units of two documents need one commit each; the rest go in bulk.
    const pairs = all.flatMap((d, i) => (d.cutouts ? [i] : []));
    if (pairs.length === 0) return storeBulkSingles(all);
    const singles = all.flatMap((d, i) => (d.cutouts ? [] : [i]));
    const [a, b] = await Promise.all([
      storeConcurrent(pairs.map(i => all[i])),
      storeBulkSingles(singles.map(i => all[i])),
    ]);
    const results: ItemOutcome[] = new Array(all.length);
    pairs.forEach((i, k) => (results[i] = a[k]));
    singles.forEach((i, k) => (results[i] = b[k]));
    return results;
  }

  async function storeBulkSingles(
    docs: readonly AlertDocument[],
  ): Promise<ItemOutcome[]> {
    if (docs.length === 0) return [];
    const writer: BulkWriter = firestore.bulkWriter({throttling: false});
    // Retry transient failures a little; never ALREADY_EXISTS.
    writer.onWriteError(
      err => err.code !== ALREADY_EXISTS && err.failedAttempts < 3,
    );
    let batchBytes = 0;
    let batchOps = 0;
    const pending = docs.map(doc => {
      let ref: DocumentReference;
      try {
        ref = docRef(doc);
      } catch (e) {
        return Promise.resolve(failed(classifyFirestoreError(e, ids(doc))));
      }
      // Keep every BatchWrite under maxBatchBytes: send what is queued first.
      if (batchOps > 0 && batchBytes + doc.sizeBytes > maxBatchBytes) {
        writer.flush().catch(() => undefined);
        batchBytes = 0;
        batchOps = 0;
      }
      try {
        // Validate on a throwaway batch first: a BulkWriter whose create()
        // threw on invalid data never finishes closing.
        firestore.batch().create(ref, doc.data);
      } catch (e) {
        return Promise.resolve(failed(classifyFirestoreError(e, ids(doc))));
      }
      const write = writer.create(ref, doc.data);
      batchBytes += doc.sizeBytes;
      if (++batchOps >= BULK_WRITER_BATCH) {
        batchBytes = 0;
        batchOps = 0;
      }
      return withTimeout(write, timeoutMs * 3, 'a bulk write').then(
        (): ItemOutcome => ({status: 'stored'}),
        (e): ItemOutcome =>
          grpcCode(e) === ALREADY_EXISTS
            ? {status: 'duplicate'}
            : failed(classifyFirestoreError(e, ids(doc))),
      );
    });
    // A partial batch is only sent on flush/close: close now, then collect.
    const closing = writer.close();
    closing.catch(() => undefined);
    const results = await Promise.all(pending);
    await withTimeout(closing, timeoutMs, 'closing a bulk writer').catch(
      () => undefined,
    );
    // A BatchWrite refused as a whole (one document above the server's size
    // limit makes the request invalid) fails every write in it: redo the
    // refused ones alone, so that only the bad document fails.
    const refused = results.flatMap((r, i) =>
      r.status === 'failed' && r.kind === 'permanent' ? [i] : [],
    );
    if (refused.length > 1) {
      const each = await storeConcurrent(refused.map(i => docs[i]));
      refused.forEach((i, k) => (results[i] = each[k]));
    }
    return results;
  }

  async function storeBatches(
    docs: readonly AlertDocument[],
  ): Promise<ItemOutcome[]> {
    const results: ItemOutcome[] = new Array(docs.length);
    const chunks: number[][] = [];
    let chunk: number[] = [];
    let bytes = 0;
    let writes = 0;
    docs.forEach((doc, i) => {
      if (
        chunk.length &&
        (writes + writeCount(doc) > maxBatchCount ||
          bytes + writeBytes(doc) > maxBatchBytes)
      ) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
        writes = 0;
      }
      chunk.push(i);
      bytes += writeBytes(doc);
      writes += writeCount(doc);
    });
    if (chunk.length) chunks.push(chunk);

    for (const indexes of chunks) {
      let batch = firestore.batch();
      const valid: number[] = [];
      for (const i of indexes) {
        try {
          addUnit(batch, docs[i]);
          valid.push(i);
        } catch (e) {
          results[i] = failed(classifyFirestoreError(e, ids(docs[i])));
          if (docs[i].cutouts) {
            // Its alert may be in the batch without its cutouts: start the
            // batch again without the unit (rare: invalid data).
            batch = firestore.batch();
            for (const j of valid) addUnit(batch, docs[j]);
          }
        }
      }
      if (!valid.length) continue;
      try {
        await withTimeout(batch.commit(), timeoutMs, 'a batch commit');
        for (const i of valid) results[i] = {status: 'stored'};
      } catch (e) {
        const error = classifyFirestoreError(e, {batchSize: valid.length});
        if (
          grpcCode(e) === ALREADY_EXISTS ||
          (error.permanent && valid.length > 1)
        ) {
          // Atomic batch: one duplicate, or one document the server refuses,
          // failed them all. Unit by unit (an alert with its cutouts).
          const each = await storeConcurrent(valid.map(i => docs[i]));
          valid.forEach((i, k) => (results[i] = each[k]));
        } else {
          for (const i of valid) results[i] = failed(error);
        }
      }
    }
    return results;
  }

  return {
    store,
    storeMany: async docs => {
      if (docs.length === 0) return [];
      const t0 = Date.now();
      const results =
        mode === 'bulk'
          ? await storeBulk(docs)
          : mode === 'batch'
            ? await storeBatches(docs)
            : await storeConcurrent(docs);
      options.log?.debug('stored alerts', {
        mode,
        count: docs.length,
        ms: Date.now() - t0,
      });
      return results;
    },
    alerts,
    allAlerts: () => firestore.collectionGroup(config.alertsCollection),
    alertRef,
    cutoutsRef,
  };
}

function failed(error: AlertError): ItemOutcome {
  return {status: 'failed', kind: error.kind, error};
}
