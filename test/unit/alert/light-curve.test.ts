/**
 * Light curves of the real packets (decoded form and Firestore form) and of
 * hand-made edge cases.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  FORCED_DETECTION_SNR,
  LightCurve,
  lightCurve,
} from '../../../src/alert/light-curve';
import {toAlertDocument} from '../../../src/store/alert-document';
import {realSamples} from '../../helpers/real-samples';

type Rec = Record<string, unknown>;
const JD0 = 2400000.5;

function checkFinite(lc: LightCurve, what: string): void {
  for (const d of lc.detections) {
    assert.ok(Number.isFinite(d.mag), `${what}: mag ${d.mag}`);
    assert.ok(Number.isFinite(d.mjd), `${what}: mjd ${d.mjd}`);
    assert.ok(
      d.magErr === null || Number.isFinite(d.magErr),
      `${what}: magErr ${d.magErr}`,
    );
  }
  for (const l of lc.upperLimits) {
    assert.ok(Number.isFinite(l.limitMag) && Number.isFinite(l.mjd), what);
  }
  const sorted = (xs: {mjd: number}[]) =>
    xs.every((x, i) => i === 0 || xs[i - 1].mjd <= x.mjd);
  assert.ok(sorted(lc.detections) && sorted(lc.upperLimits), `${what}: order`);
}

/** The record and parsed histories as the read API gets them from Firestore. */
function firestoreForm(alert: Parameters<typeof toAlertDocument>[0]): {
  record: Rec;
  histories: Record<string, unknown[] | null>;
} {
  const doc = toAlertDocument(alert, {subscription: 's'}, {cutouts: 'drop'});
  const texts = doc.data.histories as Record<string, string>;
  const histories: Record<string, unknown[] | null> = {};
  for (const [k, text] of Object.entries(texts)) {
    histories[k] = JSON.parse(text) as unknown[] | null;
  }
  return {record: doc.data.record as Rec, histories};
}

describe('lightCurve on the real packets', () => {
  it('ZTF: the candidate and each detection of the history, the non-detections as limits at diffmaglim', async () => {
    const ztf = (await realSamples()).filter(s => s.survey === 'ztf');
    assert.equal(ztf.length, 4);
    for (const {file, alert} of ztf) {
      const r = alert.record;
      const prv = (r.prv_candidates as Rec[] | null) ?? [];
      const lc = lightCurve('ztf', r, {});
      checkFinite(lc, file);

      const prvDetections = prv.filter(p => p.magpsf !== null);
      const prvLimits = prv.filter(
        p => p.magpsf === null && p.diffmaglim !== null,
      );
      const fp = (r.fp_hists as Rec[] | undefined) ?? [];
      const fpUsable = fp.filter(
        p =>
          p.procstatus === '0' &&
          p.forcediffimflux !== null &&
          (p.forcediffimfluxunc as number) > 0,
      );
      const fpDetections = fpUsable.filter(
        p =>
          Math.abs(p.forcediffimflux as number) /
            (p.forcediffimfluxunc as number) >=
          FORCED_DETECTION_SNR,
      );
      const prvEpochs = new Set(prv.map(p => `${p.jd}:${p.fid}`));
      const fpLimits = fpUsable.filter(
        p => !fpDetections.includes(p) && !prvEpochs.has(`${p.jd}:${p.fid}`),
      );
      const byOrigin = (o: string) => lc.detections.filter(d => d.origin === o);
      assert.equal(byOrigin('alert').length, 1, file);
      assert.equal(byOrigin('history').length, prvDetections.length, file);
      assert.equal(byOrigin('forced').length, fpDetections.length, file);
      assert.equal(
        lc.upperLimits.length,
        prvLimits.length + fpLimits.length,
        file,
      );
      if (file.includes('v4.02')) assert.ok(fpDetections.length > 0, file);

      const [own] = byOrigin('alert');
      assert.equal(own.sourceId, alert.sourceId);
      assert.equal(own.mag, alert.mag);
      assert.equal(own.magErr, alert.magErr);
      assert.equal(own.band, alert.band);
      assert.equal(own.mjd, alert.mjd);
      assert.deepEqual(
        byOrigin('history')
          .map(d => d.sourceId)
          .sort(),
        prvDetections.map(p => String(p.candid as bigint)).sort(),
        file,
      );
      // Exact ids above 2^53.
      for (const d of byOrigin('history')) assert.match(d.sourceId!, /^\d+$/);
      assert.deepEqual(
        lc.upperLimits
          .filter(l => prvLimits.some(p => p.jd === l.mjd + JD0))
          .map(l => l.limitMag)
          .sort(),
        prvLimits.map(p => p.diffmaglim as number).sort(),
        file,
      );
    }
  });

  it('LSST: diaSource and prvDiaSources as AB magnitudes from nJy', async () => {
    const lsst = (await realSamples()).filter(s => s.survey === 'lsst');
    assert.ok(lsst.length >= 7);
    for (const {file, alert} of lsst) {
      const r = alert.record;
      const lc = lightCurve('lsst', r, {});
      checkFinite(lc, file);
      const prv = (r.prvDiaSources as Rec[] | null) ?? [];
      const forced = (r.prvDiaForcedSources as Rec[] | null) ?? [];
      const limits = (r.prvDiaNondetectionLimits as Rec[] | null) ?? [];
      const positive = (e: Rec) => (e.psfFlux as number) > 0;
      const forcedDetection = (e: Rec) =>
        positive(e) &&
        (e.psfFlux as number) / (e.psfFluxErr as number) >=
          FORCED_DETECTION_SNR;
      assert.equal(
        lc.detections.filter(d => d.origin === 'history').length,
        prv.filter(positive).length,
        file,
      );
      assert.equal(
        lc.detections.filter(d => d.origin === 'forced').length,
        forced.filter(forcedDetection).length,
        file,
      );
      assert.ok(prv.length > 0, `${file}: a sample with a history`);
      const own = lc.detections.find(d => d.origin === 'alert')!;
      assert.equal(own.sourceId, alert.sourceId, file);
      assert.ok(Math.abs(own.mag - alert.mag!) < 1e-12, file);
      assert.ok(Math.abs(own.magErr! - alert.magErr!) < 1e-12, file);
      const src = r.diaSource as Rec;
      const flux = src.psfFlux as number;
      assert.ok(
        Math.abs(own.mag - (-2.5 * Math.log10(flux) + 31.4)) < 1e-12,
        file,
      );
      assert.deepEqual(
        lc.detections
          .filter(d => d.origin === 'history')
          .map(d => d.sourceId)
          .sort(),
        prv.map(p => (p.diaSourceId as bigint).toString()).sort(),
        file,
      );
      assert.equal(
        lc.upperLimits.length,
        prv.filter(p => !positive(p)).length +
          forced.filter(p => !forcedDetection(p)).length +
          limits.length,
        file,
      );
    }
  });

  it('gives the same light curve from the Firestore form (string ids, histories parsed from the stored JSON text)', async () => {
    for (const {file, survey, alert} of await realSamples()) {
      const decoded = lightCurve(survey, alert.record, {});
      const {record, histories} = firestoreForm(alert);
      assert.equal(record.prv_candidates, undefined, 'histories apart');
      assert.equal(record.prvDiaSources, undefined, 'histories apart');
      const stored = lightCurve(survey, record, histories);
      assert.deepEqual(stored, decoded, file);
      assert.ok(stored.detections.length > 0, file);
    }
  });
});

describe('lightCurve edge cases', () => {
  const ztfCandidate = (over: Rec = {}): Rec => ({
    jd: 2460000.5,
    fid: 1,
    magpsf: 18.5,
    sigmapsf: 0.1,
    diffmaglim: 20.2,
    ...over,
  });

  it('ZTF: null prv_candidates gives the candidate alone', () => {
    const lc = lightCurve('ztf', {
      objectId: 'ZTF20aaaaaaa',
      candid: 2982177112815010003n,
      candidate: ztfCandidate(),
      prv_candidates: null,
    });
    assert.deepEqual(lc, {
      detections: [
        {
          mjd: 60000,
          band: 'g',
          mag: 18.5,
          magErr: 0.1,
          sourceId: '2982177112815010003',
          origin: 'alert',
        },
      ],
      upperLimits: [],
    });
  });

  it('ZTF: a missing sigmapsf is a null error; a non-detection without diffmaglim is left out', () => {
    const lc = lightCurve('ztf', {
      candid: '12',
      candidate: ztfCandidate({sigmapsf: null}),
      prv_candidates: [
        ztfCandidate({jd: 2459999.5, candid: null, magpsf: null, fid: 2}),
        ztfCandidate({
          jd: 2459998.5,
          candid: null,
          magpsf: null,
          diffmaglim: null,
        }),
        ztfCandidate({jd: Number.NaN, candid: 13n}),
      ],
    });
    assert.equal(lc.detections.length, 1);
    assert.equal(lc.detections[0].magErr, null);
    assert.deepEqual(lc.upperLimits, [{mjd: 59999, band: 'r', limitMag: 20.2}]);
  });

  it('ZTF: histories given apart win over the record field; null means none', () => {
    const record = {
      candid: 1n,
      candidate: ztfCandidate(),
      prv_candidates: [ztfCandidate({candid: 2n, jd: 2459990.5})],
    };
    assert.equal(lightCurve('ztf', record, {}).detections.length, 2);
    assert.equal(
      lightCurve('ztf', record, {prv_candidates: null}).detections.length,
      1,
    );
  });

  it('ZTF forced photometry: |F|/σ ≥ 3 is a detection (negative flux too), weaker ones limits only at epochs the history lacks, bad status and the null sentinel left out', () => {
    const fp = (over: Rec): Rec => ({
      jd: 2459995.5,
      fid: 2,
      forcediffimflux: 1000,
      forcediffimfluxunc: 20,
      magzpsci: 26,
      procstatus: '0',
      ...over,
    });
    const lc = lightCurve('ztf', {
      candid: 1n,
      candidate: ztfCandidate(),
      prv_candidates: [
        ztfCandidate({jd: 2459994.5, fid: 2, candid: null, magpsf: null}),
      ],
      fp_hists: [
        fp({}),
        fp({jd: 2459996.5, forcediffimflux: -1000}),
        fp({jd: 2459994.5, forcediffimflux: 10}), // weak, epoch in history
        fp({jd: 2459993.5, forcediffimflux: 10}), // weak, new epoch
        fp({jd: 2459992.5, procstatus: '56'}),
        fp({jd: 2459991.5, forcediffimflux: -99999}),
        fp({jd: 2459990.5, forcediffimfluxunc: 0}),
        fp({jd: 2459989.5, magzpsci: null}),
      ],
    });
    const forced = lc.detections.filter(d => d.origin === 'forced');
    assert.equal(forced.length, 2);
    for (const d of forced) {
      assert.ok(Math.abs(d.mag - (26 - 7.5)) < 1e-12);
      assert.ok(Math.abs(d.magErr! - (2.5 / Math.LN10) * 0.02) < 1e-12);
      assert.equal(d.sourceId, null);
      assert.equal(d.band, 'r');
    }
    assert.equal(lc.upperLimits.length, 2);
    const fpLimit = lc.upperLimits.find(l => l.mjd === 59993)!;
    assert.ok(
      Math.abs(fpLimit.limitMag - (26 - 2.5 * Math.log10(100))) < 1e-12,
    );
  });

  const lsstSource = (over: Rec = {}): Rec => ({
    diaSourceId: 281323062375219200n,
    midpointMjdTai: 60900.25,
    band: 'i',
    psfFlux: 3631,
    psfFluxErr: 36.31,
    ...over,
  });

  it('LSST: negative flux is a 5σ upper limit, or nothing without an error', () => {
    const lc = lightCurve('lsst', {
      diaSource: lsstSource(),
      prvDiaSources: [
        lsstSource({
          diaSourceId: 2n,
          midpointMjdTai: 60899,
          psfFlux: -50,
          psfFluxErr: 10,
        }),
        lsstSource({
          diaSourceId: 3n,
          midpointMjdTai: 60898,
          psfFlux: -50,
          psfFluxErr: null,
        }),
        lsstSource({diaSourceId: 4n, midpointMjdTai: 60897, psfFluxErr: null}),
      ],
    });
    assert.equal(lc.detections.length, 2);
    const own = lc.detections.find(d => d.origin === 'alert')!;
    assert.equal(own.sourceId, '281323062375219200');
    assert.ok(Math.abs(own.mag - (31.4 - 2.5 * Math.log10(3631))) < 1e-12);
    assert.ok(Math.abs(own.magErr! - (2.5 / Math.LN10) * 0.01) < 1e-12);
    const noErr = lc.detections.find(d => d.sourceId === '4')!;
    assert.equal(noErr.magErr, null);
    assert.deepEqual(lc.upperLimits.length, 1);
    assert.ok(
      Math.abs(lc.upperLimits[0].limitMag - (31.4 - 2.5 * Math.log10(50))) <
        1e-12,
    );
    assert.equal(lc.upperLimits[0].mjd, 60899);
  });

  it('LSST: forced sources need S/N ≥ 3; non-detection limits from diaNoise; the alert is not counted twice', () => {
    const lc = lightCurve('lsst', {
      diaSource: lsstSource(),
      prvDiaSources: [lsstSource()], // the same source again
      prvDiaForcedSources: [
        {
          diaForcedSourceId: 9007199254740993n,
          midpointMjdTai: 60890,
          band: 'g',
          psfFlux: 100,
          psfFluxErr: 10,
        },
        {
          diaForcedSourceId: 8n,
          midpointMjdTai: 60891,
          band: 'g',
          psfFlux: 20,
          psfFluxErr: 10,
        },
        {
          diaForcedSourceId: 7n,
          midpointMjdTai: 60892,
          band: 'g',
          psfFlux: -20,
          psfFluxErr: 10,
        },
      ],
      prvDiaNondetectionLimits: [
        {ccdVisitId: 1n, midpointMjdTai: 60880, band: 'r', diaNoise: 20},
        {ccdVisitId: 2n, midpointMjdTai: 60881, band: 'r', diaNoise: 0},
      ],
    });
    assert.deepEqual(
      lc.detections.map(d => [d.origin, d.sourceId]),
      [
        ['forced', '9007199254740993'],
        ['alert', '281323062375219200'],
      ],
    );
    assert.deepEqual(
      lc.upperLimits.map(l => [l.mjd, l.band]),
      [
        [60880, 'r'],
        [60891, 'g'],
        [60892, 'g'],
      ],
    );
    assert.ok(
      Math.abs(lc.upperLimits[0].limitMag - (31.4 - 2.5 * Math.log10(100))) <
        1e-12,
    );
  });

  it('never throws on fields of the wrong type', () => {
    for (const survey of ['ztf', 'lsst'] as const) {
      const lc = lightCurve(survey, {
        candidate: 'x',
        prv_candidates: 'y',
        fp_hists: [null, 3, 'z'],
        diaSource: [1, 2],
        prvDiaSources: {a: 1},
        prvDiaForcedSources: [null],
        prvDiaNondetectionLimits: [[]],
      });
      assert.deepEqual(lc, {detections: [], upperLimits: []});
    }
  });
});
