/**
 * Gathers single-alert writes into micro-batches written with the alert
 * store's `storeMany`, and resolves each caller with its own outcome: the
 * pull consumer's writes (its messages arrive in bursts of up to its
 * backlog). The push function's writes go through write-coalescer.ts
 * instead, one commit per turn of the event loop.
 *
 * A batch is flushed when it holds `maxDocs` documents or `maxBytes` bytes
 * (the Firestore emulator gives no answer to a commit above ~4 MiB), or
 * `maxDelayMs` after its first document. An alert with its cutouts
 * document is one unit of both their sizes; the store writes and redoes
 * units whole. At most `maxConcurrentFlushes` batches are written at once;
 * the others wait their turn.
 */

import {AlertDocument, writeBytes} from './alert-document';
import type {ItemOutcome, StoreOutcome} from './alert-store';
import {settleWrites, WaitingWrite} from './write-coalescer';

export interface WriteBatcherOptions {
  /** Documents per batch. Default 100. */
  maxDocs?: number;
  /** Bytes per batch (estimated document sizes). Default 3 MiB. */
  maxBytes?: number;
  /** Longest wait for more documents, ms. Default 5. */
  maxDelayMs?: number;
  /** Batches written at once. Default 2. */
  maxConcurrentFlushes?: number;
}

export interface WriteBatcher {
  /** Queues one document; settles with its own outcome. */
  store(doc: AlertDocument): Promise<StoreOutcome>;
  /** Writes what is pending now and resolves when every write in progress is done. */
  flush(): Promise<void>;
  /** Batches written so far (for tests and benchmarks). */
  readonly batches: number;
}

interface Pending extends WaitingWrite {
  doc: AlertDocument;
}

export function createWriteBatcher(
  storeMany: (docs: readonly AlertDocument[]) => Promise<ItemOutcome[]>,
  options: WriteBatcherOptions = {},
): WriteBatcher {
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
    // storeMany may throw before it returns a promise.
    await settleWrites(
      batch,
      Promise.resolve().then(() => storeMany(batch.map(p => p.doc))),
    );
  }

  return {
    store(doc) {
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
