/**
 * An {@link AlertStorePort} that gathers the pipeline's one-at-a-time writes
 * into micro-batches written with the alert store's `storeMany`, and resolves
 * each caller with its own outcome. The ingest pipeline stays the one
 * decode → filter → store path; only the writes are batched.
 *
 * A batch is flushed when it holds `maxDocs` alerts or `maxBytes` bytes
 * (Firestore emulator commits above ~4 MiB get no answer), or `maxDelayMs`
 * after its first document. An alert with its cutouts document is one unit
 * of both their sizes; the store writes and redoes units whole. At most `maxConcurrentFlushes`
 * batches are written at once; the others wait their turn.
 */

import type {Alert} from '../alert/model';
import type {AlertStorePort, StoreMeta} from '../ingest/pipeline';
import {AlertDocument, writeBytes} from '../store/alert-document';
import type {ItemOutcome} from '../store/alert-store';

export interface BatchingStoreOptions {
  /** Documents per batch. Default 100. */
  maxDocs?: number;
  /** Bytes per batch (estimated document sizes). Default 3 MiB. */
  maxBytes?: number;
  /** Longest wait for more documents, ms. Default 5. */
  maxDelayMs?: number;
  /** Batches written at once. Default 2. */
  maxConcurrentFlushes?: number;
}

export interface BatchingAlertStore extends AlertStorePort {
  /** Writes what is pending now and resolves when every write in progress is done. */
  flush(): Promise<void>;
  /** Batches written so far (for tests and benchmarks). */
  readonly batches: number;
}

interface Pending {
  doc: AlertDocument;
  resolve: (o: 'stored' | 'duplicate') => void;
  reject: (e: unknown) => void;
}

export function createBatchingAlertStore(
  storeMany: (docs: readonly AlertDocument[]) => Promise<ItemOutcome[]>,
  toDocument: (alert: Alert, meta: StoreMeta) => AlertDocument,
  options: BatchingStoreOptions = {},
): BatchingAlertStore {
  const maxDocs = Math.max(1, options.maxDocs ?? 100);
  const maxBytes = Math.max(1, options.maxBytes ?? 3 * 1024 * 1024);
  const maxDelayMs = Math.max(0, options.maxDelayMs ?? 5);
  const maxFlushes = Math.max(1, options.maxConcurrentFlushes ?? 2);

  let current: Pending[] = [];
  let currentBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const ready: Pending[][] = [];
  const writing = new Set<Promise<void>>();
  let batches = 0;

  function seal() {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (current.length) ready.push(current);
    current = [];
    currentBytes = 0;
    drain();
  }

  function drain() {
    while (ready.length && writing.size < maxFlushes) {
      const batch = ready.shift()!;
      batches++;
      const p = write(batch).finally(() => {
        writing.delete(p);
        drain();
      });
      writing.add(p);
    }
  }

  async function write(batch: Pending[]): Promise<void> {
    let outcomes: ItemOutcome[];
    try {
      outcomes = await storeMany(batch.map(p => p.doc));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (!o) p.reject(new Error('storeMany returned too few outcomes'));
      else if (o.status === 'failed') p.reject(o.error);
      else p.resolve(o.status);
    });
  }

  return {
    store(alert, meta) {
      let doc: AlertDocument;
      try {
        doc = toDocument(alert, meta);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve, reject) => {
        // An alert and its cutouts document count together (one unit).
        const bytes = writeBytes(doc);
        if (current.length && currentBytes + bytes > maxBytes) seal();
        current.push({doc, resolve, reject});
        currentBytes += bytes;
        if (current.length >= maxDocs || currentBytes >= maxBytes) seal();
        else timer ??= setTimeout(seal, maxDelayMs);
      });
    },
    async flush() {
      seal();
      while (writing.size || ready.length) {
        await Promise.allSettled([...writing]);
      }
    },
    get batches() {
      return batches;
    },
  };
}
