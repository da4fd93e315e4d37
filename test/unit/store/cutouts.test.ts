/**
 * Cutouts stored separately (src/store/cutouts.ts, src/store/alert-document.ts):
 * the stamps as the packet has them, a cutouts document beside the alert,
 * the alert's list of stamps, the size bound, and expireAt from the
 * subscription's retention. Pure; the emulator side is in
 * test/system/cutouts-store.test.ts.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Timestamp} from '@google-cloud/firestore';

import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  toAlertDocument,
  writeBytes,
  writeCount,
} from '../../../src/store/alert-document';
import {extractCutouts} from '../../../src/store/cutouts';
import {documentSize} from '../../../src/store/firestore-value';
import {ztfAlert} from '../../helpers/store-alert';

const META = {
  subscription: 'ztf-loop',
  messageId: '1',
  publishTime: '2026-12-03T06:00:01.5Z',
};
const now = new Date('2026-12-03T06:00:05Z');

describe('extractCutouts', () => {
  it('reads ZTF stamps ({fileName, stampData}) and LSST bytes, as views, skipping null', () => {
    const sci = Buffer.from('science-bytes');
    const ztf = extractCutouts({
      cutoutScience: {fileName: 'a.fits.gz', stampData: sci},
      cutoutTemplate: null,
      cutoutDifference: {fileName: 'c', stampData: new Uint8Array([1, 2])},
    });
    assert.deepEqual(Object.keys(ztf), ['science', 'difference']);
    assert.equal(ztf.science, sci, 'the same buffer, not a copy');
    assert.deepEqual([...ztf.difference!], [1, 2]);
    const lsst = extractCutouts({
      cutoutScience: Buffer.from([7]),
      cutoutTemplate: Buffer.from([8]),
      cutoutDifference: Buffer.from([9]),
    });
    assert.deepEqual(
      Object.entries(lsst).map(([k, v]) => [k, v![0]]),
      [
        ['science', 7],
        ['template', 8],
        ['difference', 9],
      ],
    );
    assert.deepEqual(extractCutouts({candid: 1n, cutoutScience: 'text'}), {});
  });
});

describe('toAlertDocument with CUTOUTS=separate (the default)', () => {
  it('puts the original stamp bytes in a cutouts document beside the alert, and lists them in the alert', () => {
    const alert = ztfAlert();
    const doc = toAlertDocument(alert, META, {now});
    const record = doc.data.record as Record<string, unknown>;
    assert.equal('cutoutScience' in record, false, 'not in the alert');
    assert.deepEqual(doc.data.cutouts, ['science', 'template', 'difference']);
    assert.equal(doc.data.cutoutsStored, 'separate');
    assert.equal(doc.data.expireAt, null, 'kept forever by default');
    const c = doc.cutouts!;
    assert.ok(c, 'a cutouts document');
    const stamp = (k: string) =>
      (alert.record[k] as {stampData: Buffer}).stampData;
    assert.deepEqual(c.data, {
      sourceId: '2982177112815010003',
      objectId: 'ZTF23abcdefg',
      science: stamp('cutoutScience'),
      template: stamp('cutoutTemplate'),
      difference: stamp('cutoutDifference'),
      expireAt: null,
    });
    const path = ['x'.repeat(100), 'ztf-loop', 'x'.repeat(100), doc.documentId];
    assert.equal(c.sizeBytes, documentSize(path, c.data));
    assert.ok(doc.sizeBytes < 10_000, 'the alert stays small');
    assert.equal(writeBytes(doc), doc.sizeBytes + c.sizeBytes);
    assert.equal(writeCount(doc), 2);
  });

  it('writes no cutouts document for an alert without stamps (lite JSON), nor with CUTOUTS=drop', () => {
    const alert = ztfAlert();
    const bare = {
      ...alert,
      record: {candid: alert.record.candid, candidate: alert.record.candidate},
    };
    const doc = toAlertDocument(bare, META, {now});
    assert.equal(doc.cutouts, null);
    assert.deepEqual(doc.data.cutouts, []);
    assert.equal(writeCount(doc), 1);
    const dropped = toAlertDocument(alert, META, {cutouts: 'drop', now});
    assert.equal(dropped.cutouts, null);
    assert.deepEqual(dropped.data.cutouts, []);
    assert.equal(dropped.data.cutoutsStored, 'drop');
    assert.equal(
      'cutoutScience' in (dropped.data.record as Record<string, unknown>),
      false,
    );
  });

  it('keeps the cutouts document under the size bound: the largest stamps go first, and the alert says so', () => {
    const giant = ztfAlert({stampBytes: 400_000});
    const doc = toAlertDocument(giant, META, {now});
    assert.ok(doc.cutouts!.sizeBytes <= DEFAULT_MAX_DOCUMENT_BYTES);
    assert.deepEqual(doc.trimmed, ['cutouts.science']);
    assert.deepEqual(doc.data.trimmed, ['cutouts.science']);
    assert.deepEqual(doc.data.cutouts, ['template', 'difference']);
    assert.equal(doc.cutouts!.data.science, null);
    // The alert document is bounded on its own, as before.
    assert.ok(doc.sizeBytes < 10_000);
  });

  it('sets expireAt = ingest time + the subscription retention on both documents', () => {
    const doc = toAlertDocument(ztfAlert(), {...META, retentionDays: 7}, {now});
    const week = Timestamp.fromMillis(now.getTime() + 7 * 86_400_000);
    assert.deepEqual(doc.data.expireAt, week);
    assert.deepEqual(doc.cutouts!.data.expireAt, week);
    const forever = toAlertDocument(
      ztfAlert(),
      {...META, retentionDays: null},
      {now, cutouts: 'inline'},
    );
    assert.equal(forever.data.expireAt, null);
  });
});
