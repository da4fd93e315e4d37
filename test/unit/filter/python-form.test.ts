import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import type {Alert} from '../../../src/alert/model';
import {AlertError} from '../../../src/errors';
import {
  compileFilter,
  fromPythonForm,
  validateFilter,
} from '../../../src/filter';

/**
 * tom_pittgoogle's rule, transcribed: with no threshold everything passes;
 * `lt` keeps classtar < threshold, `gt` keeps classtar >= threshold. (It
 * raised on a null classtar; that case is tested separately.)
 */
function pythonRule(
  classtar: number,
  threshold: number | null,
  gtLt: 'lt' | 'gt',
): boolean {
  if (threshold === null) return true;
  return gtLt === 'lt' ? classtar < threshold : classtar >= threshold;
}

function withClasstar(classtar: number | null): Alert {
  return {
    survey: 'ztf',
    format: 'avro-ocf',
    schemaVersion: '4.02',
    objectId: 'ZTF00aaaaaaa',
    sourceId: '1',
    ra: 0,
    dec: 0,
    jd: null,
    mjd: null,
    mag: null,
    magErr: null,
    band: null,
    nPrevious: null,
    classtar,
    cutouts: {},
    record: {},
  };
}

const classtars = [
  0, 1e-9, 0.1, 0.25, 0.4999999, 0.5, 0.5000001, 0.75, 0.98, 1,
];
const thresholds = [null, 0, 0.25, 0.5, 0.98, 1];

describe('fromPythonForm: same decision as tom_pittgoogle for every non-null classtar', () => {
  for (const gtLt of ['lt', 'gt'] as const) {
    for (const t of thresholds) {
      it(`classtar_gt_lt=${gtLt}, classtar_threshold=${t}`, () => {
        // the stored form is validated like any filter
        const filter = validateFilter(
          fromPythonForm({classtar_threshold: t, classtar_gt_lt: gtLt}),
        );
        const f = compileFilter(filter);
        for (const c of classtars) {
          assert.equal(
            f.matches(withClasstar(c)),
            pythonRule(c, t, gtLt),
            `classtar ${c}`,
          );
        }
      });
    }
  }

  it('accepts the form values as strings, as an HTML form sends them', () => {
    assert.deepEqual(
      fromPythonForm({classtar_threshold: '0.5', classtar_gt_lt: 'gt'}),
      {field: 'classtar', op: 'gte', value: 0.5},
    );
    assert.equal(
      fromPythonForm({classtar_threshold: '', classtar_gt_lt: 'lt'}),
      null,
    );
    assert.equal(fromPythonForm({}), null);
  });

  it('a null classtar is refused by the filter instead of crashing', () => {
    const f = compileFilter(
      fromPythonForm({classtar_threshold: 0.5, classtar_gt_lt: 'lt'}),
    );
    assert.equal(f.matches(withClasstar(null)), false);
    // with no threshold everything passes, null classtar included (as in Python)
    assert.equal(
      compileFilter(fromPythonForm({})).matches(withClasstar(null)),
      true,
    );
  });

  it('refuses bad form values with the form field as the path', () => {
    for (const [form, path] of [
      [{classtar_threshold: 1.5, classtar_gt_lt: 'lt'}, '$.classtar_threshold'],
      [
        {classtar_threshold: 'abc', classtar_gt_lt: 'lt'},
        '$.classtar_threshold',
      ],
      [{classtar_threshold: 0.5}, '$.classtar_gt_lt'],
      [{classtar_threshold: 0.5, classtar_gt_lt: 'ge'}, '$.classtar_gt_lt'],
    ] as const) {
      assert.throws(
        () => fromPythonForm(form),
        (e: AlertError) =>
          e.code === 'invalid-filter' && e.details.path === path,
      );
    }
  });
});
