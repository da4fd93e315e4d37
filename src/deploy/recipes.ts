/**
 * The query recipes of the docs (README.md or docs/queries.md), as data:
 * each one's code (a call of src/store/alert-query.ts, which knows the
 * storage layout's shards and document ids) and the query shapes that call
 * sends to Firestore, one per filter combination. {@link requiredIndex}
 * derives the index Firestore needs for a shape, so a test can check that
 * deploy/firestore.indexes.json declares exactly the indexes the recipes
 * use, that the docs show this code, and that alert-query.ts really sends
 * these shapes.
 */

import {FieldOverride, IndexFile, Order, QueryScope} from './indexes';

/** One query Firestore receives (per shard). */
export interface QueryShape {
  /** What selects it, in words (e.g. "with a band"). */
  variant: string;
  /** `subscriptions/{s}/alerts` (COLLECTION) or collectionGroup('alerts'). */
  scope: QueryScope;
  equality: string[];
  /** Fields with range filters (<, <=, >, >=). */
  inequality: string[];
  /** Explicit order-by clauses. */
  orderBy: Array<[string, Order]>;
}

export interface Recipe {
  title: string;
  /** The alert-query.ts function that runs it. */
  runs: string;
  /** The Node code shown in the docs, verbatim. */
  code: string;
  /** The queries it sends; empty for a lookup by document id (no index). */
  shapes: QueryShape[];
}

const newest = (
  variant: string,
  equality: string[],
  inequality: string[],
): QueryShape => ({
  variant,
  scope: 'COLLECTION',
  equality: ['shard', ...equality],
  inequality,
  orderBy: [['publishTime', 'DESCENDING']],
});

const observed = (
  variant: string,
  equality: string[],
  inequality: string[],
): QueryShape => ({
  variant,
  scope: 'COLLECTION',
  equality: ['shard', ...equality],
  inequality: ['jd', ...inequality],
  orderBy: [['jd', 'ASCENDING']],
});

export const RECIPES: Recipe[] = [
  {
    title: 'Newest alerts of one subscription',
    runs: 'listAlerts',
    code: `let page = await listAlerts(db, config, {subscription: 'ztf-loop', limit: 50});
// filters: band, magMin, magMax, since, until (publish time); the next page:
page = await listAlerts(db, config, {
  subscription: 'ztf-loop', limit: 50, band: 'r', magMax: 18.5,
  since: new Date('2026-12-01T00:00:00Z'), after: page.next,
});
// per shard k: .where('shard', '==', k)[.where('band', '==', b)]
//   [.where('mag', '>=', m1).where('mag', '<=', m2)]
//   [.where('publishTime', '>=', t1).where('publishTime', '<', t2)]
//   .orderBy('publishTime', 'desc'), merged newest first`,
    shapes: [
      newest('alone', [], []),
      newest(
        'a publish-time window or a page after the first',
        [],
        ['publishTime'],
      ),
      newest('a band', ['band'], []),
      newest('a band and a publish-time window', ['band'], ['publishTime']),
      newest('a magnitude range', [], ['mag']),
      newest(
        'a magnitude range and a publish-time window',
        [],
        ['mag', 'publishTime'],
      ),
      newest('a band and a magnitude range', ['band'], ['mag']),
      newest(
        'a band, a magnitude range and a publish-time window',
        ['band'],
        ['mag', 'publishTime'],
      ),
    ],
  },
  {
    title: 'Newest alerts across all subscriptions',
    runs: 'listAllAlerts',
    code: `const docs = await listAllAlerts(db, config, {limit: 20});
// per shard k: db.collectionGroup('alerts').where('shard', '==', k)
//   .orderBy('publishTime', 'desc'), merged newest first`,
    shapes: [
      {
        variant: 'alone',
        scope: 'COLLECTION_GROUP',
        equality: ['shard'],
        inequality: [],
        orderBy: [['publishTime', 'DESCENDING']],
      },
    ],
  },
  {
    title: "An object's light curve across subscriptions",
    runs: 'objectAlerts',
    code: `const docs = await objectAlerts(db, config, 'ZTF18abcdefg', {
  select: ['subscription', 'jd', 'mag', 'magErr', 'band'],
});
// one query: db.collectionGroup('alerts').where('shard', '==', alertShard(objectId))
//   .where('objectId', '==', objectId).orderBy('jd')`,
    shapes: [
      {
        variant: 'alone',
        scope: 'COLLECTION_GROUP',
        equality: ['shard', 'objectId'],
        inequality: [],
        orderBy: [['jd', 'ASCENDING']],
      },
    ],
  },
  {
    title: 'One alert, and which subscriptions received it',
    runs: 'getAlert, alertSubscriptions',
    code: `const one = await getAlert(db, config, 'ztf-loop', '2345678901234567890');
const copies = await alertSubscriptions(db, config, '2345678901234567890');
// reads subscriptions/{s}/alerts/{alertDocumentId(sourceId)}: no query, no index`,
    shapes: [],
  },
  {
    title: 'Alerts observed in a time window',
    runs: 'windowAlerts',
    code: `const docs = await windowAlerts(db, config, {
  subscription: 'ztf-loop', jdMin: 2460650.5, jdMax: 2460651.5,
  band: 'r', magMax: 18.5, limit: 100,
});
// per shard k: .where('shard', '==', k)[.where('band', '==', b)]
//   .where('jd', '>=', jd1).where('jd', '<', jd2)[.where('mag', ...)]
//   .orderBy('jd'), merged oldest first`,
    shapes: [
      observed('alone', [], []),
      observed('a band', ['band'], []),
      observed('a magnitude range', [], ['mag']),
      observed('a band and a magnitude range', ['band'], ['mag']),
    ],
  },
];

export type RequiredIndex =
  | {kind: 'automatic'; fieldPath: string}
  | {kind: 'single-field'; scope: QueryScope; fieldPath: string; order: Order}
  | {kind: 'composite'; scope: QueryScope; fields: Array<[string, Order]>};

/**
 * The index a query shape needs: equality fields first, then the order-by
 * fields, then inequality fields the query does not order by (Firestore
 * orders by them implicitly, in the direction of the last order-by). One
 * field in collection scope is covered by Firestore's automatic
 * single-field indexes; in collection-group scope it needs an explicit
 * single-field index.
 */
export function requiredIndex(r: QueryShape): RequiredIndex {
  const fields: Array<[string, Order]> = r.equality.map(f => [f, 'ASCENDING']);
  for (const [f, o] of r.orderBy) {
    if (!fields.some(([g]) => g === f)) fields.push([f, o]);
  }
  const last = r.orderBy.length
    ? r.orderBy[r.orderBy.length - 1][1]
    : 'ASCENDING';
  for (const f of [...r.inequality].sort()) {
    if (!fields.some(([g]) => g === f)) fields.push([f, last]);
  }
  if (fields.length === 1) {
    const [[fieldPath, order]] = fields;
    return r.scope === 'COLLECTION'
      ? {kind: 'automatic', fieldPath}
      : {kind: 'single-field', scope: r.scope, fieldPath, order};
  }
  return {kind: 'composite', scope: r.scope, fields};
}

/** Every query shape of every recipe. */
export function allShapes(): QueryShape[] {
  return RECIPES.flatMap(r => r.shapes);
}

/** Does the file declare (or, for automatic indexes, not remove) this index? */
export function declares(
  file: IndexFile,
  need: RequiredIndex,
  collection = 'alerts',
): boolean {
  const override = (f: string): FieldOverride | undefined =>
    file.fieldOverrides.find(
      o => o.collectionGroup === collection && o.fieldPath === f,
    );
  switch (need.kind) {
    case 'automatic': {
      const o = override(need.fieldPath);
      return (
        o === undefined || o.indexes.some(i => i.queryScope === 'COLLECTION')
      );
    }
    case 'single-field':
      return (
        override(need.fieldPath)?.indexes.some(
          i => i.queryScope === need.scope && i.order === need.order,
        ) ?? false
      );
    case 'composite':
      return file.indexes.some(
        i =>
          i.collectionGroup === collection &&
          i.queryScope === need.scope &&
          i.fields.length === need.fields.length &&
          i.fields.every(
            (f, k) =>
              f.fieldPath === need.fields[k][0] &&
              f.order === need.fields[k][1],
          ),
      );
  }
}
