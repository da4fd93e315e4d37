/**
 * Cutouts stored separately, on the Firestore emulator: the alert and its
 * cutouts document are created in one commit (both or neither), a
 * redelivery is a 'duplicate' that writes nothing, every storeMany mode and
 * fallback keeps the two together, CUTOUTS=inline and drop store what they
 * say, and readCutout finds the original bytes wherever they are.
 */

import {strict as assert} from 'node:assert';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';

import {createDecoder} from '../../src/alert/decode';
import {loadConfig} from '../../src/config';
import {AlertDocument, toAlertDocument} from '../../src/store/alert-document';
import {createAlertStore, StoreManyMode} from '../../src/store/alert-store';
import {readCutout} from '../../src/store/cutouts';
import {alertDocumentId, CUTOUT_KINDS} from '../../src/store/layout';
import {createWriteCoalescer} from '../../src/store/write-coalescer';
import {
  generateLsstPacket,
  generateZtfPacket,
  writeLsstSchemaDir,
} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';
import {ztfAlert} from '../helpers/store-alert';

const config = loadConfig({});
const SUB = 'ztf-loop';
const meta = (messageId = '1') => ({
  subscription: SUB,
  messageId,
  publishTime: '2026-12-03T06:00:01.5Z',
});

/** Both documents of an alert, as stored. */
async function stored(db: Firestore, sourceId: string) {
  const id = alertDocumentId(sourceId);
  const [alert, cutouts] = await db.getAll(
    db.doc(`subscriptions/${SUB}/alerts/${id}`),
    db.doc(`subscriptions/${SUB}/cutouts/${id}`),
  );
  return {alert, cutouts};
}

const alertN = (n: number) =>
  ztfAlert({candid: 3000000000000000000n + BigInt(n), objectId: `ZTF24a${n}`});

describe('cutouts stored separately (emulator)', () => {
  const emu = useEmulators({firestore: true});

  it('writes the alert and its cutouts document together; a redelivery writes nothing and is a duplicate', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const alert = alertN(1);
    const doc = toAlertDocument(alert, meta(), {});
    assert.equal(await store.store(doc), 'stored');
    const {alert: a, cutouts: c} = await stored(db, alert.sourceId);
    assert.ok(a.exists && c.exists, 'both documents');
    assert.deepEqual(a.get('cutouts'), ['science', 'template', 'difference']);
    assert.equal(a.get('cutoutsStored'), 'separate');
    assert.equal(a.get('record.cutoutScience'), undefined);
    for (const kind of CUTOUT_KINDS) {
      const field = `cutout${kind[0].toUpperCase()}${kind.slice(1)}`;
      const original = (alert.record[field] as {stampData: Buffer}).stampData;
      assert.ok(Buffer.isBuffer(c.get(kind)));
      assert.ok(c.get(kind).equals(original), kind);
      const read = await readCutout(db, config, SUB, alert.sourceId, kind);
      assert.ok(read?.equals(original), `readCutout ${kind}`);
    }
    assert.equal(c.get('sourceId'), alert.sourceId);
    assert.equal(c.get('objectId'), alert.objectId);
    const before = [a.updateTime, c.updateTime];

    // Redelivered (another message id): nothing is written again.
    const again = toAlertDocument(alert, meta('2'), {});
    assert.equal(await store.store(again), 'duplicate');
    const [many] = await createAlertStore(db, config, {
      mode: 'batch',
    }).storeMany([again]);
    assert.deepEqual(many, {status: 'duplicate'});
    const after = await stored(db, alert.sourceId);
    assert.deepEqual(
      [after.alert.updateTime, after.cutouts.updateTime],
      before,
    );
    assert.equal(after.alert.get('messageId'), '1');
    assert.equal(
      (await db.collection(`subscriptions/${SUB}/cutouts`).get()).size,
      1,
    );
  });

  it('restores an alert deleted while its cutouts document stayed (a replay after a manual delete)', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const alert = alertN(3);
    assert.equal(
      await store.store(toAlertDocument(alert, meta(), {})),
      'stored',
    );
    const before = await stored(db, alert.sourceId);
    await before.alert.ref.delete();
    // Replayed (a seek): the alert comes back, the cutouts replaced.
    const replay = toAlertDocument(alert, meta('r'), {});
    assert.equal(await store.store(replay), 'stored');
    const after = await stored(db, alert.sourceId);
    assert.ok(after.alert.exists && after.cutouts.exists);
    assert.equal(after.alert.get('messageId'), 'r');
    assert.ok(
      after.cutouts.get('science').equals(before.cutouts.get('science')),
    );
    // And it is a duplicate again from then on, in every path.
    assert.equal(await store.store(replay), 'duplicate');
    const [many] = await createAlertStore(db, config, {
      mode: 'batch',
    }).storeMany([replay]);
    assert.deepEqual(many, {status: 'duplicate'});
  });

  it('writes neither document when the commit fails (one of the two refused)', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const alert = alertN(2);
    const doc = toAlertDocument(alert, meta(), {});
    // A cutouts document above Firestore's limit: the server refuses the
    // whole commit, so the (valid) alert is not written either.
    const bad: AlertDocument = {
      ...doc,
      cutouts: {
        data: {...doc.cutouts!.data, science: Buffer.alloc(1_100_000, 1)},
        sizeBytes: 1_100_000,
      },
    };
    await assert.rejects(
      store.store(bad),
      (e: {permanent?: boolean}) => e.permanent === true,
    );
    const {alert: a, cutouts: c} = await stored(db, alert.sourceId);
    assert.ok(!a.exists && !c.exists, 'neither document');
  });

  for (const mode of ['batch', 'bulk', 'concurrent'] as StoreManyMode[]) {
    it(`storeMany (${mode}) keeps each alert with its cutouts, through the item-by-item fallback`, async () => {
      const db = emu.firestore();
      const store = createAlertStore(db, config, {
        mode,
        maxBatchCount: 7, // writes per commit: several commits of 3 units
        maxBatchBytes: 500_000,
      });
      // One alert stored before: in the batch it is a duplicate, which
      // fails its whole commit and sends the neighbours through the fallback.
      const first = toAlertDocument(alertN(10), meta(), {});
      assert.equal(await store.store(first), 'stored');
      const docs = [10, 11, 12, 13, 14, 15, 16].map(n =>
        toAlertDocument(alertN(n), meta(`m${n}`), {}),
      );
      const out = await store.storeMany(docs);
      assert.deepEqual(
        out.map(o => o.status),
        [
          'duplicate',
          'stored',
          'stored',
          'stored',
          'stored',
          'stored',
          'stored',
        ],
      );
      for (const n of [10, 11, 12, 13, 14, 15, 16]) {
        const {alert: a, cutouts: c} = await stored(db, alertN(n).sourceId);
        assert.ok(a.exists && c.exists, `both documents of ${n}`);
      }
      const count = async (c: string) =>
        (await db.collection(`subscriptions/${SUB}/${c}`).count().get()).data()
          .count;
      assert.equal(await count('alerts'), 7);
      assert.equal(await count('cutouts'), 7);
      // Again: every unit a duplicate, nothing new.
      const again = await store.storeMany(docs);
      assert.ok(again.every(o => o.status === 'duplicate'));
      assert.equal(await count('cutouts'), 7);
    });
  }

  it('coalesces concurrent units into one commit, each caller with its own outcome', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config, {mode: 'batch'});
    let commits = 0;
    const coalescer = createWriteCoalescer({
      storeMany: docs => {
        commits++;
        return store.storeMany(docs);
      },
    });
    const docs = [20, 21, 22, 20].map(n =>
      toAlertDocument(alertN(n), meta(), {}),
    );
    const out = await Promise.all(docs.map(d => coalescer.store(d)));
    // The repeated alert goes in the next commit; the two commits race, so
    // either copy of alert 20 may be the one stored: exactly one is.
    assert.deepEqual(out.slice(1, 3), ['stored', 'stored']);
    assert.deepEqual([out[0], out[3]].sort(), ['duplicate', 'stored']);
    assert.equal(commits, 2, 'the repeated alert goes in the next commit');
    for (const n of [20, 21, 22]) {
      const {alert: a, cutouts: c} = await stored(db, alertN(n).sourceId);
      assert.ok(a.exists && c.exists);
    }
  });

  it('CUTOUTS=inline keeps the stamps in the record, CUTOUTS=drop nowhere; readCutout follows', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const inline = alertN(30);
    const drop = alertN(31);
    assert.equal(
      await store.store(toAlertDocument(inline, meta(), {cutouts: 'inline'})),
      'stored',
    );
    assert.equal(
      await store.store(toAlertDocument(drop, meta(), {cutouts: 'drop'})),
      'stored',
    );
    const i = await stored(db, inline.sourceId);
    assert.ok(i.alert.exists && !i.cutouts.exists);
    assert.equal(i.alert.get('cutoutsStored'), 'inline');
    assert.deepEqual(i.alert.get('cutouts'), [
      'science',
      'template',
      'difference',
    ]);
    const original = (inline.record.cutoutTemplate as {stampData: Buffer})
      .stampData;
    assert.ok(
      (await readCutout(db, config, SUB, inline.sourceId, 'template'))?.equals(
        original,
      ),
    );
    const d = await stored(db, drop.sourceId);
    assert.ok(d.alert.exists && !d.cutouts.exists);
    assert.equal(d.alert.get('cutoutsStored'), 'drop');
    assert.deepEqual(d.alert.get('cutouts'), []);
    assert.equal(
      await readCutout(db, config, SUB, drop.sourceId, 'science'),
      null,
    );
    assert.equal(await readCutout(db, config, SUB, '42', 'science'), null);
    await assert.rejects(
      readCutout(db, config, SUB, drop.sourceId, 'nope' as 'science'),
      /unknown cutout/,
    );
  });

  it('stores the stamps of generated ZTF and LSST packets as the packets carry them', async () => {
    const db = emu.firestore();
    const store = createAlertStore(db, config);
    const decoder = createDecoder({});
    const ztf = generateZtfPacket({seed: 5});
    const [z] = await decoder.decode(ztf.bytes);
    assert.equal(await store.store(toAlertDocument(z, meta(), {})), 'stored');
    const zc = await readCutout(db, config, SUB, z.sourceId, 'difference');
    assert.ok(zc?.equals(z.cutouts.difference!.data));
    assert.equal(zc![0], 0x1f, 'gzipped FITS, as published');
    const dir = await mkdtemp(join(tmpdir(), 'lsst-schemas-'));
    try {
      await writeLsstSchemaDir(dir);
      const lsst = generateLsstPacket({seed: 6, cutoutBytes: 20_000});
      const [l] = await createDecoder({schemaSource: dir}).decode(lsst.bytes);
      assert.ok(l.cutouts.science, 'the packet has stamps');
      assert.equal(
        await store.store(toAlertDocument(l, meta('l'), {})),
        'stored',
      );
      const ls = await readCutout(db, config, SUB, l.sourceId, 'science');
      assert.ok(ls?.equals(l.cutouts.science!.data));
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});
