import {strict as assert} from 'node:assert';
import {existsSync, readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {describe, it} from 'node:test';

import {Firestore, Query} from '@google-cloud/firestore';

import {AlertError} from '../../../src/errors';
import {parseIndexFile} from '../../../src/deploy/indexes';
import {
  allShapes,
  declares,
  QueryShape,
  RECIPES,
  requiredIndex,
} from '../../../src/deploy/recipes';
import {
  newestShardQueries,
  objectQuery,
  windowShardQueries,
} from '../../../src/store/alert-query';
import {ALERT_SHARDS} from '../../../src/store/layout';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const file = parseIndexFile(
  readFileSync(resolve(ROOT, 'deploy/firestore.indexes.json'), 'utf8'),
);
/** The recipes live in the README or in docs/queries.md. */
const docs = ['README.md', 'docs/queries.md']
  .map(f => resolve(ROOT, f))
  .filter(existsSync)
  .map(f => readFileSync(f, 'utf8'))
  .join('\n');

const key = (s: QueryShape) =>
  JSON.stringify([
    s.scope,
    [...s.equality].sort(),
    [...s.inequality].sort(),
    s.orderBy,
  ]);

/** The shape of a query as the Firestore client sends it. */
function shapeOf(q: Query): QueryShape {
  type Filter = {fieldFilter: {field: {fieldPath: string}; op: string}};
  const sq = (
    q as unknown as {
      toProto(): {
        structuredQuery: {
          from: {allDescendants?: boolean}[];
          where?: {
            fieldFilter?: unknown;
            compositeFilter?: {filters: Filter[]};
          };
          orderBy?: {field: {fieldPath: string}; direction: string}[];
        };
      };
    }
  ).toProto().structuredQuery;
  const filters: Filter[] = sq.where?.compositeFilter
    ? sq.where.compositeFilter.filters
    : sq.where
      ? [sq.where as Filter]
      : [];
  const fields = (eq: boolean) => [
    ...new Set(
      filters
        .filter(f => (f.fieldFilter.op === 'EQUAL') === eq)
        .map(f => f.fieldFilter.field.fieldPath),
    ),
  ];
  return {
    variant: '',
    scope: sq.from[0].allDescendants ? 'COLLECTION_GROUP' : 'COLLECTION',
    equality: fields(true),
    inequality: fields(false),
    orderBy: (sq.orderBy ?? []).map(o => [
      o.field.fieldPath,
      o.direction as 'ASCENDING' | 'DESCENDING',
    ]),
  };
}

describe('firestore.indexes.json', () => {
  it('serves every query shape of every recipe', () => {
    for (const s of allShapes()) {
      assert.ok(
        declares(file, requiredIndex(s)),
        `${s.variant}: ${JSON.stringify(requiredIndex(s))}`,
      );
    }
  });

  it('declares no index that no recipe uses', () => {
    const needs = allShapes().map(requiredIndex);
    for (const i of file.indexes) {
      const used = needs.some(
        n =>
          n.kind === 'composite' &&
          n.scope === i.queryScope &&
          JSON.stringify(n.fields) ===
            JSON.stringify(i.fields.map(f => [f.fieldPath, f.order])),
      );
      assert.ok(used, `unused composite index ${JSON.stringify(i)}`);
    }
    for (const o of file.fieldOverrides) {
      for (const i of o.indexes.filter(
        x => x.queryScope === 'COLLECTION_GROUP',
      )) {
        const used = needs.some(
          n =>
            n.kind === 'single-field' &&
            n.fieldPath === o.fieldPath &&
            n.order === i.order,
        );
        assert.ok(used, `unused collection-group index on ${o.fieldPath}`);
      }
    }
  });

  it('leads every time-ordered alert index with the shard (no sequential hot range)', () => {
    for (const i of file.indexes) {
      assert.equal(i.fields[0].fieldPath, 'shard', JSON.stringify(i));
    }
  });

  it('exempts the large maps and every monotonic field from single-field indexing, and no recipe needs those', () => {
    const exempt = (group: string) =>
      file.fieldOverrides
        .filter(o => o.collectionGroup === group && o.indexes.length === 0)
        .map(o => o.fieldPath)
        .sort();
    assert.deepEqual(exempt('alerts'), [
      'attributes',
      'cutouts',
      'expireAt',
      'histories',
      'ingestTime',
      'jd',
      'messageId',
      'mjd',
      'objectId',
      'publishTime',
      'record',
      'sourceId',
      'tom',
    ]);
    assert.deepEqual(exempt('cutouts'), [
      'difference',
      'expireAt',
      'objectId',
      'science',
      'sourceId',
      'template',
    ]);
    assert.deepEqual(exempt('quarantine'), [
      'attributes',
      'data',
      'details',
      'expireAt',
    ]);
    // Composite indexes do not need single-field ones; what a shape would
    // need alone (an automatic index) must not be exempt.
    for (const s of allShapes()) {
      const need = requiredIndex(s);
      if (need.kind === 'automatic') {
        assert.ok(!exempt('alerts').includes(need.fieldPath), s.variant);
      }
    }
  });

  it('puts a TTL policy on expireAt of alerts, cutouts and quarantine', () => {
    const ttl = file.fieldOverrides
      .filter(o => o.ttl)
      .map(o => `${o.collectionGroup}.${o.fieldPath}`)
      .sort();
    assert.deepEqual(ttl, [
      'alerts.expireAt',
      'cutouts.expireAt',
      'quarantine.expireAt',
    ]);
  });

  it('is shown in the docs: each recipe with its code, verbatim', () => {
    for (const r of RECIPES) {
      assert.ok(docs.includes(r.title), r.title);
      assert.ok(docs.includes(r.code), `code of "${r.title}"`);
    }
  });

  it('lists exactly the query shapes that src/store/alert-query.ts sends', () => {
    const db = new Firestore({projectId: 'shapes'});
    const col = db.collection('subscriptions').doc('s').collection('alerts');
    const group = db.collectionGroup('alerts');
    const t = new Date('2026-12-01T00:00:00Z');
    const cursor = {publishTimeMicros: '1764547200000000', id: 'x'};
    const sent = (queries: Query[]) => {
      assert.equal(queries.length, ALERT_SHARDS, 'one query per shard');
      return shapeOf(queries[0]);
    };
    const newest = [
      {},
      {since: t},
      {until: t},
      {after: cursor},
      {band: 'r'},
      {band: 'r', since: t, until: t},
      {magMin: 15},
      {magMax: 18, after: cursor},
      {band: 'g', magMin: 15, magMax: 18},
      {band: 'g', magMin: 15, since: t, after: cursor},
    ].map(o => sent(newestShardQueries(col, o)));
    const window = [
      {jdMin: 2460000},
      {jdMin: 2460000, jdMax: 2460001, band: 'r'},
      {jdMax: 2460001, magMax: 18},
      {jdMin: 2460000, band: 'i', magMin: 15, magMax: 19},
    ].map(o => sent(windowShardQueries(col, o)));
    const shapes = [
      ...newest,
      sent(newestShardQueries(group, {})),
      shapeOf(objectQuery(group, 'ZTF18abcdefg')),
      ...window,
    ];
    assert.deepEqual(
      [...new Set(shapes.map(key))].sort(),
      [...new Set(allShapes().map(key))].sort(),
    );
  });

  it('derives indexes as Firestore requires them (implicit orders follow the last order-by)', () => {
    const byVariant = (title: string, variant: string) =>
      requiredIndex(
        RECIPES.find(r => r.title === title)!.shapes.find(
          s => s.variant === variant,
        )!,
      );
    assert.deepEqual(
      byVariant(
        'Newest alerts of one subscription',
        'a band, a magnitude range and a publish-time window',
      ),
      {
        kind: 'composite',
        scope: 'COLLECTION',
        fields: [
          ['shard', 'ASCENDING'],
          ['band', 'ASCENDING'],
          ['publishTime', 'DESCENDING'],
          ['mag', 'DESCENDING'],
        ],
      },
    );
    assert.deepEqual(
      byVariant("An object's light curve across subscriptions", 'alone'),
      {
        kind: 'composite',
        scope: 'COLLECTION_GROUP',
        fields: [
          ['shard', 'ASCENDING'],
          ['objectId', 'ASCENDING'],
          ['jd', 'ASCENDING'],
        ],
      },
    );
    assert.deepEqual(
      byVariant('Alerts observed in a time window', 'a magnitude range'),
      {
        kind: 'composite',
        scope: 'COLLECTION',
        fields: [
          ['shard', 'ASCENDING'],
          ['jd', 'ASCENDING'],
          ['mag', 'ASCENDING'],
        ],
      },
    );
  });

  it('refuses a file the plan could not deploy, saying where', () => {
    const cases: Array<[string, RegExp]> = [
      ['{', /not JSON/],
      ['[]', /the file must be an object/],
      [
        '{"indexes": [{"collectionGroup": "alerts", "queryScope": "COLLECTION", "fields": [{"fieldPath": "jd", "order": "ASCENDING"}]}]}',
        /indexes\[0\] needs at least two fields/,
      ],
      [
        '{"indexes": [{"collectionGroup": "alerts", "queryScope": "DATABASE", "fields": [{"fieldPath": "jd", "order": "ASCENDING"}, {"fieldPath": "mag", "order": "ASCENDING"}]}]}',
        /indexes\[0\]\.queryScope/,
      ],
      [
        '{"fieldOverrides": [{"collectionGroup": "alerts", "fieldPath": "a b", "indexes": []}]}',
        /fieldOverrides\[0\]\.fieldPath/,
      ],
      [
        '{"fieldOverrides": [{"collectionGroup": "alerts", "fieldPath": "jd", "indexes": [{"queryScope": "COLLECTION", "order": "UP"}]}]}',
        /fieldOverrides\[0\]\.indexes\[0\]\.order/,
      ],
      [
        '{"fieldOverrides": [{"collectionGroup": "alerts", "fieldPath": "expireAt", "ttl": "yes", "indexes": []}]}',
        /fieldOverrides\[0\]\.ttl/,
      ],
      [
        '{"fieldOverrides": [{"collectionGroup": "alerts", "fieldPath": "a", "ttl": true, "indexes": []}, {"collectionGroup": "alerts", "fieldPath": "b", "ttl": true, "indexes": []}]}',
        /more than one TTL field/,
      ],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseIndexFile(text),
        (e: AlertError) => e.code === 'bad-config' && message.test(e.message),
        text,
      );
    }
  });
});
