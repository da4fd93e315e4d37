/**
 * Real packets: the shipped samples/ unless ALERT_SAMPLES_DIR /
 * ALERT_SCHEMAS_DIR point elsewhere (src/local/samples.ts).
 */

import {strict as assert} from 'node:assert';
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {createDecoder} from '../../../src/alert';
import {samplesDir, schemasDir} from '../../../src/local/samples';

const samples = samplesDir();
const schemas = schemasDir();

function files(sub: string): string[] {
  const dir = path.join(samples, sub);
  return existsSync(dir)
    ? readdirSync(dir)
        .sort()
        .map(f => path.join(dir, f))
    : [];
}

describe('real alert packets', () => {
  it('every ZTF sample decodes with the ids of its file name', async () => {
    const d = createDecoder();
    const ztf = files('ztf');
    assert.ok(ztf.length > 0, `no ZTF samples under ${samples}`);
    for (const f of ztf) {
      const m = /^ztf-v([\d.]+)-(\w+)-(\d+)\.avro$/.exec(path.basename(f));
      assert.ok(m, `unexpected sample name ${f}`);
      const alerts = await d.decode(readFileSync(f));
      assert.equal(alerts.length, 1, f);
      const [a] = alerts;
      assert.equal(a.survey, 'ztf');
      assert.equal(a.schemaVersion, m[1], f);
      assert.equal(a.objectId, m[2], f);
      assert.equal(a.sourceId, m[3], f);
      assert.ok(
        a.ra !== null && a.dec !== null && a.jd !== null && a.mag !== null,
        f,
      );
      assert.ok(['g', 'r', 'i'].includes(a.band ?? ''), f);
      assert.ok(a.cutouts.science && a.cutouts.science.data.length > 1000, f);
    }
  });

  it('every LSST sample decodes with the schema directory', async () => {
    const d = createDecoder({schemaSource: path.join(schemas, 'lsst')});
    const lsst = files('lsst');
    assert.ok(lsst.length > 0, `no LSST samples under ${samples}`);
    for (const f of lsst) {
      const m = /^lsst\.v(\d+)_(\d+)\./.exec(path.basename(f));
      assert.ok(m, `unexpected sample name ${f}`);
      const [a] = await d.decode(readFileSync(f));
      assert.equal(a.survey, 'lsst');
      assert.equal(a.schemaVersion, `${Number(m[1])}.${Number(m[2])}`, f);
      const rec = a.record as {diaSource: {diaSourceId: bigint}};
      assert.equal(a.sourceId, rec.diaSource.diaSourceId.toString(), f);
      assert.match(a.objectId, /^\d+$/, f);
      assert.ok(a.ra !== null && a.dec !== null && a.mjd !== null, f);
      assert.ok(a.band !== null, f);
    }
  });

  it('every sample under the directory decodes (no file left out)', async () => {
    const d = createDecoder({schemaSource: path.join(schemas, 'lsst')});
    const all = (readdirSync(samples, {recursive: true}) as string[])
      .map(f => path.join(samples, f))
      .filter(f => f.endsWith('.avro') && statSync(f).isFile());
    assert.ok(all.length > 0);
    for (const f of all) {
      const alerts = await d.decode(readFileSync(f));
      assert.ok(alerts.length >= 1, f);
    }
  });
});
