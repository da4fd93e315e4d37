/**
 * The stored configuration of each subscription:
 * `{subscriptionsCollection}/{name}` holds its filter (validated JSON, null =
 * everything passes), the server-side filter expression it was created with,
 * the Pub/Sub settings, the retention of its alerts (`retentionDays`, null =
 * kept forever), and timestamps. The alerts and quarantine of the
 * subscription live in subcollections of the same document.
 *
 * Written by the manage function; read by the ingest function (through its
 * per-instance filter cache, which validates and compiles the stored JSON:
 * ../ingest/filter-cache.ts) and the pull consumer.
 */

import type {Firestore} from '@google-cloud/firestore';
import {Timestamp} from '@google-cloud/firestore';

import {INGEST_DEFAULTS} from '../defaults';
import {classifyFirestoreError, withTimeout} from './firestore-errors';

export interface SubscriptionRecord {
  name: string;
  /** Full topic path, e.g. projects/ardent-cycling-243415/topics/ztf-loop. */
  topic: string;
  /** The filter JSON as stored (validated before it was written; null = everything passes). */
  filter: unknown;
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
   * The stored filter JSON of a subscription, for the ingest path (null:
   * everything passes); undefined when the subscription has no record.
   */
  readFilter(name: string): Promise<unknown>;
  /** The stored filter JSON of up to `limit` subscriptions in one read (an instance's start). */
  readFilters(limit: number): Promise<Map<string, unknown>>;
  /** What the ingest path needs of a subscription (its filter JSON and retention); undefined without a record. */
  readIngest(name: string): Promise<IngestRecord | undefined>;
  /** The same for up to `limit` subscriptions in one read. */
  readIngestAll(limit: number): Promise<Map<string, IngestRecord>>;
}

export interface IngestRecord {
  /** The stored filter JSON (null: everything passes). */
  filter: unknown;
  /** Days its alerts are kept; null: forever. */
  retentionDays: number | null;
}

/** A stored retention: a positive integer of days, else forever. */
export function retentionOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
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
    filter: data.filter ?? null,
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
  const timeoutMs = opts.timeoutMs ?? INGEST_DEFAULTS.storeTimeoutMs;
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
    async readFilter(name) {
      return (await get(name))?.filter;
    },
    async readFilters(limit) {
      const snap = await call('list', '*', () =>
        collection.select('filter').limit(limit).get(),
      );
      return new Map(snap.docs.map(d => [d.id, d.get('filter') ?? null]));
    },
    async readIngest(name) {
      const record = await get(name);
      return record
        ? {filter: record.filter, retentionDays: record.retentionDays ?? null}
        : undefined;
    },
    async readIngestAll(limit) {
      const snap = await call('list', '*', () =>
        collection.select('filter', 'retentionDays').limit(limit).get(),
      );
      return new Map(
        snap.docs.map(d => [
          d.id,
          {
            filter: d.get('filter') ?? null,
            retentionDays: retentionOf(d.get('retentionDays')),
          },
        ]),
      );
    },
  };
}
