import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import type {Alert} from '../../../src/alert/model';
import {
  compileFilter,
  explain,
  Filter,
  validateFilter,
} from '../../../src/filter';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    survey: 'ztf',
    format: 'avro-ocf',
    schemaVersion: '4.02',
    objectId: 'ZTF17aaarzyp',
    sourceId: '2982177112815010003',
    ra: 150.1,
    dec: 2.2,
    jd: 2460000.5,
    mjd: 60000,
    mag: 18.5,
    magErr: 0.1,
    band: 'r',
    nPrevious: 12,
    classtar: 0.97,
    cutouts: {},
    record: {
      objectId: 'ZTF17aaarzyp',
      candid: 2982177112815010003n,
      candidate: {
        rb: 0.8,
        drb: null,
        candid: 2982177112815010003n,
        fid: 2,
        isdiffpos: 't',
        ssnamenr: null,
        pid: 1234n,
      },
      prv_candidates: [{magpsf: 19.1}, {magpsf: 19.3}],
    },
    ...over,
  };
}

/** Validates (as the API does) then compiles and evaluates. */
function run(
  json: unknown,
  a: Alert = alert(),
  attributes?: Record<string, string>,
): boolean {
  const f = compileFilter(validateFilter(json));
  const got = f.matches(a, attributes);
  // explain must always agree with the compiled decision.
  assert.equal(explain(validateFilter(json), a, attributes).matches, got);
  return got;
}

const leaf = (field: string, op: string, value?: unknown) =>
  value === undefined ? {field, op} : {field, op, value};

describe('filter: every operator on numbers (mag = 18.5)', () => {
  const table: Array<[string, unknown, boolean]> = [
    ['lt', 19, true],
    ['lt', 18.5, false],
    ['lte', 18.5, true],
    ['lte', 18, false],
    ['gt', 18, true],
    ['gt', 18.5, false],
    ['gte', 18.5, true],
    ['gte', 19, false],
    ['eq', 18.5, true],
    ['eq', 18.4, false],
    ['ne', 18.4, true],
    ['ne', 18.5, false],
    ['in', [17, 18.5], true],
    ['in', [17, 18], false],
    ['between', [18, 19], true],
    ['between', [18.5, 18.5], true],
    ['between', [18.6, 19], false],
  ];
  for (const [op, value, want] of table) {
    it(`mag ${op} ${JSON.stringify(value)} → ${want}`, () => {
      assert.equal(run(leaf('mag', op, value)), want);
    });
  }
  it('exists / isNull on a present value', () => {
    assert.equal(run(leaf('mag', 'exists')), true);
    assert.equal(run(leaf('mag', 'isNull')), false);
  });
});

describe('filter: strings, ids and enumerations', () => {
  const table: Array<[unknown, boolean]> = [
    [leaf('objectId', 'eq', 'ZTF17aaarzyp'), true],
    [leaf('objectId', 'ne', 'ZTF17aaarzyp'), false],
    [leaf('objectId', 'in', ['ZTF18x', 'ZTF17aaarzyp']), true],
    [leaf('sourceId', 'eq', '2982177112815010003'), true],
    // one digit off, beyond 2^53: exact strings tell them apart
    [leaf('sourceId', 'eq', '2982177112815010004'), false],
    [leaf('band', 'in', ['g', 'r']), true],
    [leaf('band', 'eq', 'g'), false],
    [leaf('survey', 'eq', 'ztf'), true],
    [leaf('schemaVersion', 'eq', '4.02'), true],
  ];
  for (const [json, want] of table) {
    it(`${JSON.stringify(json)} → ${want}`, () =>
      assert.equal(run(json), want));
  }
});

describe('filter: raw record paths, bigint longs, no coercion', () => {
  const table: Array<[unknown, boolean]> = [
    [leaf('candidate.rb', 'gte', 0.65), true],
    [leaf('candidate.rb', 'lt', 0.65), false],
    [leaf('candidate.fid', 'eq', 2), true],
    [leaf('candidate.fid', 'eq', '2'), false], // no string/number coercion
    [leaf('candidate.isdiffpos', 'in', ['t', '1']), true],
    // bigint longs: exact comparison with numbers and decimal strings
    [leaf('candidate.candid', 'eq', '2982177112815010003'), true],
    [leaf('candidate.candid', 'eq', '2982177112815010002'), false],
    // the literal is the double 2982177112815009792; compared exactly
    [leaf('candidate.candid', 'gt', 2982177112815010000), true],
    [leaf('candidate.pid', 'eq', 1234), true],
    [leaf('candidate.pid', 'in', [1, 1234]), true],
    [leaf('candidate.pid', 'lt', 1234.5), true],
    [leaf('candidate.pid', 'gt', 1233.5), true],
    [leaf('candidate.pid', 'gt', 1234), false],
    [leaf('candidate.pid', 'between', [1234, 1234]), true],
    [leaf('record.candid', 'eq', '2982177112815010003'), true],
    [leaf('record.objectId', 'eq', 'ZTF17aaarzyp'), true],
    [leaf('prv_candidates.1.magpsf', 'eq', 19.3), true],
    [leaf('prv_candidates.5.magpsf', 'isNull'), true],
    // a path through a non-object is missing
    [leaf('candidate.rb.x', 'isNull'), true],
    [leaf('candidate.nosuchfield', 'exists'), false],
  ];
  for (const [json, want] of table) {
    it(`${JSON.stringify(json)} → ${want}`, () =>
      assert.equal(run(json), want));
  }

  it('compares a bigint exactly where Number() would round', () => {
    // 2^53 + 1 is not representable as a number.
    const a = alert({record: {candidate: {pid: 9007199254740993n}}});
    assert.equal(run(leaf('candidate.pid', 'gt', 9007199254740992), a), true);
    assert.equal(run(leaf('candidate.pid', 'eq', 9007199254740992), a), false);
    assert.equal(run(leaf('candidate.pid', 'eq', '9007199254740993'), a), true);
  });

  it('reads own properties only: inherited names are missing', () => {
    const record = Object.create({candidate: {rb: 1}}) as Record<
      string,
      unknown
    >;
    const a = alert({record});
    assert.equal(run(leaf('candidate.rb', 'exists'), a), false);
    assert.equal(run(leaf('candidate.rb', 'isNull'), a), true);
    // hasOwnProperty / toString are on every object's prototype
    const b = alert({record: {candidate: {}}});
    assert.equal(run(leaf('candidate.toString', 'exists'), b), false);
    assert.equal(run(leaf('candidate.hasOwnProperty', 'exists'), b), false);
  });

  it('handles records parsed from JSON with a "__proto__" key safely', () => {
    const record = JSON.parse(
      '{"candidate": {"__proto__": {"rb": 1}, "magpsf": 18}}',
    ) as Record<string, unknown>;
    const a = alert({record});
    assert.equal(run(leaf('candidate.rb', 'exists'), a), false);
    assert.equal(run(leaf('candidate.magpsf', 'eq', 18), a), true);
    assert.equal(({} as Record<string, unknown>).rb, undefined);
  });
});

describe('filter: nulls are false for every comparison, never an error', () => {
  const nullAlert = alert({
    classtar: null,
    mag: null,
    band: null,
    ra: null,
    dec: null,
  });
  const comparisons: Array<[string, unknown]> = [
    ['lt', 0.5],
    ['lte', 0.5],
    ['gt', 0.5],
    ['gte', 0.5],
    ['eq', 0.5],
    ['ne', 0.5],
    ['in', [0.5, 1]],
    ['between', [0, 1]],
  ];
  for (const [op, value] of comparisons) {
    it(`null classtar ${op} → false; missing raw ${op} → false`, () => {
      assert.equal(run(leaf('classtar', op, value), nullAlert), false);
      assert.equal(run(leaf('candidate.drb', op, value)), false); // null
      assert.equal(run(leaf('candidate.sgscore1', op, value)), false); // missing
      const attrValue =
        op === 'eq' || op === 'ne' ? '1' : op === 'in' ? ['1'] : value;
      assert.equal(
        run(leaf('attributes.rb', op, attrValue), alert(), {}),
        false,
      );
    });
  }
  it('isNull / exists see null, missing and NaN', () => {
    assert.equal(run(leaf('classtar', 'isNull'), nullAlert), true);
    assert.equal(run(leaf('classtar', 'exists'), nullAlert), false);
    assert.equal(run(leaf('band', 'isNull'), nullAlert), true);
    assert.equal(run(leaf('candidate.drb', 'isNull')), true);
    assert.equal(run(leaf('candidate.ssnamenr', 'exists')), false);
    const nan = alert({record: {candidate: {rb: NaN}}});
    assert.equal(run(leaf('candidate.rb', 'isNull'), nan), true);
    assert.equal(run(leaf('candidate.rb', 'ne', 0.5), nan), false);
  });
  it('`not` inverts the whole leaf: not(eq) is true on null, ne is false', () => {
    assert.equal(run({not: leaf('classtar', 'eq', 0.5)}, nullAlert), true);
    assert.equal(run(leaf('classtar', 'ne', 0.5), nullAlert), false);
  });
});

describe('filter: message attributes', () => {
  const attrs = {
    objectId: 'ZTF17aaarzyp',
    candid: '2982177112815010003',
    fid: '2',
    is_pure: '1',
    'kafka.topic': 'ztf_20240101_programid1',
  };
  const table: Array<[unknown, boolean]> = [
    [leaf('attributes.fid', 'eq', '2'), true],
    [leaf('attributes.fid', 'in', ['1', '2']), true],
    [leaf('attributes.fid', 'ne', '2'), false],
    [leaf('attributes.is_pure', 'eq', '1'), true],
    [leaf('attributes.kafka.topic', 'eq', 'ztf_20240101_programid1'), true],
    [leaf('attributes.rb', 'exists'), false],
    [leaf('attributes.rb', 'isNull'), true],
    // numeric comparisons parse the string (in-process only)
    [leaf('attributes.fid', 'gte', 2), true],
    [leaf('attributes.candid', 'gt', 2982177112815010000), true],
    [leaf('attributes.objectId', 'gt', 1), false], // not a number
  ];
  for (const [json, want] of table) {
    it(`${JSON.stringify(json)} → ${want}`, () =>
      assert.equal(run(json, alert(), attrs), want));
  }
  it('without attributes every attribute comparison is false', () => {
    assert.equal(run(leaf('attributes.fid', 'eq', '2')), false);
    assert.equal(run(leaf('attributes.fid', 'isNull')), true);
  });
  it('reports whether a filter reads attributes', () => {
    assert.equal(
      compileFilter(validateFilter(leaf('attributes.fid', 'eq', '1')))
        .readsAttributes,
      true,
    );
    assert.equal(
      compileFilter(validateFilter(leaf('mag', 'lt', 1))).readsAttributes,
      false,
    );
  });
});

describe('filter: combinators', () => {
  const T = leaf('mag', 'lt', 19);
  const F = leaf('mag', 'gt', 19);
  const table: Array<[unknown, boolean]> = [
    [{all: [T]}, true],
    [{all: [T, T]}, true],
    [{all: [T, F]}, false],
    [{all: [T, T, T, F]}, false],
    [{any: [F]}, false],
    [{any: [F, T]}, true],
    [{any: [F, F, F]}, false],
    [{any: [F, F, T]}, true],
    [{not: T}, false],
    [{not: {not: T}}, true],
    [{all: [T, {any: [F, {not: F}]}]}, true],
  ];
  for (const [json, want] of table) {
    it(`${JSON.stringify(json)} → ${want}`, () =>
      assert.equal(run(json), want));
  }
  it('null is the empty filter: everything passes', () => {
    assert.equal(compileFilter(null).matches(alert()), true);
    assert.deepEqual(explain(null, alert()), {matches: true, nodes: []});
  });
});

describe('filter: sky cone', () => {
  const cone = (ra: number, dec: number, radiusArcsec: number) => ({
    cone: {ra, dec, radiusArcsec},
  });
  const at = (ra: number | null, dec: number | null) => alert({ra, dec});
  const table: Array<[string, unknown, Alert, boolean]> = [
    ['centre', cone(150, 2, 1), at(150, 2), true],
    ['just inside (9.9")', cone(150, 2, 10), at(150, 2 + 9.9 / 3600), true],
    ['just outside (10.1")', cone(150, 2, 10), at(150, 2 + 10.1 / 3600), false],
    // RA separation shrinks with cos(dec): 20" of RA at dec 60 is 10" on sky
    ['RA scaled by cos(dec)', cone(10, 60, 10.1), at(10 + 20 / 3600, 60), true],
    ['RA scaled, outside', cone(10, 60, 9.9), at(10 + 20 / 3600, 60), false],
    // across RA 0/360
    [
      'across 0/360 (centre 359.999)',
      cone(359.999, 0, 10),
      at(0.0015, 0),
      true,
    ],
    ['across 0/360 (centre 0)', cone(0, 0, 10), at(359.9985, 0), true],
    ['across 0/360 outside', cone(0, 0, 10), at(359.99, 0), false],
    ['alert RA 360 equals 0', cone(0, 0, 1), at(360, 0), true],
    // near the poles every RA is close
    [
      'pole: opposite RA, 5" apart',
      cone(0, 90 - 2.5 / 3600, 6),
      at(180, 90 - 2.5 / 3600),
      true,
    ],
    [
      'pole: opposite RA, 20" apart',
      cone(0, 90 - 10 / 3600, 6),
      at(180, 90 - 10 / 3600),
      false,
    ],
    ['south pole centre', cone(123, -90, 3600), at(7, -89.5), true],
    ['south pole, outside', cone(123, -90, 3600), at(7, -88.9), false],
    ['whole sky (180 deg)', cone(0, 90, 648000), at(0, -90), true],
    ['null ra', cone(150, 2, 10), at(null, 2), false],
    ['null dec', cone(150, 2, 10), at(150, null), false],
  ];
  for (const [name, json, a, want] of table) {
    it(`${name} → ${want}`, () => assert.equal(run(json, a), want));
  }
  it('explain gives the great-circle distance', () => {
    const e = explain(validateFilter(cone(0, 0, 10)), at(359.9985, 0));
    assert.equal(e.nodes[0].kind, 'cone');
    assert.ok(Math.abs((e.nodes[0].distanceArcsec as number) - 5.4) < 1e-6);
  });
});

describe('explain', () => {
  it('lists every node with its JSON path, the value read and whether it held', () => {
    const f: Filter = validateFilter({
      all: [
        leaf('mag', 'lt', 19),
        {
          any: [
            leaf('classtar', 'gt', 0.99),
            leaf('candidate.candid', 'eq', '2982177112815010003'),
          ],
        },
        {not: leaf('candidate.drb', 'exists')},
      ],
    }) as Filter;
    const e = explain(f, alert());
    assert.equal(e.matches, true);
    assert.deepEqual(
      e.nodes.map(n => [n.path, n.kind, n.held, n.actual]),
      [
        ['$', 'all', true, undefined],
        ['$.all[0]', 'leaf', true, 18.5],
        ['$.all[1]', 'any', true, undefined],
        ['$.all[1].any[0]', 'leaf', false, 0.97],
        ['$.all[1].any[1]', 'leaf', true, '2982177112815010003'],
        ['$.all[2]', 'not', true, undefined],
        ['$.all[2].not', 'leaf', false, null],
      ],
    );
  });
});
