/**
 * What `npm start` replays: the shipped real packets first (ZTF to the ZTF
 * topic, LSST to the LSST one), then generated ones; generated only; or the
 * files given.
 */

import {strict as assert} from 'node:assert';
import {readdirSync} from 'node:fs';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {planReplay} from '../../../src/local/replay-plan';
import {samplesDir, schemasDir} from '../../../src/local/samples';

const schemaSource = path.join(schemasDir(), 'lsst');
const avro = (survey: string) =>
  readdirSync(path.join(samplesDir(), survey))
    .filter(f => f.endsWith('.avro'))
    .sort();

describe('planReplay', () => {
  it('by default: every real ZTF packet first, then the generated ones; every real LSST packet apart', async () => {
    const warnings: string[] = [];
    const plan = await planReplay({
      generate: 3,
      schemaSource,
      onWarning: w => warnings.push(w),
    });
    assert.deepEqual(warnings, []);
    const ztf = avro('ztf');
    assert.equal(ztf.length, 4);
    assert.deepEqual(
      plan.ztf.map(p => p.origin),
      [
        ...ztf.map(f => path.join(samplesDir(), 'ztf', f)),
        'generated:1',
        'generated:2',
        'generated:3',
      ],
    );
    assert.ok(plan.ztf.every(p => p.survey === 'ztf'));
    // Attributes as Pitt-Google sets them, from the decoded packet.
    for (const [i, f] of ztf.entries()) {
      const [, , objectId, candid] = f.replace(/\.avro$/, '').split('-');
      assert.deepEqual(plan.ztf[i].attributes, {objectId, candid});
    }
    assert.deepEqual(
      plan.lsst.map(p => path.basename(p.origin)),
      avro('lsst'),
    );
    assert.ok(plan.lsst.length >= 7);
    assert.ok(plan.lsst.every(p => p.survey === 'lsst'));
    assert.match(plan.description, /\(4 ZTF, 7 LSST\), then 3 generated/);
  });

  it('--generated-only: the generated packets alone, as before', async () => {
    const plan = await planReplay({generate: 2, generatedOnly: true});
    assert.deepEqual(
      plan.ztf.map(p => p.origin),
      ['generated:1', 'generated:2'],
    );
    assert.deepEqual(plan.lsst, []);
    assert.equal(plan.description, '2 generated ZTF packets');
  });

  it('--samples: those files alone, split by survey', async () => {
    const plan = await planReplay({
      samples: [
        path.join(samplesDir(), 'lsst'),
        path.join(samplesDir(), 'ztf'),
      ],
      generate: 5,
      schemaSource,
    });
    assert.equal(plan.ztf.length, 4);
    assert.equal(plan.lsst.length, avro('lsst').length);
    assert.ok(!plan.ztf.some(p => p.origin.startsWith('generated')));
  });
});
