/**
 * Counting and purging a subscription's stored alerts and quarantine
 * (`{subscriptionsCollection}/{name}/{alertsCollection|quarantineCollection}`,
 * and the alerts' cutouts documents, `{cutoutsCollection}`: purged first, so
 * that an interrupted purge leaves no cutouts document without its alert).
 * Counts use Firestore's `count()` aggregation (no documents are read).
 * Purges delete in bounded batches (`batchSize` documents per commit, ids
 * only) within a time budget, and say whether they finished.
 */

import type {CollectionReference, Firestore} from '@google-cloud/firestore';

import type {Config} from '../config';
import {classifyFirestoreError, withTimeout} from '../store/firestore-errors';

export interface AlertCounts {
  alerts: number;
  quarantined: number;
}

export interface PurgeResult extends AlertCounts {
  /** false when the time budget ran out first: call again. */
  complete: boolean;
}

export interface AlertCountsPort {
  count(name: string): Promise<AlertCounts>;
  purge(name: string): Promise<PurgeResult>;
}

export interface AlertCountsOptions {
  /** Documents per delete batch. Default 300. */
  batchSize?: number;
  /** Time a purge may take before it stops (complete: false). Default 40 s. */
  purgeBudgetMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

export function createAlertCounts(
  firestore: Firestore,
  config: Pick<
    Config,
    | 'subscriptionsCollection'
    | 'alertsCollection'
    | 'quarantineCollection'
    | 'cutoutsCollection'
  >,
  opts: AlertCountsOptions = {},
): AlertCountsPort {
  const batchSize = Math.min(500, Math.max(1, opts.batchSize ?? 300));
  const budget = opts.purgeBudgetMs ?? 40_000;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const now = opts.now ?? Date.now;
  const sub = (name: string, c: string) =>
    firestore
      .collection(config.subscriptionsCollection)
      .doc(name)
      .collection(c);

  async function countOf(col: CollectionReference): Promise<number> {
    try {
      const snap = await withTimeout(col.count().get(), timeoutMs, 'a count');
      return snap.data().count;
    } catch (e) {
      throw classifyFirestoreError(e, {collection: col.path});
    }
  }

  /** Deletes until empty or `deadline`; returns [deleted, complete]. */
  async function drain(
    col: CollectionReference,
    deadline: number,
  ): Promise<[number, boolean]> {
    let deleted = 0;
    for (;;) {
      if (now() >= deadline) return [deleted, false];
      try {
        const snap = await withTimeout(
          col.select().limit(batchSize).get(),
          timeoutMs,
          'a purge read',
        );
        if (snap.empty) return [deleted, true];
        const batch = firestore.batch();
        for (const d of snap.docs) batch.delete(d.ref);
        await withTimeout(batch.commit(), timeoutMs, 'a purge commit');
        deleted += snap.size;
      } catch (e) {
        throw classifyFirestoreError(e, {collection: col.path, deleted});
      }
    }
  }

  return {
    async count(name) {
      const [alerts, quarantined] = await Promise.all([
        countOf(sub(name, config.alertsCollection)),
        countOf(sub(name, config.quarantineCollection)),
      ]);
      return {alerts, quarantined};
    },
    async purge(name) {
      const deadline = now() + budget;
      const [, doneC] = await drain(
        sub(name, config.cutoutsCollection),
        deadline,
      );
      const [alerts, doneA] = await drain(
        sub(name, config.alertsCollection),
        deadline,
      );
      const [quarantined, doneQ] = await drain(
        sub(name, config.quarantineCollection),
        deadline,
      );
      return {alerts, quarantined, complete: doneC && doneA && doneQ};
    },
  };
}
