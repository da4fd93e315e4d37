/**
 * The query recipes of docs/queries.md, as data: each one's query shape and
 * its Node code. {@link requiredIndex} derives the index Firestore needs for
 * a shape, so a test can check that deploy/firestore.indexes.json declares
 * exactly the indexes the recipes use (and that the docs show this code).
 */

import {FieldOverride, IndexFile, Order, QueryScope} from './indexes';

export interface Recipe {
  title: string;
  /** `subscriptions/{s}/alerts` (COLLECTION) or collectionGroup('alerts'). */
  scope: QueryScope;
  equality: string[];
  /** Fields with range filters (<, <=, >, >=). */
  inequality: string[];
  orderBy: Array<[string, Order]>;
  /** The Node code shown in docs/queries.md, verbatim. */
  code: string;
}

export const RECIPES: Recipe[] = [
  {
    title: 'Newest alerts of one subscription',
    scope: 'COLLECTION',
    equality: [],
    inequality: [],
    orderBy: [['publishTime', 'DESCENDING']],
    code: `const snap = await db
  .collection('subscriptions').doc('ztf-loop').collection('alerts')
  .orderBy('publishTime', 'desc')
  .limit(20)
  .get();`,
  },
  {
    title: 'Newest alerts across all subscriptions',
    scope: 'COLLECTION_GROUP',
    equality: [],
    inequality: [],
    orderBy: [['publishTime', 'DESCENDING']],
    code: `const snap = await db
  .collectionGroup('alerts')
  .orderBy('publishTime', 'desc')
  .limit(20)
  .get();`,
  },
  {
    title: "An object's light curve across subscriptions",
    scope: 'COLLECTION_GROUP',
    equality: ['objectId'],
    inequality: [],
    orderBy: [['jd', 'ASCENDING']],
    code: `const snap = await db
  .collectionGroup('alerts')
  .where('objectId', '==', 'ZTF18abcdefg')
  .orderBy('jd')
  .select('subscription', 'jd', 'mag', 'magErr', 'band')
  .get();`,
  },
  {
    title: 'Which subscriptions received one alert',
    scope: 'COLLECTION_GROUP',
    equality: ['sourceId'],
    inequality: [],
    orderBy: [],
    code: `const snap = await db
  .collectionGroup('alerts')
  .where('sourceId', '==', '2345678901234567890')
  .select('subscription', 'publishTime')
  .get();`,
  },
  {
    title: 'A time window with a magnitude range',
    scope: 'COLLECTION',
    equality: [],
    inequality: ['jd', 'mag'],
    orderBy: [
      ['jd', 'ASCENDING'],
      ['mag', 'ASCENDING'],
    ],
    code: `const snap = await db
  .collection('subscriptions').doc('ztf-loop').collection('alerts')
  .where('jd', '>=', 2460650.5)
  .where('jd', '<', 2460651.5)
  .where('mag', '<', 18.5)
  .orderBy('jd')
  .orderBy('mag')
  .get();`,
  },
  {
    title: 'One band within a time window',
    scope: 'COLLECTION',
    equality: ['band'],
    inequality: ['jd'],
    orderBy: [['jd', 'ASCENDING']],
    code: `const snap = await db
  .collection('subscriptions').doc('ztf-loop').collection('alerts')
  .where('band', '==', 'r')
  .where('jd', '>=', 2460650.5)
  .where('jd', '<', 2460651.5)
  .orderBy('jd')
  .get();`,
  },
];

export type RequiredIndex =
  | {kind: 'automatic'; fieldPath: string}
  | {kind: 'single-field'; scope: QueryScope; fieldPath: string; order: Order}
  | {kind: 'composite'; scope: QueryScope; fields: Array<[string, Order]>};

/**
 * The index a query shape needs: equality fields first, then the order-by
 * fields, then inequality fields the query does not order by (Firestore
 * orders by them implicitly). One field in collection scope is covered by
 * Firestore's automatic single-field indexes; in collection-group scope it
 * needs an explicit single-field index.
 */
export function requiredIndex(r: Recipe): RequiredIndex {
  const fields: Array<[string, Order]> = r.equality.map(f => [f, 'ASCENDING']);
  for (const [f, o] of r.orderBy) {
    if (!fields.some(([g]) => g === f)) fields.push([f, o]);
  }
  for (const f of r.inequality) {
    if (!fields.some(([g]) => g === f)) fields.push([f, 'ASCENDING']);
  }
  if (fields.length === 1) {
    const [[fieldPath, order]] = fields;
    return r.scope === 'COLLECTION'
      ? {kind: 'automatic', fieldPath}
      : {kind: 'single-field', scope: r.scope, fieldPath, order};
  }
  return {kind: 'composite', scope: r.scope, fields};
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
