import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Timestamp} from '@google-cloud/firestore';

import {AlertError} from '../../../src/errors';
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  toAlertDocument,
} from '../../../src/store/alert-document';
import {
  documentSize,
  firestoreFieldName,
  isValidDocumentId,
  toFirestoreValue,
  toTimestamp,
  valueSize,
} from '../../../src/store/firestore-value';
import {
  quarantineDocumentId,
  toQuarantineDocument,
} from '../../../src/store/quarantine-store';
import {ztfAlert} from '../../helpers/store-alert';

const META = {
  subscription: 'ztf-loop',
  messageId: '1234567890123456',
  publishTime: '2023-12-01T06:00:01.123456789Z',
  attributes: {objectId: 'ZTF23abcdefg', candid: '2982177112815010003'},
};

describe('toFirestoreValue', () => {
  it('converts bigint to exact strings, non-finite numbers to null, wraps nested arrays', () => {
    const v = toFirestoreValue({
      id: 18446744073709551615n,
      bad: [Number.NaN, Number.POSITIVE_INFINITY, 1.5, undefined],
      grid: [
        [1, 2],
        [3, [4n, 5]],
      ],
      skip: undefined,
      bytes: new Uint8Array([1, 2, 3]),
    });
    assert.deepEqual(v, {
      id: '18446744073709551615',
      bad: [null, null, 1.5, null],
      grid: [{values: [1, 2]}, {values: [3, {values: ['4', 5]}]}],
      bytes: Buffer.from([1, 2, 3]),
    });
  });

  it('turns objects with custom prototypes (avsc records) into plain maps', () => {
    class Rec {
      constructor(readonly a = 1) {}
    }
    const v = toFirestoreValue({r: new Rec()}) as {r: object};
    assert.equal(Object.getPrototypeOf(v.r), Object.prototype);
    assert.deepEqual(v.r, {a: 1});
  });

  it('stores reserved and empty keys (__x__, __proto__, "") under a ~ prefix, never on the prototype', () => {
    const v = toFirestoreValue(
      JSON.parse(
        '{"__x__": 1, "__proto__": {"a": 2}, "": 3, "_y_": 4, "a": {"__z__": 5}}',
      ),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v).sort(), [
      '_y_',
      'a',
      '~',
      '~__proto__',
      '~__x__',
    ]);
    assert.deepEqual(v['~__proto__'], {a: 2});
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(v.a, {'~__z__': 5});
    assert.equal(firestoreFieldName('__'), '__', 'too short to be reserved');
    assert.equal(firestoreFieldName('___'), '___');
    assert.equal(firestoreFieldName('____'), '~____');
  });

  it('computes sizes by the documented rules', () => {
    // Firestore's documentation example: a task document in users/jeff/tasks.
    const data = {
      type: 'Personal',
      done: false,
      priority: 1,
      description: 'Learn Cloud Firestore',
    };
    assert.equal(
      documentSize(['users', 'jeff', 'tasks', 'my_task_id'], data),
      147,
    );
    assert.equal(valueSize('é'), 3);
    assert.equal(valueSize(Buffer.alloc(10)), 10);
  });

  it('validates document ids and parses publish times to the nanosecond', () => {
    assert.equal(isValidDocumentId('2982177112815010003'), true);
    for (const bad of ['', '.', '..', 'a/b', '__x__', 'x'.repeat(1501)]) {
      assert.equal(isValidDocumentId(bad), false, bad);
    }
    const t = toTimestamp('2023-12-01T06:00:01.123456789Z');
    assert.ok(t);
    assert.equal(t.seconds, Date.UTC(2023, 11, 1, 6, 0, 1) / 1000);
    assert.equal(t.nanoseconds, 123456789);
    assert.equal(toTimestamp('2023-12-01T07:00:01+01:00')?.seconds, t.seconds);
    assert.equal(toTimestamp('yesterday'), null);
  });
});

describe('toAlertDocument', () => {
  const now = new Date('2023-12-01T06:00:05Z');

  it('puts queryable fields on top and the exact record below, without cutouts in it', () => {
    const doc = toAlertDocument(ztfAlert(), META, {cutouts: 'drop', now});
    const d = doc.data;
    assert.equal(doc.sourceId, '2982177112815010003');
    assert.equal(d.sourceId, '2982177112815010003');
    assert.equal(d.objectId, 'ZTF23abcdefg');
    assert.equal(d.band, 'g');
    assert.equal(d.subscription, 'ztf-loop');
    assert.equal(d.messageId, META.messageId);
    assert.deepEqual(d.attributes, META.attributes);
    assert.ok(d.publishTime instanceof Timestamp);
    // Microseconds, as Firestore keeps them (the read side's cursors rely on it).
    assert.equal((d.publishTime as Timestamp).nanoseconds, 123456000);
    assert.deepEqual(d.ingestTime, Timestamp.fromDate(now));
    assert.equal(d.tom, null);
    assert.deepEqual(d.trimmed, []);
    const record = d.record as Record<string, Record<string, unknown>>;
    assert.equal(record.candidate.candid, '2982177112815010003');
    assert.equal(record.candidate.pid, '2481250115015');
    assert.equal(record.candidate.sgscore1, null);
    // Histories: one JSON text each, out of `record`, ids exact.
    assert.equal('fp_hists' in record, false);
    assert.equal('prv_candidates' in record, false);
    const histories = d.histories as Record<string, string>;
    assert.deepEqual(Object.keys(histories).sort(), [
      'fp_hists',
      'prv_candidates',
    ]);
    const fp = JSON.parse(histories.fp_hists);
    assert.equal(fp[1].forcediffimflux, null);
    const prv = JSON.parse(histories.prv_candidates);
    assert.equal(prv.length, 3);
    assert.equal(prv[0].candid, '2982177112815010002');
    assert.equal(prv[1].candid, null);
    assert.equal('cutoutScience' in record, false);
    assert.ok(doc.sizeBytes > 1000 && doc.sizeBytes < 10_000);
  });

  it('keeps cutouts as bytes inline when asked, and stores the injected TOM mapping', () => {
    const doc = toAlertDocument(ztfAlert(), META, {
      cutouts: 'inline',
      now,
      tom: a => ({name: a.objectId, ra: a.ra, score: a.classtar}),
    });
    const record = doc.data.record as Record<string, {stampData: unknown}>;
    assert.ok(Buffer.isBuffer(record.cutoutScience.stampData));
    assert.deepEqual(doc.data.cutouts, ['science', 'template', 'difference']);
    assert.equal(doc.data.cutoutsStored, 'inline');
    assert.equal(doc.cutouts, null, 'no cutouts document');
    assert.deepEqual(doc.data.tom, {
      name: 'ZTF23abcdefg',
      ra: 150.1234567,
      score: 0.983,
    });
    assert.ok(doc.sizeBytes > 42_000);
  });

  it('trims a giant alert below the bound: cutouts first, then histories', () => {
    const giant = ztfAlert({stampBytes: 300_000, prv: 8000, fp: 8000});
    const doc = toAlertDocument(giant, META, {cutouts: 'inline', now});
    assert.ok(doc.sizeBytes <= DEFAULT_MAX_DOCUMENT_BYTES);
    assert.equal(doc.trimmed[0], 'cutouts');
    assert.deepEqual(doc.data.cutouts, [], 'the trimmed stamps are not listed');
    assert.deepEqual(doc.trimmed, ['cutouts', 'histories.fp_hists']);
    const histories = doc.data.histories as Record<string, string>;
    assert.equal(JSON.parse(histories.prv_candidates).length, 8000);
    assert.equal('fp_hists' in histories, false);
    assert.deepEqual(doc.data.trimmed, doc.trimmed);
    const record = doc.data.record as Record<string, unknown>;
    assert.equal('cutoutScience' in record, false);
    assert.equal(record.candid, '2982177112815010003');
    // The estimate is the documented size of what is really stored.
    const path = ['x'.repeat(100), 'ztf-loop', 'x'.repeat(100), doc.documentId];
    assert.equal(doc.sizeBytes, documentSize(path, doc.data));

    // A smaller bound forces more: histories go, in order, then the rest.
    const small = toAlertDocument(ztfAlert({prv: 50, fp: 50}), META, {
      cutouts: 'inline',
      now,
      maxBytes: 3000,
    });
    assert.deepEqual(small.trimmed.slice(0, 3), [
      'cutouts',
      'histories.fp_hists',
      'histories.prv_candidates',
    ]);
    assert.deepEqual(small.data.histories, {});
    assert.ok(small.sizeBytes <= 3000);
    assert.throws(
      () => toAlertDocument(ztfAlert(), META, {cutouts: 'drop', maxBytes: 100}),
      (e: AlertError) => e.permanent && e.code === 'too-large',
    );
  });

  it('refuses ids that cannot be Firestore document ids', () => {
    const a = ztfAlert();
    assert.throws(
      () => toAlertDocument({...a, sourceId: 'a/b'}, META, {cutouts: 'drop'}),
      (e: AlertError) => e.permanent && e.code === 'invalid-alert',
    );
    assert.throws(
      () => toAlertDocument(a, {subscription: '..'}, {cutouts: 'drop'}),
      (e: AlertError) => e.code === 'invalid-name',
    );
  });
});

describe('reserved keys in alert and quarantine documents', () => {
  it('keeps message attributes and record keys that Firestore reserves, prefixed', () => {
    const attributes = JSON.parse(
      '{"__x__": "1", "__proto__": "2", "fid": "1"}',
    );
    const alert = ztfAlert();
    const doc = toAlertDocument(
      {...alert, record: {...alert.record, __y__: 7}},
      {...META, attributes},
      {cutouts: 'drop'},
    );
    assert.deepEqual(doc.data.attributes, {
      '~__x__': '1',
      '~__proto__': '2',
      fid: '1',
    });
    assert.equal((doc.data.record as Record<string, unknown>)['~__y__'], 7);
    const q = toQuarantineDocument({
      subscription: 's',
      reason: 'bad-avro',
      message: 'm',
      attributes,
    });
    assert.deepEqual(q.attributes, {
      '~__x__': '1',
      '~__proto__': '2',
      fid: '1',
    });
  });
});

describe('quarantine documents', () => {
  it('use the message id, or a hash, and bound the data with its length recorded', () => {
    assert.equal(quarantineDocumentId('123', undefined), '123');
    assert.match(quarantineDocumentId('a/b', undefined), /^msgid-sha256-/);
    const payload = Buffer.from('not avro');
    const id = quarantineDocumentId(undefined, payload);
    assert.match(id, /^data-sha256-[0-9a-f]{64}$/);
    assert.equal(quarantineDocumentId(undefined, Buffer.from(payload)), id);

    const big = Buffer.alloc(300_000, 7);
    const d = toQuarantineDocument({
      subscription: 's',
      reason: 'bad-avro',
      message: 'boom',
      data: big,
    });
    assert.equal((d.data as Buffer).length, 256 * 1024);
    assert.equal(d.dataLength, 300_000);
    assert.equal(d.dataTruncated, true);
  });
});
