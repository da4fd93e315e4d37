/**
 * The throttling proxy of the stress suite (test/helpers/grpc-proxy.ts) in
 * front of the Firestore emulator: it forwards every kind of call (unary,
 * server streaming, listen), and while throttling, the client sees
 * Firestore's RESOURCE_EXHAUSTED: a read fails at once with code 8 (the
 * store's transient 'store-unavailable'), a commit is retried by the client
 * until the store's bound, then lands once the throttle lifts (a retry
 * finds it: 'duplicate', never a second document).
 */

import {strict as assert} from 'node:assert';
import {after, before, describe, it} from 'node:test';

import {Firestore} from '@google-cloud/firestore';

import {loadConfig} from '../../src/config';
import {AlertError} from '../../src/errors';
import {toAlertDocument} from '../../src/store/alert-document';
import {getAlert} from '../../src/store/alert-query';
import {createAlertStore} from '../../src/store/alert-store';
import {
  classifyFirestoreError,
  grpcCode,
} from '../../src/store/firestore-errors';
import {
  firestoreEmulatorSettings,
  useEmulators,
} from '../helpers/emulator-fixture';
import {GrpcProxy, startGrpcProxy} from '../helpers/grpc-proxy';
import {ztfAlert} from '../helpers/store-alert';

const config = loadConfig({});

describe('gRPC throttling proxy (emulator)', () => {
  const emu = useEmulators({firestore: true});
  let proxy: GrpcProxy;
  let db: Firestore;

  before(async () => {
    const [host, port] = emu.emulators.firestore!.host.split(':');
    proxy = await startGrpcProxy({host, port: Number(port)});
    db = new Firestore(
      firestoreEmulatorSettings(
        `${proxy.host}:${proxy.port}`,
        emu.uniqueId('proxied'),
      ),
    );
  });
  after(async () => {
    await db?.terminate();
    await proxy?.close();
  });

  it('forwards writes, queries and listeners unchanged', async () => {
    const store = createAlertStore(db, config);
    const doc = toAlertDocument(ztfAlert(), {subscription: 's'}, {});
    const seen = new Promise<number>(resolve => {
      const stop = db.collection('subscriptions/s/alerts').onSnapshot(snap => {
        if (snap.size > 0) {
          stop();
          resolve(snap.size);
        }
      });
    });
    assert.equal(await store.store(doc), 'stored');
    assert.equal(await seen, 1);
    const snap = await getAlert(db, config, 's', doc.sourceId);
    assert.equal(snap?.get('sourceId'), doc.sourceId);
    assert.equal(
      (await db.collection('subscriptions/s/cutouts').get()).size,
      1,
    );
    assert.ok(proxy.forwarded >= 3);
  });

  it('answers RESOURCE_EXHAUSTED while throttling: reads fail at once, commits until the bound, then land once', async () => {
    const store = createAlertStore(db, config, {timeoutMs: 1500});
    const doc = toAlertDocument(
      ztfAlert({candid: 3000000000000000077n}),
      {subscription: 's'},
      {},
    );
    proxy.throttle({code: 8, message: 'Quota exceeded.'});
    try {
      const read = await getAlert(db, config, 's', doc.sourceId).then(
        () => undefined,
        e => e,
      );
      assert.equal(grpcCode(read), 8);
      const e = classifyFirestoreError(read);
      assert.equal(`${e.kind}:${e.code}`, 'transient:store-unavailable');
      await assert.rejects(
        store.store(doc),
        (err: AlertError) =>
          err.kind === 'transient' && err.code === 'store-unavailable',
      );
      assert.ok(
        (proxy.throttled.get('/google.firestore.v1.Firestore/Commit') ?? 0) >=
          2,
        'the client retried the commit',
      );
    } finally {
      proxy.throttle(null);
    }
    const patient = createAlertStore(db, config, {timeoutMs: 30_000});
    assert.match(await patient.store(doc), /^(stored|duplicate)$/);
    assert.equal(await patient.store(doc), 'duplicate');
    const copies = await db
      .collection('subscriptions/s/alerts')
      .where('sourceId', '==', doc.sourceId)
      .get();
    assert.equal(copies.size, 1);
  });
});
