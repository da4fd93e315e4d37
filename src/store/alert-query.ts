/**
 * Reading stored alerts through the storage layout (./layout.ts). Every
 * reader (the CLI `query`, the read API, the README recipes) goes through
 * these functions, which know the document ids and the shards:
 *
 * - {@link listAlerts}: a subscription's alerts, newest first by
 *   `publishTime` (ties: document id descending), with band / magnitude /
 *   publish-time filters and an opaque cursor; one query per shard, merged
 *   (./shard-merge.ts);
 * - {@link listAllAlerts}: the newest alerts of every subscription
 *   (collection group), likewise;
 * - {@link windowAlerts}: a subscription's alerts observed in a `jd` window
 *   (with band / magnitude filters), oldest first;
 * - {@link objectAlerts}: every stored alert of one object across
 *   subscriptions, by `jd` ascending: one query, in the object's shard;
 * - {@link getAlert}, {@link alertSubscriptions}: lookups by source id
 *   (one read per subscription, no index).
 *
 * Each query shape is served by a composite index that leads with `shard`
 * (deploy/firestore.indexes.json; src/deploy/recipes.ts lists the shapes and
 * a test checks both against each other).
 */

import {
  DocumentSnapshot,
  Firestore,
  Query,
  QueryDocumentSnapshot,
  Timestamp,
} from '@google-cloud/firestore';

import {PermanentError} from '../errors';
import {checkDocumentIds, checkSubscriptionName} from './alert-document';
import {isValidDocumentId} from './firestore-value';
import {
  ALERT_SHARDS,
  alertDocumentId,
  alertShard,
  sourceIdOfDocumentId,
  StoreLayoutConfig,
} from './layout';
import {mergeShards, MergeOrder, MergeStart} from './shard-merge';

export type {StoreLayoutConfig};

// ------------------------------------------------------------------ cursors

export interface AlertCursor {
  /** The last returned alert's publishTime in microseconds since the epoch (decimal). */
  publishTimeMicros: string;
  /** Its document id. */
  id: string;
}

/** A cursor that is not one this module made (400 `bad-parameter` in the API). */
export class InvalidCursorError extends PermanentError {
  constructor(detail: string) {
    super('bad-request', `invalid cursor: ${detail}`, {parameter: 'cursor'});
    this.name = 'InvalidCursorError';
  }
}

const CURSOR_VERSION = 1;
/** Firestore timestamps end at 9999-12-31T23:59:59.999999Z. */
const MAX_MICROS = 253_402_300_799_999_999n;
const MICROS = /^(0|[1-9][0-9]{0,17})$/;

/** Opaque and URL-safe: base64url of `[1, micros, id]`. */
export function encodeCursor(c: AlertCursor): string {
  return Buffer.from(
    JSON.stringify([CURSOR_VERSION, c.publishTimeMicros, c.id]),
    'utf8',
  ).toString('base64url');
}

export function decodeCursor(text: string): AlertCursor {
  if (typeof text !== 'string' || text.length === 0 || text.length > 400) {
    throw new InvalidCursorError('expected a cursor from a previous answer');
  }
  if (!/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new InvalidCursorError('not base64url');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== CURSOR_VERSION ||
    typeof parsed[1] !== 'string' ||
    typeof parsed[2] !== 'string'
  ) {
    throw new InvalidCursorError('not a cursor of this version');
  }
  const [, micros, id] = parsed as [number, string, string];
  if (!MICROS.test(micros) || BigInt(micros) > MAX_MICROS) {
    throw new InvalidCursorError('bad time');
  }
  if (!isValidDocumentId(id) || sourceIdOfDocumentId(id) === null) {
    throw new InvalidCursorError('bad document id');
  }
  return {publishTimeMicros: micros, id};
}

/** Micros of a Firestore timestamp (exact: Firestore keeps microseconds). */
export function timestampMicros(t: Timestamp): bigint {
  return (
    BigInt(t.seconds) * 1_000_000n + BigInt(Math.floor(t.nanoseconds / 1000))
  );
}

function microsTimestamp(micros: bigint): Timestamp {
  return new Timestamp(
    Number(micros / 1_000_000n),
    Number(micros % 1_000_000n) * 1000,
  );
}

/** The cursor after a document of {@link listAlerts}. */
export function cursorOf(doc: QueryDocumentSnapshot): AlertCursor {
  return {
    publishTimeMicros: timestampMicros(doc.get('publishTime')).toString(),
    id: doc.id,
  };
}

// ------------------------------------------------------------------ queries

export interface AlertListQuery {
  subscription: string;
  /** 1..500, validated by the caller. */
  limit: number;
  after?: AlertCursor | null;
  band?: string;
  magMin?: number;
  magMax?: number;
  /** On publishTime: since inclusive, until exclusive. */
  since?: Date;
  until?: Date;
  /** Fields to read (default all); the fields the order needs are added. */
  select?: string[];
}

/** The alert collection of one subscription. */
export function alertsCollection(
  firestore: Firestore,
  config: StoreLayoutConfig,
  subscription: string,
) {
  checkSubscriptionName(subscription);
  return firestore
    .collection(config.subscriptionsCollection)
    .doc(subscription)
    .collection(config.alertsCollection);
}

interface Filters {
  band?: string;
  magMin?: number;
  magMax?: number;
}

/** Equality on the shard and band, range on the magnitude. */
function filtered(base: Query, shard: number, f: Filters): Query {
  let q = base.where('shard', '==', shard);
  if (f.band !== undefined) q = q.where('band', '==', f.band);
  if (f.magMin !== undefined) q = q.where('mag', '>=', f.magMin);
  if (f.magMax !== undefined) q = q.where('mag', '<=', f.magMax);
  return q;
}

function withSelect(q: Query, select: string[] | undefined, order: string) {
  if (!select) return q;
  const fields = new Set([...select, order, 'mag', 'shard']);
  return q.select(...fields);
}

const PUBLISH_DESC: MergeOrder = {
  direction: 'desc',
  value: d => timestampMicros(d.get('publishTime')),
};

/**
 * The per-shard queries of {@link listAlerts} (and, over a collection group,
 * {@link listAllAlerts}): newest first, within [since, until) and up to
 * `after`. Exported for the index recipes' test (src/deploy/recipes.ts).
 */
export function newestShardQueries(
  base: Query,
  q: Omit<AlertListQuery, 'subscription' | 'limit'>,
): Query[] {
  const afterMicros = q.after ? BigInt(q.after.publishTimeMicros) : null;
  const untilMicros = q.until ? BigInt(q.until.getTime()) * 1000n : null;
  return Array.from({length: ALERT_SHARDS}, (_, shard) => {
    let s = filtered(base, shard, q);
    if (q.since) s = s.where('publishTime', '>=', Timestamp.fromDate(q.since));
    if (
      afterMicros !== null &&
      (untilMicros === null || afterMicros < untilMicros)
    ) {
      s = s.where('publishTime', '<=', microsTimestamp(afterMicros));
    } else if (untilMicros !== null) {
      s = s.where('publishTime', '<', microsTimestamp(untilMicros));
    }
    s = s.orderBy('publishTime', 'desc');
    return withSelect(s, q.select, 'publishTime');
  });
}

/**
 * A subscription's alerts, newest first by publishTime (ties: document id
 * descending), from every shard; `next` is the cursor of the last one when
 * more follow.
 */
export async function listAlerts(
  firestore: Firestore,
  config: StoreLayoutConfig,
  q: AlertListQuery,
): Promise<{docs: QueryDocumentSnapshot[]; next: AlertCursor | null}> {
  const col = alertsCollection(firestore, config, q.subscription);
  const queries = newestShardQueries(col, q);
  const start: MergeStart | null = q.after
    ? {
        value: BigInt(q.after.publishTimeMicros),
        path: col.doc(q.after.id).path.split('/'),
      }
    : null;
  const {docs} = await mergeShards(queries, PUBLISH_DESC, q.limit + 1, start);
  const page = docs.slice(0, q.limit);
  const next =
    docs.length > q.limit && page.length
      ? cursorOf(page[page.length - 1])
      : null;
  return {docs: page, next};
}

/** The newest alerts of every subscription (collection group), newest first. */
export async function listAllAlerts(
  firestore: Firestore,
  config: StoreLayoutConfig,
  q: {limit: number; select?: string[]},
): Promise<QueryDocumentSnapshot[]> {
  const group = firestore.collectionGroup(config.alertsCollection);
  const queries = newestShardQueries(group, {select: q.select});
  return (await mergeShards(queries, PUBLISH_DESC, q.limit)).docs;
}

export interface WindowQuery extends Filters {
  subscription: string;
  limit: number;
  /** Julian dates of the observation: jdMin inclusive, jdMax exclusive; at least one. */
  jdMin?: number;
  jdMax?: number;
  select?: string[];
}

/** The per-shard queries of {@link windowAlerts} (exported for the recipes' test). */
export function windowShardQueries(
  base: Query,
  q: Omit<WindowQuery, 'subscription' | 'limit'>,
): Query[] {
  return Array.from({length: ALERT_SHARDS}, (_, shard) => {
    let s = filtered(base, shard, q);
    if (q.jdMin !== undefined) s = s.where('jd', '>=', q.jdMin);
    if (q.jdMax !== undefined) s = s.where('jd', '<', q.jdMax);
    return withSelect(s.orderBy('jd'), q.select, 'jd');
  });
}

/** A subscription's alerts observed in a jd window, oldest first (ties: document id ascending). */
export async function windowAlerts(
  firestore: Firestore,
  config: StoreLayoutConfig,
  q: WindowQuery,
): Promise<QueryDocumentSnapshot[]> {
  if (q.jdMin === undefined && q.jdMax === undefined) {
    throw new PermanentError(
      'bad-request',
      'a jd window needs jdMin, jdMax or both',
    );
  }
  const col = alertsCollection(firestore, config, q.subscription);
  const queries = windowShardQueries(col, q);
  const order: MergeOrder = {direction: 'asc', value: d => d.get('jd')};
  return (await mergeShards(queries, order, q.limit)).docs;
}

/**
 * Every stored alert of an object across subscriptions, by jd ascending
 * (ties: path). One query: the shard is a function of the object id.
 */
export async function objectAlerts(
  firestore: Firestore,
  config: StoreLayoutConfig,
  objectId: string,
  opts: {select?: string[]} = {},
): Promise<QueryDocumentSnapshot[]> {
  const group = firestore.collectionGroup(config.alertsCollection);
  return (await objectQuery(group, objectId, opts.select).get()).docs;
}

/** The query of {@link objectAlerts} (exported for the recipes' test). */
export function objectQuery(
  group: Query,
  objectId: string,
  select?: string[],
): Query {
  const q = group
    .where('shard', '==', alertShard(objectId))
    .where('objectId', '==', objectId)
    .orderBy('jd');
  return select ? q.select(...select) : q;
}

/** One alert by its exact source id (one read), or null. */
export async function getAlert(
  firestore: Firestore,
  config: StoreLayoutConfig,
  subscription: string,
  sourceId: string,
): Promise<DocumentSnapshot | null> {
  const id = checkDocumentIds(subscription, sourceId);
  const snap = await alertsCollection(firestore, config, subscription)
    .doc(id)
    .get();
  return snap.exists ? snap : null;
}

/**
 * The stored copies of one alert, one per subscription that stored it: one
 * read per subscription (those deleted with their alerts kept included), no
 * index.
 */
export async function alertSubscriptions(
  firestore: Firestore,
  config: StoreLayoutConfig,
  sourceId: string,
): Promise<DocumentSnapshot[]> {
  const id = alertDocumentId(sourceId);
  const subs = await firestore
    .collection(config.subscriptionsCollection)
    .listDocuments();
  if (subs.length === 0) return [];
  const refs = subs.map(s => s.collection(config.alertsCollection).doc(id));
  return (await firestore.getAll(...refs)).filter(s => s.exists);
}
