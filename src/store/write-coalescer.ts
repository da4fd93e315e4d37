/**
 * Coalesces the single-alert writes of concurrent requests into batched
 * commits.
 *
 * An ingest instance serves several pushes at once (concurrency 16 as
 * deployed); each wants one create. Sent one by one, every alert pays a
 * whole RPC: the client's call set-up, a gRPC request, a commit on the
 * server. Here `store(doc)` queues the document and the queue is written
 * with one `storeMany` (WriteBatch commits) when the current turn of the
 * event loop is over, or at once when it holds `maxCount` documents. A
 * lone request is written alone, right after the turn that queued it: no
 * timer, no added latency. The same document queued twice goes out in two
 * commits (the second is then a 'duplicate'). Each caller gets its own
 * alert's outcome ('stored' / 'duplicate') or its own error, exactly as
 * from a single create (the store redoes a batch item by item when one of
 * its writes is refused: see alert-store.ts).
 */

import {INGEST_DEFAULTS} from '../defaults';
import {AlertError, TransientError, errorMessage} from '../errors';
import type {AlertDocument} from './alert-document';
import type {ItemOutcome, StoreOutcome} from './alert-store';

export interface WriteCoalescerOptions {
  /** Writes documents; one outcome per document, in order; never rejects. */
  storeMany(docs: AlertDocument[]): Promise<ItemOutcome[]>;
  /** Documents per commit at most. Default 20. */
  maxCount?: number;
  /** Runs the flush after the current turn. Default `setImmediate`. */
  schedule?: (flush: () => void) => void;
}

export interface WriteCoalescer {
  /** Queues one document; settles with its own outcome. */
  store(doc: AlertDocument): Promise<StoreOutcome>;
}

/** A queued write's caller. */
export interface WaitingWrite {
  resolve(outcome: StoreOutcome): void;
  reject(error: AlertError): void;
}

interface Queued extends WaitingWrite {
  doc: AlertDocument;
}

/**
 * Settles each caller of a commit with its own item's outcome, or all of
 * them with the commit's error (as an AlertError). Never rejects.
 */
export function settleWrites(
  items: readonly WaitingWrite[],
  written: Promise<ItemOutcome[]>,
): Promise<void> {
  return written.then(
    outcomes =>
      items.forEach((item, k) => {
        const o = outcomes[k];
        if (o === undefined) {
          item.reject(
            new TransientError('internal', 'no outcome for a queued write'),
          );
        } else if (o.status === 'failed') {
          item.reject(o.error);
        } else {
          item.resolve(o.status);
        }
      }),
    e => {
      const error =
        e instanceof AlertError
          ? e
          : new TransientError('internal', errorMessage(e));
      for (const item of items) item.reject(error);
    },
  );
}

export const DEFAULT_COALESCE_COUNT = INGEST_DEFAULTS.coalesceCount;

export function createWriteCoalescer(
  opts: WriteCoalescerOptions,
): WriteCoalescer {
  const maxCount = Math.max(1, opts.maxCount ?? DEFAULT_COALESCE_COUNT);
  const schedule = opts.schedule ?? (flush => setImmediate(flush));
  let queue: Queued[] = [];
  /** Documents in the queue (a commit may not write one document twice). */
  let queued = new Set<string>();
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    if (queue.length === 0) return;
    const items = queue;
    queue = [];
    queued = new Set();
    void settleWrites(items, opts.storeMany(items.map(i => i.doc)));
  }

  return {
    store: doc =>
      new Promise<StoreOutcome>((resolve, reject) => {
        // The same alert twice at once (a redelivery while the first
        // delivery is still open): the second goes in the next commit.
        const key = `${doc.subscription}/${doc.sourceId}`;
        if (queued.has(key)) flush();
        queue.push({doc, resolve, reject});
        queued.add(key);
        if (queue.length >= maxCount) {
          flush();
        } else if (!scheduled) {
          scheduled = true;
          schedule(flush);
        }
      }),
  };
}
