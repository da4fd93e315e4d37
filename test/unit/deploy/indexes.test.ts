import {strict as assert} from 'node:assert';
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {describe, it} from 'node:test';

import {AlertError} from '../../../src/errors';
import {parseIndexFile} from '../../../src/deploy/indexes';
import {declares, RECIPES, requiredIndex} from '../../../src/deploy/recipes';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const file = parseIndexFile(
  readFileSync(resolve(ROOT, 'deploy/firestore.indexes.json'), 'utf8'),
);
const docs = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

describe('firestore.indexes.json', () => {
  it('serves every recipe', () => {
    for (const r of RECIPES) {
      assert.ok(
        declares(file, requiredIndex(r)),
        `${r.title}: ${JSON.stringify(requiredIndex(r))}`,
      );
    }
  });

  it('declares no index that no recipe uses', () => {
    const needs = RECIPES.map(requiredIndex);
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
      if (o.indexes.length > 0) {
        // An override replaces the automatic indexes: it must keep both
        // collection-scope orders so that no ordinary query loses its index.
        const orders = o.indexes
          .filter(x => x.queryScope === 'COLLECTION')
          .map(x => x.order)
          .sort();
        assert.deepEqual(orders, ['ASCENDING', 'DESCENDING'], o.fieldPath);
      }
    }
  });

  it('exempts the large maps from indexing, and no recipe filters on them', () => {
    const exempt = file.fieldOverrides
      .filter(o => o.indexes.length === 0)
      .map(o => o.fieldPath)
      .sort();
    assert.deepEqual(exempt, [
      'attributes',
      'cutouts',
      'histories',
      'record',
      'tom',
    ]);
    for (const r of RECIPES) {
      for (const f of [
        ...r.equality,
        ...r.inequality,
        ...r.orderBy.map(([x]) => x),
      ]) {
        assert.ok(!exempt.includes(f.split('.')[0]), `${r.title} uses ${f}`);
      }
    }
  });

  it('is shown in README.md: each recipe with its code, verbatim', () => {
    for (const r of RECIPES) {
      assert.ok(docs.includes(r.title), r.title);
      assert.ok(docs.includes(r.code), `code of "${r.title}"`);
    }
  });

  it('derives indexes as Firestore requires them', () => {
    const [newest, newestAll, curve, , window, band] =
      RECIPES.map(requiredIndex);
    assert.deepEqual(newest, {kind: 'automatic', fieldPath: 'publishTime'});
    assert.deepEqual(newestAll, {
      kind: 'single-field',
      scope: 'COLLECTION_GROUP',
      fieldPath: 'publishTime',
      order: 'DESCENDING',
    });
    assert.deepEqual(curve, {
      kind: 'composite',
      scope: 'COLLECTION_GROUP',
      fields: [
        ['objectId', 'ASCENDING'],
        ['jd', 'ASCENDING'],
      ],
    });
    assert.deepEqual(window, {
      kind: 'composite',
      scope: 'COLLECTION',
      fields: [
        ['jd', 'ASCENDING'],
        ['mag', 'ASCENDING'],
      ],
    });
    assert.deepEqual(band, {
      kind: 'composite',
      scope: 'COLLECTION',
      fields: [
        ['band', 'ASCENDING'],
        ['jd', 'ASCENDING'],
      ],
    });
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
