import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {Firestore} from '@google-cloud/firestore';

import {createDecoder} from '../../src/alert/decode';
import {toJsonSafe} from '../../src/alert/serialize';
import {toGenericAlert, toTarget} from '../../src/alert/tom';

import {loadConfig} from '../../src/config';
import {AlertError} from '../../src/errors';
import {startFirestoreEmulator} from '../../src/local/emulators';
import {findFreePort} from '../../src/local/ports';
import {
  FIRESTORE_MAX_DOCUMENT_BYTES,
  HISTORY_FIELDS,
  toAlertDocument,
} from '../../src/store/alert-document';
import {createAlertStore, StoreManyMode} from '../../src/store/alert-store';
import {
  alertDocumentId,
  alertShard,
  sourceIdOfDocumentId,
} from '../../src/store/layout';
import {createQuarantineStore} from '../../src/store/quarantine-store';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import type {MaybeFilter} from '../../src/filter/types';
import {
  firestoreEmulatorSettings,
  useEmulators,
} from '../helpers/emulator-fixture';
import {
  generateLiteJson,
  generateLsstPacket,
  generateZtfPacket,
  writeLsstSchemaDir,
} from '../helpers';
import {ztfAlert} from '../helpers/store-alert';

const config = loadConfig({});
const meta = (subscription = 'ztf-loop') => ({
  subscription,
  messageId: '9876543210',
  publishTime: '2023-12-01T06:00:01.5Z',
  attributes: {candid: '2982177112815010003'},
});

describe('Firestore store (emulator)', () => {
  const emu = useEmulators({firestore: true});

  it('stores ids above 2^53 exactly and reads them back as strings', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const candid = 18446744073709551557n; // > 2^64 - 64, far above 2^53
    const doc = toAlertDocument(ztfAlert({candid}), meta(), {
      cutouts: 'drop',
    });
    assert.equal(await store.store(doc), 'stored');
    const snap = await db
      .doc(
        `subscriptions/ztf-loop/alerts/${alertDocumentId(candid.toString())}`,
      )
      .get();
    assert.ok(snap.exists);
    assert.equal(snap.id, doc.documentId);
    assert.notEqual(snap.id, '18446744073709551557');
    assert.equal(sourceIdOfDocumentId(snap.id), '18446744073709551557');
    assert.equal(snap.get('sourceId'), '18446744073709551557');
    assert.equal(snap.get('shard'), alertShard('ZTF23abcdefg'));
    assert.equal(snap.get('record.candidate.candid'), '18446744073709551557');
    assert.equal(snap.get('record.candidate.pid'), '2481250115015');
    assert.equal(snap.get('record.candidate.sgscore1'), null);
    assert.equal(
      snap.get('publishTime').toDate().toISOString(),
      '2023-12-01T06:00:01.500Z',
    );
  });

  it('reports a redelivered alert as duplicate and keeps one document', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const doc = toAlertDocument(ztfAlert(), meta(), {cutouts: 'inline'});
    assert.equal(await store.store(doc), 'stored');
    const again = toAlertDocument(
      ztfAlert(),
      {...meta(), messageId: 'other'},
      {
        cutouts: 'inline',
      },
    );
    assert.equal(await store.store(again), 'duplicate');
    const all = await store.alerts('ztf-loop').get();
    assert.equal(all.size, 1);
    assert.equal(all.docs[0].get('messageId'), '9876543210');
    assert.ok(
      Buffer.isBuffer(all.docs[0].get('record.cutoutScience.stampData')),
    );
  });

  it('stores a giant alert trimmed below 1 MiB', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const giant = ztfAlert({stampBytes: 300_000, prv: 8000, fp: 8000});
    const doc = toAlertDocument(giant, meta(), {cutouts: 'inline'});
    assert.ok(doc.sizeBytes < FIRESTORE_MAX_DOCUMENT_BYTES);
    assert.equal(await store.store(doc), 'stored');
    const snap = await store.alertRef('ztf-loop', doc.sourceId).get();
    assert.deepEqual(snap.get('trimmed'), ['cutouts', 'histories.fp_hists']);
    assert.equal(JSON.parse(snap.get('histories.prv_candidates')).length, 8000);
    assert.equal(snap.get('histories.fp_hists'), undefined);
  });

  it('round-trips nested arrays as {values: [...]} maps', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const alert = ztfAlert();
    alert.record.matrix = [
      [1, 2],
      [3, [4n]],
    ];
    const doc = toAlertDocument(alert, meta(), {cutouts: 'drop'});
    assert.equal(await store.store(doc), 'stored');
    const snap = await store.alertRef('ztf-loop', doc.sourceId).get();
    assert.deepEqual(snap.get('record.matrix'), [
      {values: [1, 2]},
      {values: [3, {values: ['4']}]},
    ]);
  });

  it('queries one subscription, and all of them with a collection group', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    for (const [sub, candid] of [
      ['sub-a', 3000000000000000001n],
      ['sub-a', 3000000000000000002n],
      ['sub-b', 3000000000000000003n],
    ] as const) {
      const doc = toAlertDocument(ztfAlert({candid}), meta(sub), {
        cutouts: 'drop',
      });
      assert.equal(await store.store(doc), 'stored');
    }
    assert.equal((await store.alerts('sub-a').get()).size, 2);
    const all = await store
      .allAlerts()
      .where('survey', '==', 'ztf')
      .orderBy('sourceId')
      .get();
    assert.deepEqual(
      all.docs.map(d => [d.get('subscription'), d.get('sourceId')]),
      [
        ['sub-a', '3000000000000000001'],
        ['sub-a', '3000000000000000002'],
        ['sub-b', '3000000000000000003'],
      ],
    );
  });

  for (const mode of ['concurrent', 'bulk', 'batch'] as StoreManyMode[]) {
    it(`storeMany (${mode}) gives per-item outcomes: stored, duplicate, failed`, async () => {
      const db = emu.firestore();
      const store = createAlertStore(db, config, {
        mode,
        maxBatchBytes: 200_000, // several commits for 12 cutout documents
        maxBatchCount: 5,
      });
      const docs = Array.from({length: 12}, (_, i) =>
        toAlertDocument(
          ztfAlert({candid: 4000000000000000000n + BigInt(i)}),
          meta(),
          {cutouts: 'inline'},
        ),
      );
      assert.equal(await store.store(docs[3]), 'stored'); // already there
      const bad = {...docs[0], sourceId: '4000000000000000099'};
      bad.data = {...bad.data, nope: new Map([[1, 2]])}; // Firestore refuses a Map
      const results = await store.storeMany([...docs, docs[5], bad]);
      assert.equal(results.length, 14);
      results.slice(0, 12).forEach((r, i) => {
        if (i !== 3 && i !== 5) assert.equal(r.status, 'stored', `item ${i}`);
      });
      assert.equal(results[3].status, 'duplicate');
      // The same alert twice in one call: one of the two is the duplicate.
      assert.deepEqual([results[5].status, results[12].status].sort(), [
        'duplicate',
        'stored',
      ]);
      const last = results[13];
      assert.ok(last.status === 'failed' && last.kind === 'permanent', mode);
      assert.equal((await store.alerts('ztf-loop').get()).size, 12);
    });
  }

  for (const mode of ['concurrent', 'bulk', 'batch'] as StoreManyMode[]) {
    it(`storeMany (${mode}): a document Firestore refuses fails alone, its neighbours are stored`, async () => {
      const db = emu.firestore();
      const store = createAlertStore(db, config, {mode});
      const [first, refused, last] = [1, 2, 3].map(i =>
        toAlertDocument(
          ztfAlert({candid: 4100000000000000000n + BigInt(i)}),
          meta(`refused-${mode}`),
          {cutouts: 'drop'},
        ),
      );
      // Valid for the client, refused by the server: above 1 MiB.
      refused.data = {...refused.data, blob: Buffer.alloc(1_100_000, 1)};
      const results = await store.storeMany([first, refused, last]);
      assert.equal(results[0].status, 'stored');
      assert.equal(results[2].status, 'stored');
      const r = results[1];
      assert.ok(r.status === 'failed' && r.kind === 'permanent', mode);
      assert.equal(
        (await store.alerts(`refused-${mode}`).get()).size,
        2,
        'the two valid documents are stored',
      );
    });
  }

  it('stores decoded ZTF, LSST and lite JSON alerts exactly, with their TOM mapping', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lsst-schemas-'));
    try {
      await writeLsstSchemaDir(dir);
      const decoder = createDecoder({schemaSource: dir});
      const packets = [
        generateZtfPacket({seed: 7, count: 3}),
        generateLsstPacket({seed: 8, cutoutBytes: 2000}),
        generateLiteJson({seed: 9}),
      ];
      const db = emu.firestore();
      const store = createAlertStore(db, config);
      const docs = [];
      const alerts = [];
      for (const p of packets) {
        for (const alert of await decoder.decode(p.bytes)) {
          alerts.push(alert);
          docs.push(
            toAlertDocument(alert, meta('decoded'), {
              cutouts: 'inline',
              tom: a => ({generic: toGenericAlert(a), target: toTarget(a)}),
            }),
          );
        }
      }
      const expected = packets.flatMap(p => p.expected);
      assert.equal(docs.length, 5);
      const results = await store.storeMany(docs);
      assert.deepEqual(
        results.map(r => r.status),
        Array(5).fill('stored'),
      );
      for (const e of expected) {
        const snap = await store.alertRef('decoded', e.sourceId).get();
        assert.ok(snap.exists, e.sourceId);
        assert.equal(snap.get('objectId'), e.objectId);
        assert.equal(snap.get('sourceId'), e.sourceId);
        assert.equal(snap.get('tom.generic.id'), e.sourceId);
        assert.equal(snap.get('classtar'), e.classtar);
        assert.deepEqual(snap.get('trimmed'), []);
      }
      // Exact 64-bit ids inside the record, as strings.
      const ztf = await store.alertRef('decoded', expected[0].sourceId).get();
      assert.equal(ztf.get('record.candid'), expected[0].sourceId);
      const lsst = await store.alertRef('decoded', expected[3].sourceId).get();
      assert.equal(
        lsst.get('record.diaSource.diaSourceId'),
        expected[3].sourceId,
      );
      // Histories: one JSON text per history field, the decoded value exactly.
      let histories = 0;
      for (const alert of alerts) {
        const snap = await store.alertRef('decoded', alert.sourceId).get();
        for (const key of HISTORY_FIELDS) {
          if (!(key in alert.record)) continue;
          histories++;
          assert.equal(snap.get(`record.${key}`), undefined, key);
          assert.deepEqual(
            JSON.parse(snap.get(`histories.${key}`)),
            toJsonSafe(alert.record[key]),
            `${alert.sourceId} ${key}`,
          );
        }
      }
      assert.ok(histories >= 5, `${histories} history fields checked`);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });

  it('loads every stored filter in one read; an invalid one is left to loadFilter', async () => {
    const db = emu.firestore();
    const subs = createSubscriptionStore(db, config);
    const put = (name: string, filter: unknown) =>
      subs.put({
        name,
        topic: 'projects/p/topics/ztf-loop',
        filter: filter as MaybeFilter,
        serverFilter: '',
        settings: {},
      });
    await put('brighter-than-19', {field: 'mag', op: 'lt', value: 19});
    await put('brighter-than-18', {field: 'mag', op: 'lt', value: 18});
    await put('everything', null);
    await put('broken', {field: 'mag', op: 'nope', value: 1});
    const filters = await subs.loadFilters(10);
    assert.deepEqual([...filters.keys()].sort(), [
      'brighter-than-18',
      'brighter-than-19',
      'everything',
    ]);
    const alert = ztfAlert(); // mag 18.345
    assert.equal(filters.get('brighter-than-19')!.matches(alert), true);
    assert.equal(filters.get('brighter-than-18')!.matches(alert), false);
    assert.equal(filters.get('everything')!.matches(alert), true);
    await assert.rejects(subs.loadFilter('broken'), /invalid/);
    assert.equal((await subs.loadFilters(1)).size <= 1, true);
  });

  it('quarantines a bad message once, with its bounded original bytes', async () => {
    const db = emu.firestore();
    const q = createQuarantineStore(db, config);
    const data = Buffer.concat([Buffer.from('Obj\x01'), Buffer.alloc(300_000)]);
    const rec = {
      subscription: 'ztf-loop',
      messageId: '555',
      reason: 'bad-avro',
      message: 'truncated block',
      attributes: {objectId: 'ZTF23abcdefg'},
      data,
    };
    assert.equal(await q.quarantine(rec), 'stored');
    assert.equal(await q.quarantine({...rec, time: new Date()}), 'duplicate');
    const all = await db
      .collection(`subscriptions/ztf-loop/${config.quarantineCollection}`)
      .get();
    assert.equal(all.size, 1);
    const d = all.docs[0];
    assert.equal(d.id, '555');
    assert.equal(d.get('reason'), 'bad-avro');
    assert.equal(d.get('dataLength'), 300_004);
    assert.equal(d.get('data').length, 256 * 1024);
    assert.equal(d.get('data').subarray(0, 4).toString('latin1'), 'Obj\x01');
    // No message id: the payload's hash is the id, so still only once.
    const noId = {...rec, messageId: undefined, data: Buffer.from('{bad json')};
    assert.equal(await q.quarantine(noId), 'stored');
    assert.equal(await q.quarantine(noId), 'duplicate');
  });
});

describe('Firestore unreachable', () => {
  it('fails as a transient store-unavailable error within the bound, and recovers', async () => {
    const port = await findFreePort(); // nothing listens there (yet)
    const db = new Firestore(
      firestoreEmulatorSettings(`127.0.0.1:${port}`, 'nowhere'),
    );
    const store = createAlertStore(db, config, {timeoutMs: 2000});
    const q = createQuarantineStore(db, config, {timeoutMs: 2000});
    const doc = toAlertDocument(ztfAlert(), meta(), {cutouts: 'drop'});
    const t0 = Date.now();
    await assert.rejects(
      store.store(doc),
      (e: AlertError) =>
        e.kind === 'transient' && e.code === 'store-unavailable',
    );
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
    for (const mode of ['concurrent', 'bulk', 'batch'] as StoreManyMode[]) {
      const many = createAlertStore(db, config, {timeoutMs: 2000, mode});
      const [r] = await many.storeMany([doc]);
      assert.ok(r.status === 'failed' && r.kind === 'transient', mode);
    }
    await assert.rejects(
      q.quarantine({subscription: 's', reason: 'bad-avro', message: 'x'}),
      (e: AlertError) => e.kind === 'transient',
    );
    // The client keeps retrying in the background. Once Firestore is there,
    // a retry succeeds (or finds the write that landed in the meantime).
    const fs = await startFirestoreEmulator({port});
    try {
      const patient = createAlertStore(db, config, {timeoutMs: 90_000});
      assert.match(await patient.store(doc), /^(stored|duplicate)$/);
      assert.equal(await patient.store(doc), 'duplicate');
      await db.terminate(); // returns once the background retries are done
    } finally {
      await fs.stop();
    }
  });
});
