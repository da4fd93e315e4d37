import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {describeFilter, validateFilter} from '../../../src/filter';

const words = (json: unknown) => describeFilter(validateFilter(json));

describe('describeFilter', () => {
  it('says each operator in words', () => {
    assert.equal(
      words({field: 'classtar', op: 'lt', value: 0.5}),
      'classtar is less than 0.5',
    );
    assert.equal(
      words({field: 'mag', op: 'between', value: [14, 19]}),
      'mag is between 14 and 19',
    );
    assert.equal(
      words({field: 'band', op: 'in', value: ['g', 'r']}),
      'band is one of "g", "r"',
    );
    assert.equal(
      words({field: 'classtar', op: 'isNull'}),
      'classtar is missing or null',
    );
    assert.equal(
      words({field: 'candidate.drb', op: 'exists'}),
      'candidate.drb is present',
    );
  });

  it('nests combinators in parentheses; quotes strings as JSON', () => {
    assert.equal(
      words({
        all: [
          {field: 'classtar', op: 'gte', value: 0.5},
          {
            any: [
              {field: 'band', op: 'eq', value: 'r'},
              {cone: {ra: 150.1, dec: 2.2, radiusArcsec: 3600}},
            ],
          },
          {not: {field: 'attributes.fid', op: 'eq', value: '3" or "x'}},
        ],
      }),
      'classtar is at least 0.5 and (band equals "r" or within 3600 arcsec of ra 150.1, dec 2.2) and not (attributes.fid equals "3\\" or \\"x")',
    );
    assert.equal(describeFilter(null), 'every alert passes (no filter)');
  });
});
