import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  BadParameter,
  DEFAULT_LIMIT,
  isBadParameter,
  parseAlertListParams,
  parseInstant,
  parseObjectId,
  parsePageParams,
  parseSourceId,
  parseStretch,
  parseSubscriptionName,
} from '../../../src/explore/params';

/** A cursor codec of the test: accepts "c:<anything>". */
const decode = (t: string) => {
  if (!t.startsWith('c:')) throw new Error('bad cursor');
  return {token: t.slice(2)};
};

const parse = (q: string) =>
  parseAlertListParams(new URLSearchParams(q), decode);

function badOf(v: unknown): BadParameter {
  assert.ok(
    isBadParameter(v),
    `expected a bad parameter, got ${JSON.stringify(v)}`,
  );
  return v;
}

describe('parseAlertListParams', () => {
  it('defaults: limit 50, no cursor, summary, no filters', () => {
    assert.deepEqual(parse(''), {
      limit: DEFAULT_LIMIT,
      cursor: null,
      format: 'summary',
    });
  });

  it('parses every parameter', () => {
    assert.deepEqual(
      parse(
        'limit=500&cursor=c:abc&band=r&magMin=14&magMax=19.5&since=2025-03-01T00:00:00Z&until=2025-03-02T01:30:00.250%2B01:00&format=generic',
      ),
      {
        limit: 500,
        cursor: {token: 'abc'},
        band: 'r',
        magMin: 14,
        magMax: 19.5,
        since: new Date('2025-03-01T00:00:00Z'),
        until: new Date('2025-03-02T00:30:00.250Z'),
        format: 'generic',
      },
    );
  });

  const cases: Array<[string, string]> = [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=', 'limit'],
    ['limit=1e2', 'limit'],
    ['limit=0x10', 'limit'],
    ['limit= 5', 'limit'],
    ['cursor=', 'cursor'],
    ['cursor=zzz', 'cursor'],
    ['cursor=c:' + 'x'.repeat(2000), 'cursor'],
    ['band=R', 'band'],
    ['band=q', 'band'],
    ['band=', 'band'],
    ['magMin=abc', 'magMin'],
    ['magMin=NaN', 'magMin'],
    ['magMin=Infinity', 'magMin'],
    ['magMin=', 'magMin'],
    ['magMin=0x10', 'magMin'],
    ['magMax=1e999', 'magMax'],
    ['magMin=20&magMax=19', 'magMax'],
    ['since=2025-03-01', 'since'],
    ['since=2025-03-01T00:00:00', 'since'],
    ['since=2025-02-30T00:00:00Z', 'since'],
    ['since=2025-13-01T00:00:00Z', 'since'],
    ['since=2025-03-01T24:00:00Z', 'since'],
    ['since=yesterday', 'since'],
    ['until=1740787200', 'until'],
    ['since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z', 'until'],
    ['since=2025-03-01T00:00:00Z&until=2025-03-01T00:00:00Z', 'until'],
    ['format=json', 'format'],
    ['format=', 'format'],
    ['magmin=3', 'magmin'],
    ['limit=5&limit=6', 'limit'],
    ['band=r&band=g', 'band'],
  ];
  for (const [q, parameter] of cases) {
    it(`${q.slice(0, 60)} → 400 naming ${parameter}`, () => {
      const b = badOf(parse(q));
      assert.equal(b.parameter, parameter);
      assert.equal(b.error, 'bad-parameter');
      assert.ok(b.detail.length > 10);
    });
  }

  it('magMin equal to magMax is a valid (one-value) range', () => {
    const p = parse('magMin=18&magMax=18');
    assert.ok(!isBadParameter(p));
    assert.equal(p.magMin, 18);
  });

  it('an unknown parameter name is cut to 100 characters in the answer', () => {
    const b = badOf(parse(`${'k'.repeat(5000)}=1`));
    assert.equal(b.parameter.length, 100);
  });
});

describe('parseInstant', () => {
  it('reads zones, optional seconds and fractions', () => {
    assert.equal(
      parseInstant('2025-03-01T12:34Z')?.toISOString(),
      '2025-03-01T12:34:00.000Z',
    );
    assert.equal(
      parseInstant('2025-03-01T12:34:56.123456789-05:30')?.toISOString(),
      '2025-03-01T18:04:56.123Z',
    );
    assert.equal(
      parseInstant('2024-02-29T00:00:00z')?.toISOString(),
      '2024-02-29T00:00:00.000Z',
    );
    assert.equal(parseInstant('0050-01-01T00:00:00Z')?.getUTCFullYear(), 50);
  });
  it('refuses what is not an instant', () => {
    for (const v of [
      '2023-02-29T00:00:00Z',
      '2025-03-01T00:60:00Z',
      '2025-03-01T00:00:60Z',
      '2025-03-01T00:00:00+24:00',
      '2025-03-01 00:00:00Z',
      '2025-03-01T00:00:00.Z',
      '2025-03-01T00:00:00.1234567890Z',
      '+002025-03-01T00:00:00Z',
    ]) {
      assert.equal(parseInstant(v), null, v);
    }
  });
});

describe('path ids', () => {
  it('subscription names follow the Pub/Sub rules', () => {
    assert.equal(parseSubscriptionName('ztf-loop'), 'ztf-loop');
    for (const bad of [
      '',
      'ab',
      '..',
      '.',
      'a/b',
      '1abc',
      'goog-x',
      '__x__',
      'x'.repeat(256),
      '<script>',
      "ab'c",
    ]) {
      assert.equal(
        badOf(parseSubscriptionName(bad)).parameter,
        'subscription',
        bad,
      );
    }
  });

  it('source ids: exact strings without / or control characters', () => {
    assert.equal(parseSourceId('2188216843315010016'), '2188216843315010016');
    for (const bad of [
      '',
      'a/b',
      'a\u0000',
      'a\nb',
      '\u007f',
      'x'.repeat(257),
      '\ud800',
    ]) {
      assert.equal(
        badOf(parseSourceId(bad)).parameter,
        'sourceId',
        JSON.stringify(bad),
      );
    }
  });

  it('object ids may hold any printable text (they are query values, never paths)', () => {
    assert.equal(parseObjectId('ZTF18abfkwnk'), 'ZTF18abfkwnk');
    assert.equal(parseObjectId('<script>/"x"'), '<script>/"x"');
    assert.equal(badOf(parseObjectId('a\tb')).parameter, 'objectId');
    assert.equal(badOf(parseObjectId('')).parameter, 'objectId');
  });
});

describe('page and stretch parameters', () => {
  it('quarantine pages take limit and cursor only', () => {
    assert.deepEqual(
      parsePageParams(new URLSearchParams('limit=3&cursor=c:q'), decode),
      {limit: 3, cursor: {token: 'q'}},
    );
    assert.equal(
      badOf(parsePageParams(new URLSearchParams('band=r'), decode)).parameter,
      'band',
    );
  });
  it('stretch is linear (default) or asinh', () => {
    assert.equal(parseStretch(new URLSearchParams('')), 'linear');
    assert.equal(parseStretch(new URLSearchParams('stretch=asinh')), 'asinh');
    assert.equal(
      badOf(parseStretch(new URLSearchParams('stretch=log'))).parameter,
      'stretch',
    );
  });
});
