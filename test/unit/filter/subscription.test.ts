import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  LIMITS,
  toSubscriptionFilter,
  topicHasIdAttributes,
  validateFilter,
} from '../../../src/filter';

const v = (json: unknown) => validateFilter(json);
const attr = (key: string, op: string, value?: unknown) =>
  value === undefined
    ? {field: `attributes.${key}`, op}
    : {field: `attributes.${key}`, op, value};

describe('toSubscriptionFilter: attribute leaves compile to Pub/Sub filter syntax', () => {
  const table: Array<[string, unknown, string]> = [
    ['eq', attr('fid', 'eq', '1'), 'attributes.fid = "1"'],
    [
      'ne (present and different)',
      attr('fid', 'ne', '1'),
      'attributes:fid AND attributes.fid != "1"',
    ],
    [
      'in',
      attr('fid', 'in', ['1', '2']),
      'attributes.fid = "1" OR attributes.fid = "2"',
    ],
    ['in of one', attr('fid', 'in', ['3']), 'attributes.fid = "3"'],
    ['exists', attr('is_pure', 'exists'), 'attributes:is_pure'],
    ['isNull', attr('is_pure', 'isNull'), 'NOT attributes:is_pure'],
    [
      'dotted key is quoted',
      attr('kafka.topic', 'eq', 'ztf_x'),
      'attributes."kafka.topic" = "ztf_x"',
    ],
    [
      'dotted key has',
      attr('kafka.topic', 'exists'),
      'attributes:"kafka.topic"',
    ],
    [
      'value quotes escaped',
      attr('k', 'eq', 'a"b\\c'),
      'attributes.k = "a\\"b\\\\c"',
    ],
    ['not', {not: attr('fid', 'eq', '1')}, 'NOT attributes.fid = "1"'],
    [
      'not of a compound',
      {not: attr('fid', 'in', ['1', '2'])},
      'NOT (attributes.fid = "1" OR attributes.fid = "2")',
    ],
    [
      'all with an any inside is parenthesised',
      {all: [attr('is_pure', 'eq', '1'), attr('fid', 'in', ['1', '2'])]},
      'attributes.is_pure = "1" AND (attributes.fid = "1" OR attributes.fid = "2")',
    ],
    [
      'any of alls',
      {
        any: [
          {all: [attr('a', 'eq', '1'), attr('b', 'eq', '1')]},
          attr('c', 'exists'),
        ],
      },
      '(attributes.a = "1" AND attributes.b = "1") OR attributes:c',
    ],
    [
      'nested all flattens',
      {
        all: [
          attr('a', 'eq', '1'),
          {all: [attr('b', 'eq', '1'), attr('c', 'eq', '1')]},
        ],
      },
      'attributes.a = "1" AND attributes.b = "1" AND attributes.c = "1"',
    ],
    [
      'not inside and is parenthesised',
      {all: [attr('a', 'isNull'), attr('b', 'eq', '1')]},
      '(NOT attributes:a) AND attributes.b = "1"',
    ],
  ];
  for (const [name, json, expression] of table) {
    it(name, () => {
      const f = v(json);
      assert.deepEqual(toSubscriptionFilter(f), {
        expression,
        serverSide: f,
        inProcess: null,
      });
    });
  }
});

describe('toSubscriptionFilter: what stays in-process', () => {
  it('splits a top-level all into server-side and in-process conjuncts', () => {
    const f = v({
      all: [
        attr('is_pure', 'eq', '1'),
        {field: 'candidate.rb', op: 'gte', value: 0.65},
        attr('fid', 'in', ['1', '2']),
        {cone: {ra: 10, dec: 20, radiusArcsec: 60}},
      ],
    });
    const plan = toSubscriptionFilter(f);
    assert.equal(
      plan.expression,
      'attributes.is_pure = "1" AND (attributes.fid = "1" OR attributes.fid = "2")',
    );
    assert.deepEqual(plan.serverSide, {
      all: [attr('is_pure', 'eq', '1'), attr('fid', 'in', ['1', '2'])],
    });
    assert.deepEqual(plan.inProcess, {
      all: [
        {field: 'candidate.rb', op: 'gte', value: 0.65},
        {cone: {ra: 10, dec: 20, radiusArcsec: 60}},
      ],
    });
  });

  const inProcessOnly: Array<[string, unknown]> = [
    ['numeric comparison on an attribute', attr('fid', 'gt', 1)],
    ['normalized field', {field: 'mag', op: 'lt', value: 19}],
    ['raw path', {field: 'candidate.fid', op: 'eq', value: 1}],
    ['cone', {cone: {ra: 1, dec: 1, radiusArcsec: 1}}],
    [
      'any with an in-process branch',
      {any: [attr('fid', 'eq', '1'), {field: 'mag', op: 'lt', value: 19}]},
    ],
    ['not of an in-process leaf', {not: {field: 'mag', op: 'lt', value: 19}}],
    [
      'objectId without id attributes',
      {field: 'objectId', op: 'eq', value: 'ZTF18abc'},
    ],
  ];
  for (const [name, json] of inProcessOnly) {
    it(name, () => {
      const f = v(json);
      assert.deepEqual(toSubscriptionFilter(f), {
        expression: null,
        serverSide: null,
        inProcess: f,
      });
    });
  }

  it('the empty filter has no part anywhere', () => {
    assert.deepEqual(toSubscriptionFilter(null), {
      expression: null,
      serverSide: null,
      inProcess: null,
    });
  });
});

describe('toSubscriptionFilter: ids map to attributes on ZTF streams only', () => {
  it('knows which topics carry objectId / candid attributes', () => {
    assert.equal(topicHasIdAttributes('ztf-loop'), true);
    assert.equal(
      topicHasIdAttributes('projects/ardent-cycling-243415/topics/ztf-lite'),
      true,
    );
    assert.equal(topicHasIdAttributes('lsst-alerts'), false);
  });
  it('compiles objectId / sourceId to the objectId / candid attributes', () => {
    const f = v({
      all: [
        {field: 'objectId', op: 'in', value: ['ZTF18abc', 'ZTF19xyz']},
        {field: 'sourceId', op: 'ne', value: '2982177112815010003'},
        {field: 'objectId', op: 'exists'},
      ],
    });
    const plan = toSubscriptionFilter(f, {idAttributes: true});
    assert.equal(
      plan.expression,
      '(attributes.objectId = "ZTF18abc" OR attributes.objectId = "ZTF19xyz") AND attributes:candid AND attributes.candid != "2982177112815010003"',
    );
    // objectId always exists in-process: nothing to gain server-side
    assert.deepEqual(plan.inProcess, {field: 'objectId', op: 'exists'});
  });
});

describe('toSubscriptionFilter: the 256-byte limit', () => {
  it('keeps conjuncts while they fit, and leaves the rest in-process', () => {
    const ids = (p: string) => Array.from({length: 6}, (_, i) => `${p}${i}`);
    const f = v({
      all: [
        attr('a', 'in', ids('ZTF18aaaaaa')),
        attr('b', 'in', ids('ZTF18bbbbbb')),
        attr('c', 'eq', '1'),
      ],
    });
    const plan = toSubscriptionFilter(f);
    assert.ok(plan.expression !== null);
    assert.ok(
      Buffer.byteLength(plan.expression) <= LIMITS.maxSubscriptionFilterBytes,
    );
    assert.match(plan.expression, /attributes\.a = /);
    assert.doesNotMatch(plan.expression, /attributes\.b = /);
    assert.match(plan.expression, /attributes\.c = "1"$/);
    assert.deepEqual(plan.inProcess, attr('b', 'in', ids('ZTF18bbbbbb')));
  });
  it('counts bytes, not characters', () => {
    const f = v(attr('k', 'eq', 'é'.repeat(120))); // 240 bytes of value
    assert.equal(toSubscriptionFilter(f).expression, null);
    assert.ok(toSubscriptionFilter(f, {maxBytes: 300}).expression);
  });
  it('a single leaf too long for the limit runs in-process', () => {
    const f = v(
      attr(
        'k',
        'in',
        Array.from({length: 40}, (_, i) => `v${i}`),
      ),
    );
    assert.deepEqual(toSubscriptionFilter(f), {
      expression: null,
      serverSide: null,
      inProcess: f,
    });
  });
});
