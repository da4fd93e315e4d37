/**
 * The stored configuration of each subscription:
 * `{subscriptionsCollection}/{name}` holds its filter (validated JSON, null =
 * everything passes), the server-side filter expression it was created with,
 * the Pub/Sub settings, the retention of its alerts (`retentionDays`, null =
 * kept forever), and timestamps. The alerts and quarantine of the
 * subscription live in subcollections of the same document.
 *
 * Written by the management function; read by the ingest function (through
 * its per-instance cache) and the pull harness.
 */

import type {Firestore} from '@google-cloud/firestore';
import {Timestamp} from '@google-cloud/firestore';

import {TransientError} from '../errors';
import {compileFilter, validateFilter} from '../filter';
import type {CompiledFilter, MaybeFilter} from '../filter';
import {classifyFirestoreError, withTimeout} from './firestore-errors';

export interface SubscriptionRecord {
  name: string;
  /** Full topic path, e.g. projects/ardent-cycling-243415/topics/ztf-loop. */
  topic: string;
  filter: MaybeFilter;
  /** The Pub/Sub filter expression the subscription was created with ('' = none). */
  serverFilter: string;
  /** Pub/Sub settings as last applied (push endpoint, ack deadline, dead letter…). */
  settings: Record<string, unknown>;
  /** Days its alerts are kept (their `expireAt`); null or absent: forever. */
  retentionDays?: number | null;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface SubscriptionStoreOptions {
  subscriptionsCollection: string;
  /** Bound on each Firestore call, so an unreachable Firestore is a transient error, not a hang. */
  timeoutMs?: number;
}

export interface SubscriptionStore {
  get(name: string): Promise<SubscriptionRecord | undefined>;
  /** Creates or replaces the record (createdAt kept when it exists). */
  put(record: SubscriptionRecord): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<SubscriptionRecord[]>;
  /**
   * The compiled filter of a subscription, for the ingest path. A
   * subscription without a record passes everything (like tom_pittgoogle
   * without a threshold). A stored filter that no longer validates is a
   * TransientError: alerts wait in Pub/Sub until the filter is fixed.
   */
  loadFilter(name: string): Promise<StoredFilter>;
  /**
   * The compiled filters of up to `limit` subscriptions in one read (an
   * instance's start). A stored filter that no longer validates is left
   * out: `loadFilter` reports it when a message needs it.
   */
  loadFilters(limit: number): Promise<Map<string, StoredFilter>>;
}

/** What the ingest path needs of a subscription: its compiled filter and its retention. */
export interface StoredFilter extends CompiledFilter {
  /** Days its alerts are kept; null: forever. */
  readonly retentionDays: number | null;
}

const PASS_ALL: StoredFilter = {...compileFilter(null), retentionDays: null};

/** A stored retention: a positive integer, else forever. */
function retentionOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

function storedFilter(filter: unknown, retention: unknown): StoredFilter {
  return {
    ...compileFilter(validateFilter(filter)),
    retentionDays: retentionOf(retention),
  };
}

function toDate(v: unknown): Date | undefined {
  return v instanceof Timestamp ? v.toDate() : undefined;
}

function fromData(
  name: string,
  data: Record<string, unknown>,
): SubscriptionRecord {
  return {
    name,
    topic: String(data.topic ?? ''),
    filter: (data.filter ?? null) as MaybeFilter,
    serverFilter: String(data.serverFilter ?? ''),
    settings: (data.settings ?? {}) as Record<string, unknown>,
    retentionDays: retentionOf(data.retentionDays),
    createdAt: toDate(data.createdAt),
    updatedAt: toDate(data.updatedAt),
  };
}

export function createSubscriptionStore(
  firestore: Firestore,
  opts: SubscriptionStoreOptions,
): SubscriptionStore {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const collection = firestore.collection(opts.subscriptionsCollection);

  async function call<T>(
    what: string,
    name: string,
    op: () => Promise<T>,
  ): Promise<T> {
    try {
      return await withTimeout(op(), timeoutMs, `Firestore ${what}`);
    } catch (e) {
      throw classifyFirestoreError(e, {subscription: name, operation: what});
    }
  }

  async function get(name: string): Promise<SubscriptionRecord | undefined> {
    const snap = await call('read', name, () => collection.doc(name).get());
    return snap.exists ? fromData(name, snap.data() ?? {}) : undefined;
  }

  return {
    get,
    async put(record) {
      const ref = collection.doc(record.name);
      const now = Timestamp.now();
      await call('write', record.name, () =>
        firestore.runTransaction(async tx => {
          const snap = await tx.get(ref);
          tx.set(ref, {
            name: record.name,
            topic: record.topic,
            // JSON round trip: plain data only, no undefined.
            filter: JSON.parse(JSON.stringify(record.filter)),
            serverFilter: record.serverFilter,
            settings: JSON.parse(JSON.stringify(record.settings)),
            retentionDays: retentionOf(record.retentionDays),
            createdAt: snap.exists ? (snap.get('createdAt') ?? now) : now,
            updatedAt: now,
          });
        }),
      );
    },
    async delete(name) {
      await call('delete', name, () => collection.doc(name).delete());
    },
    async list() {
      const snap = await call('list', '*', () =>
        collection.orderBy('name').get(),
      );
      return snap.docs.map(d => fromData(d.id, d.data()));
    },
    async loadFilter(name) {
      const record = await get(name);
      if (!record) return PASS_ALL;
      try {
        return storedFilter(record.filter, record.retentionDays);
      } catch (e) {
        throw new TransientError(
          'invalid-filter',
          `the stored filter of subscription ${name} is invalid (${(e as Error).message}); fix it with PATCH /subscriptions/${name}`,
          {subscription: name},
        );
      }
    },
    async loadFilters(limit) {
      const snap = await call('list', '*', () =>
        collection.select('filter', 'retentionDays').limit(limit).get(),
      );
      const filters = new Map<string, StoredFilter>();
      for (const d of snap.docs) {
        try {
          filters.set(
            d.id,
            storedFilter(d.get('filter'), d.get('retentionDays')),
          );
        } catch {
          // invalid: left to loadFilter's error
        }
      }
      return filters;
    },
  };
}
