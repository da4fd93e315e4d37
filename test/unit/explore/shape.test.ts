import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Timestamp} from '@google-cloud/firestore';

import {
  alertDetail,
  alertSummary,
  filterText,
  genericAlertOf,
  jsonSafe,
  liteAlertOf,
  mjdToIso,
  objectAnswer,
  quarantineItem,
  subscriptionItem,
} from '../../../src/explore/shape';
import type {StoredDoc} from '../../../src/explore/ports';
import type {LightCurve} from '../../../src/alert/light-curve';

const BIG = '2188216843315010016'; // above 2^53

function ztfDoc(over: Record<string, unknown> = {}): StoredDoc {
  return {
    id: `abc-${BIG}`,
    subscription: 'ztf-loop',
    data: {
      objectId: 'ZTF18abfkwnk',
      sourceId: BIG,
      survey: 'ztf',
      band: 'r',
      mag: 18.25,
      magErr: 0.05,
      ra: 150.1,
      dec: 2.2,
      jd: 2460650.75,
      mjd: 60650.25,
      classtar: 0.98,
      publishTime: new Timestamp(1735689600, 123456789),
      ingestTime: new Timestamp(1735689601, 0),
      messageId: '42',
      attributes: {
        'kafka.timestamp': '1735689600000',
        objectId: 'ZTF18abfkwnk',
      },
      cutouts: ['difference', 'science'],
      record: {
        candidate: {
          candid: BIG,
          drb: 0.99,
          rb: 0.8,
          sgscore1: 0.5,
          magpsf: 18.25,
        },
        cutoutScience: {stampData: Buffer.from([1, 2, 3])},
      },
      histories: {
        prv_candidates: JSON.stringify([
          {candid: '1234567890123456789', magpsf: 19},
        ]),
        fp_hists: 'not json',
      },
      ...over,
    },
  };
}

describe('alert answers', () => {
  it('summary: exact ids, ISO times, ZTF scores, stamps in canonical order', () => {
    const s = alertSummary(ztfDoc());
    assert.deepEqual(s, {
      sourceId: BIG,
      objectId: 'ZTF18abfkwnk',
      survey: 'ztf',
      band: 'r',
      mag: 18.25,
      magErr: 0.05,
      ra: 150.1,
      dec: 2.2,
      jd: 2460650.75,
      mjd: 60650.25,
      time: '2024-12-06T06:00:00.000Z',
      publishTime: '2025-01-01T00:00:00.123Z',
      ingestTime: '2025-01-01T00:00:01.000Z',
      scores: {classtar: 0.98, drb: 0.99, rb: 0.8, sgscore1: 0.5},
      cutouts: ['science', 'difference'],
    });
  });

  it('summary: LSST scores from diaSource; missing values are null, never NaN', () => {
    const s = alertSummary({
      id: 'x',
      subscription: 'lsst-alerts',
      data: {
        survey: 'lsst',
        objectId: '3',
        sourceId: '4',
        mag: Number.NaN,
        record: {diaSource: {reliability: 0.7, snr: 12}},
      },
    });
    assert.deepEqual(s.scores, {reliability: 0.7, snr: 12, extendedness: null});
    assert.equal(s.mag, null);
    assert.equal(s.time, null);
    assert.deepEqual(s.cutouts, []);
  });

  it('generic: TOM Toolkit GenericAlert from the stored fields', () => {
    assert.deepEqual(genericAlertOf(ztfDoc()), {
      id: BIG,
      name: 'ZTF18abfkwnk',
      ra: 150.1,
      dec: 2.2,
      mag: 18.25,
      score: 0.98,
      timestamp: '2024-12-06T06:00:00.000Z',
      url: 'https://alerce.online/object/ZTF18abfkwnk',
    });
  });

  it('lite: the flat dict with its message metadata', () => {
    assert.deepEqual(liteAlertOf(ztfDoc()), {
      objectId: 'ZTF18abfkwnk',
      candid: BIG,
      jd: 2460650.75,
      ra: 150.1,
      dec: 2.2,
      magpsf: 18.25,
      classtar: 0.98,
      message_id: '42',
      publish_time: '2025-01-01T00:00:00.123Z',
      'kafka.timestamp': '1735689600000',
    });
  });

  it('detail: record as JSON (bytes as base64), histories parsed (exact ids), attributes', () => {
    const d = alertDetail(ztfDoc());
    assert.equal(d.sourceId, BIG);
    assert.deepEqual(d.record, {
      candidate: {
        candid: BIG,
        drb: 0.99,
        rb: 0.8,
        sgscore1: 0.5,
        magpsf: 18.25,
      },
      cutoutScience: {stampData: 'AQID'},
    });
    assert.deepEqual(d.histories, {
      prv_candidates: [{candid: '1234567890123456789', magpsf: 19}],
      fp_hists: null,
    });
    assert.deepEqual(d.attributes, {
      'kafka.timestamp': '1735689600000',
      objectId: 'ZTF18abfkwnk',
    });
  });

  it('jsonSafe: timestamps, bigint, non-finite numbers, nested values', () => {
    assert.deepEqual(
      jsonSafe({
        t: new Timestamp(0, 0),
        b: 12345678901234567890n,
        n: Number.POSITIVE_INFINITY,
        a: [{x: new Uint8Array([255])}],
        u: undefined,
      }),
      {
        t: '1970-01-01T00:00:00.000Z',
        b: '12345678901234567890',
        n: null,
        a: [{x: '/w=='}],
      },
    );
    assert.equal(mjdToIso(40587), '1970-01-01T00:00:00.000Z');
    assert.equal(mjdToIso('60000'), null);
  });
});

describe('object answer', () => {
  const curve = (detections: LightCurve['detections']): LightCurve => ({
    detections,
    upperLimits: [{mjd: 60600, band: 'g', limitMag: 20.5}],
  });

  it('is null without alerts', () => {
    assert.equal(
      objectAnswer('ZTF1', [], () => curve([])),
      null,
    );
  });

  it("uses the newest alert's history and adds stored alerts it lacks, once each", () => {
    const older = ztfDoc({sourceId: '1', mjd: 60640, mag: 18.9, band: 'g'});
    const middle = ztfDoc({sourceId: '2', mjd: 60645, mag: 18.7});
    const newest = ztfDoc({sourceId: '3', mjd: 60650, mag: 18.5});
    const again = {...middle, subscription: 'ztf-other'};
    let seen: unknown;
    const a = objectAnswer(
      'ZTF18abfkwnk',
      [newest, again, older, middle],
      (survey, record, h) => {
        seen = {survey, record, h};
        return curve([
          {
            mjd: 60645,
            band: 'r',
            mag: 18.7,
            magErr: 0.1,
            sourceId: '2',
            origin: 'history',
          },
          {
            mjd: 60650,
            band: 'r',
            mag: 18.5,
            magErr: 0.05,
            sourceId: '3',
            origin: 'alert',
          },
        ]);
      },
    );
    assert.ok(a);
    assert.equal((seen as {survey: string}).survey, 'ztf');
    assert.deepEqual(Object.keys((seen as {h: object}).h), ['prv_candidates']);
    assert.deepEqual(
      a.alerts.map(x => [x.subscription, x.sourceId]),
      [
        ['ztf-loop', '1'],
        ['ztf-other', '2'],
        ['ztf-loop', '2'],
        ['ztf-loop', '3'],
      ],
    );
    assert.deepEqual(
      a.lightCurve.detections.map(d => [d.sourceId, d.origin]),
      [
        ['1', 'alert'],
        ['2', 'history'],
        ['3', 'alert'],
      ],
    );
    assert.equal(a.lightCurve.upperLimits.length, 1);
  });
});

describe('quarantine and subscriptions', () => {
  it('quarantine item: size, hash, time; never the bytes', () => {
    const q = quarantineItem({
      id: 'm1',
      subscription: 's',
      data: {
        messageId: 'm1',
        reason: 'bad-avro',
        message: 'truncated block',
        time: new Timestamp(1735689600, 0),
        dataLength: 70000,
        dataSha256: 'ab'.repeat(32),
        attributes: {x: '<script>'},
        data: Buffer.alloc(10),
      },
    });
    assert.deepEqual(q, {
      messageId: 'm1',
      reason: 'bad-avro',
      message: 'truncated block',
      time: '2025-01-01T00:00:00.000Z',
      sizeBytes: 70000,
      sha256: 'ab'.repeat(32),
      attributes: {x: '<script>'},
    });
  });

  it('subscription item: the filter in words; an invalid stored filter says so', () => {
    const item = subscriptionItem({
      name: 'ztf-loop',
      topic: 'projects/p/topics/ztf-loop',
      filter: {field: 'classtar', op: 'gte', value: 0.5},
      counts: {alerts: 3, quarantined: null},
      newestAlertTime: new Date('2025-01-01T00:00:00Z'),
    });
    assert.deepEqual(item, {
      name: 'ztf-loop',
      topic: 'projects/p/topics/ztf-loop',
      filter: {field: 'classtar', op: 'gte', value: 0.5},
      filterText: 'classtar is at least 0.5',
      counts: {alerts: 3, quarantined: null},
      newestAlertTime: '2025-01-01T00:00:00.000Z',
    });
    assert.match(filterText({field: 'nope', op: 'zz'}), /does not validate/);
    assert.equal(filterText(null), 'every alert passes (no filter)');
  });
});
