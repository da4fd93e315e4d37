import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {AlertError} from '../../../src/errors';
import {
  compileFilter,
  Filter,
  LIMITS,
  parseFilter,
  validateFilter,
} from '../../../src/filter';

const leaf = {field: 'mag', op: 'lt', value: 19};

function nest(depth: number): unknown {
  let f: unknown = leaf;
  for (let i = 1; i < depth; i++) f = {not: f};
  return f;
}

/** [name, filter JSON, JSON path in the error, message pattern] */
const refused: Array<[string, unknown, string, RegExp]> = [
  ['not an object', 42, '$', /expected a filter object, got number 42/],
  ['an array', [leaf], '$', /got an array/],
  ['no kind', {value: 1}, '$', /expected one of "field"/],
  ['two kinds', {all: [leaf], not: leaf}, '$', /exactly one of/],
  ['unknown key in a leaf', {...leaf, valu: 1}, '$', /unknown key "valu"/],
  [
    'unknown key beside a combinator',
    {all: [leaf], x: 1},
    '$',
    /unknown key "x"/,
  ],
  [
    'unknown normalized name',
    {field: 'magnitude', op: 'lt', value: 1},
    '$.field',
    /unknown field "magnitude"/,
  ],
  [
    'unknown record root',
    {field: 'candidat.rb', op: 'gt', value: 0.5},
    '$.field',
    /"candidat" is not a top-level field/,
  ],
  [
    '__proto__ in a path',
    {field: 'candidate.__proto__.x', op: 'exists'},
    '$.field',
    /"__proto__" is not allowed/,
  ],
  [
    'constructor in a path',
    {field: 'candidate.constructor', op: 'exists'},
    '$.field',
    /"constructor" is not allowed/,
  ],
  [
    'bad segment',
    {field: 'candidate.r-b', op: 'exists'},
    '$.field',
    /not a valid path segment/,
  ],
  [
    'empty attribute key',
    {field: 'attributes.', op: 'exists'},
    '$.field',
    /not a valid message attribute/,
  ],
  [
    'unknown operator',
    {field: 'mag', op: 'like', value: 1},
    '$.op',
    /unknown operator string "like"/,
  ],
  ['missing value', {field: 'mag', op: 'lt'}, '$.value', /"lt" needs a value/],
  [
    'string for a number',
    {field: 'mag', op: 'lt', value: '19'},
    '$.value',
    /expected a finite number, got string "19"/,
  ],
  [
    'null value',
    {field: 'classtar', op: 'eq', value: null},
    '$.value',
    /expected a finite number, got null/,
  ],
  [
    'number for an id',
    {field: 'sourceId', op: 'eq', value: Number('2982177112815010003')},
    '$.value',
    /exact decimal string/,
  ],
  [
    'lt on a string field',
    {field: 'objectId', op: 'lt', value: 3},
    '$.op',
    /numeric field/,
  ],
  [
    'band outside its values',
    {field: 'band', op: 'eq', value: 'R'},
    '$.value',
    /one of u, g, r, i, z, y/,
  ],
  [
    'number for an attribute',
    {field: 'attributes.fid', op: 'eq', value: 1},
    '$.value',
    /attributes are strings/,
  ],
  [
    'object for a raw value',
    {field: 'candidate.rb', op: 'eq', value: {}},
    '$.value',
    /number, string or boolean/,
  ],
  [
    'value on exists',
    {field: 'mag', op: 'exists', value: true},
    '$.value',
    /takes no value/,
  ],
  [
    'empty in',
    {field: 'band', op: 'in', value: []},
    '$.value',
    /non-empty array/,
  ],
  [
    'bad member of in',
    {field: 'band', op: 'in', value: ['g', 2]},
    '$.value[1]',
    /expected a string/,
  ],
  [
    'between not a pair',
    {field: 'mag', op: 'between', value: [1]},
    '$.value',
    /\[low, high\]/,
  ],
  [
    'between reversed',
    {field: 'mag', op: 'between', value: [20, 18]},
    '$.value',
    /low \(20\) is above high \(18\)/,
  ],
  [
    'between on a string',
    {field: 'band', op: 'between', value: [1, 2]},
    '$.op',
    /numeric field/,
  ],
  ['empty all', {all: []}, '$.all', /empty "all"/],
  ['empty any', {any: []}, '$.any', /empty "any"/],
  ['all not an array', {all: leaf}, '$.all', /expected an array/],
  [
    'deep offending node',
    {all: [leaf, {any: [leaf, {not: {field: 'mag', op: 'gt'}}]}]},
    '$.all[1].any[1].not.value',
    /needs a value/,
  ],
  [
    'cone ra 360',
    {cone: {ra: 360, dec: 0, radiusArcsec: 1}},
    '$.cone.ra',
    /\[0, 360\)/,
  ],
  [
    'cone ra negative',
    {cone: {ra: -1, dec: 0, radiusArcsec: 1}},
    '$.cone.ra',
    /\[0, 360\)/,
  ],
  [
    'cone dec 91',
    {cone: {ra: 0, dec: 91, radiusArcsec: 1}},
    '$.cone.dec',
    /\[-90, 90\]/,
  ],
  [
    'cone radius 0',
    {cone: {ra: 0, dec: 0, radiusArcsec: 0}},
    '$.cone.radiusArcsec',
    /radiusArcsec/,
  ],
  [
    'cone radius too big',
    {cone: {ra: 0, dec: 0, radiusArcsec: 648001}},
    '$.cone.radiusArcsec',
    /radiusArcsec/,
  ],
  [
    'cone missing radius',
    {cone: {ra: 0, dec: 0}},
    '$.cone',
    /missing "radiusArcsec"/,
  ],
  [
    'cone string ra',
    {cone: {ra: '10', dec: 0, radiusArcsec: 1}},
    '$.cone.ra',
    /finite number/,
  ],
  [
    'cone extra key',
    {cone: {ra: 0, dec: 0, radiusArcsec: 1, r: 2}},
    '$.cone',
    /unknown key "r"/,
  ],
  [
    'too deep',
    nest(LIMITS.maxDepth + 1),
    `$${'.not'.repeat(LIMITS.maxDepth)}`,
    /too deep \(more than 16 levels\)/,
  ],
  [
    'too large',
    {any: Array.from({length: LIMITS.maxNodes}, () => leaf)},
    `$.any[${LIMITS.maxNodes - 1}]`,
    /too large \(more than 256 nodes\)/,
  ],
  [
    'long in',
    {
      field: 'objectId',
      op: 'in',
      value: Array.from({length: 1001}, (_, i) => `o${i}`),
    },
    '$.value',
    /at most 1000/,
  ],
  [
    '__proto__ key in a node',
    JSON.parse('{"field":"mag","op":"lt","value":1,"__proto__":{"x":1}}'),
    '$',
    /unknown key "__proto__"/,
  ],
];

describe('validateFilter refuses bad filters with the JSON path of the node', () => {
  for (const [name, json, path, message] of refused) {
    it(name, () => {
      assert.throws(
        () => validateFilter(json),
        (e: AlertError) => {
          assert.equal(e.name, 'PermanentError');
          assert.equal(e.code, 'invalid-filter');
          assert.equal(e.details.path, path);
          assert.ok(e.message.startsWith(`${path}: `), e.message);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});

describe('validateFilter accepts the language', () => {
  it('accepts the limits exactly and returns a clean copy', () => {
    assert.doesNotThrow(() => validateFilter(nest(LIMITS.maxDepth)));
    assert.doesNotThrow(() =>
      validateFilter({
        any: Array.from({length: LIMITS.maxNodes - 1}, () => leaf),
      }),
    );
    const json = {
      all: [
        {field: 'candidate.rb', op: 'gte', value: 0.65},
        {field: 'attributes.kafka.topic', op: 'exists'},
        {field: 'record.candid', op: 'eq', value: '123'},
        {field: 'diaSource.psfFlux', op: 'between', value: [0, 1e6]},
        {field: 'prv_candidates.0.magpsf', op: 'isNull'},
        {cone: {ra: 359.5, dec: -90, radiusArcsec: 648000}},
      ],
    };
    const f = validateFilter(json);
    assert.deepEqual(f, json);
    assert.notEqual(f, json);
    assert.equal(validateFilter(null), null);
  });

  it('parseFilter refuses text that is not JSON', () => {
    assert.throws(
      () => parseFilter('{"field": '),
      (e: AlertError) => e.code === 'invalid-filter' && e.details.path === '$',
    );
    assert.deepEqual(parseFilter(JSON.stringify(leaf)), leaf);
  });
});

describe('compileFilter on a hand-built, unvalidated filter', () => {
  it('refuses an unknown field with a typed error', () => {
    const bad = {field: 'nosuch', op: 'eq', value: 1} as Filter;
    assert.throws(
      () => compileFilter(bad),
      (e: AlertError) =>
        e.code === 'invalid-filter' && /nosuch/.test(e.message),
    );
  });
});
