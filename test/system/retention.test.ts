/**
 * Retention on the emulators: a subscription's `retentionDays` (manage API,
 * real Pub/Sub and Firestore emulators) reaches the ingest path, and the
 * alert and cutouts documents it stores carry `expireAt` = ingest time +
 * retentionDays; without a retention (the default) `expireAt` is null, which
 * a Firestore TTL policy never deletes; quarantine documents expire after
 * QUARANTINE_RETENTION_DAYS (30 by default). The emulator does not delete on
 * TTL (it implements no TTL policy), so these tests check the field values
 * only; deletion itself is Firestore's (within ~24 h of expireAt).
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Timestamp} from '@google-cloud/firestore';

import {loadConfig} from '../../src/config';
import {createIngestContext} from '../../src/functions/context';
import {createManageContext} from '../../src/functions/manage';
import {createLogger} from '../../src/log';
import {alertDocumentId} from '../../src/store/layout';
import {parsePatchBody, parseTouchBody} from '../../src/subscriptions';
import {generateZtfPacket} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';

const PG = 'ardent-cycling-243415';
const DAY = 86_400_000;
const log = createLogger({sink: () => undefined, minSeverity: 'ERROR'});

describe('retention (emulators)', () => {
  const emu = useEmulators({pubsub: true, firestore: true});

  it('parses retentionDays: days or null (forever); anything else is a 400 naming the field', () => {
    assert.equal(
      parseTouchBody('s-a', {retentionDays: 7}, PG).retentionDays,
      7,
    );
    assert.equal(
      parseTouchBody('s-a', {retentionDays: null}, PG).retentionDays,
      null,
    );
    assert.equal('retentionDays' in parseTouchBody('s-a', {}, PG), false);
    assert.deepEqual(parsePatchBody({retentionDays: 30}), {
      overrides: {},
      retentionDays: 30,
    });
    for (const bad of [0, -1, 1.5, '7', 36_501, true]) {
      assert.throws(
        () => parseTouchBody('s-a', {retentionDays: bad}, PG),
        (e: {code?: string; details?: {field?: string}}) =>
          e.code === 'bad-request' && e.details?.field === 'retentionDays',
        String(bad),
      );
    }
  });

  it('stores expireAt = ingest time + retentionDays on the alert and its cutouts, null without a retention, 30 days on quarantine', async () => {
    const project = emu.uniqueId('retention');
    const db = emu.firestore(project);
    const pubsub = emu.pubsub(project);
    const config = {
      ...loadConfig({GOOGLE_CLOUD_PROJECT: project, FILTER_CACHE_TTL_MS: '0'}),
      ingestUrl: 'http://127.0.0.1:9/',
    };
    await emu.pubsub(PG).createTopic('ztf-kept');
    await emu.pubsub(PG).createTopic('ztf-forever');
    const {manager} = createManageContext(config, db, log, {pubsub});
    const touched = await manager.touch(
      parseTouchBody('ztf-kept', {retentionDays: 7}, PG),
    );
    assert.equal(touched.subscription.retentionDays, 7);
    const forever = await manager.touch(parseTouchBody('ztf-forever', {}, PG));
    assert.equal(forever.subscription.retentionDays, null, 'default: forever');
    assert.equal((await manager.get('ztf-kept')).retentionDays, 7);

    const {pipeline} = createIngestContext(config, () => db, log);
    const push = (subscription: string, seed: number) => {
      const p = generateZtfPacket({seed});
      return pipeline
        .processMessage({
          subscription,
          messageId: `m-${subscription}-${seed}`,
          publishTime: new Date().toISOString(),
          attributes: {},
          data: p.bytes,
          deliveryAttempt: undefined,
        })
        .then(r => ({r, sourceId: p.expected[0].sourceId}));
    };
    const docs = async (subscription: string, sourceId: string) => {
      const id = alertDocumentId(sourceId);
      const [a, c] = await db.getAll(
        db.doc(`subscriptions/${subscription}/alerts/${id}`),
        db.doc(`subscriptions/${subscription}/cutouts/${id}`),
      );
      return {a, c};
    };

    const kept = await push('ztf-kept', 1);
    assert.equal(kept.r.outcome, 'stored');
    const k = await docs('ztf-kept', kept.sourceId);
    const ingest = (k.a.get('ingestTime') as Timestamp).toMillis();
    assert.equal(
      (k.a.get('expireAt') as Timestamp).toMillis(),
      ingest + 7 * DAY,
    );
    assert.deepEqual(k.c.get('expireAt'), k.a.get('expireAt'));

    const f = await push('ztf-forever', 2);
    const fd = await docs('ztf-forever', f.sourceId);
    assert.equal(fd.a.get('expireAt'), null);
    assert.equal(fd.c.get('expireAt'), null);

    // A change applies to alerts stored from then on, once the instance's
    // filter cache has reloaded the record (as for a filter change: it
    // serves the cached one while it reloads).
    const patched = await manager.patch(
      'ztf-kept',
      parsePatchBody({retentionDays: null}),
    );
    assert.deepEqual(patched.changed, ['retentionDays']);
    await push('ztf-kept', 4); // served the cached record, started the reload
    await new Promise(r => setTimeout(r, 500));
    const later = await push('ztf-kept', 3);
    assert.equal(
      (await docs('ztf-kept', later.sourceId)).a.get('expireAt'),
      null,
    );
    assert.notEqual(
      (await docs('ztf-kept', kept.sourceId)).a.get('expireAt'),
      null,
      'the earlier alert keeps its expiry',
    );

    // A message that cannot be decoded: quarantined with a 30-day expiry.
    const bad = await pipeline.processMessage({
      subscription: 'ztf-kept',
      messageId: 'broken-1',
      publishTime: undefined,
      attributes: {},
      data: Buffer.from('not an alert'),
      deliveryAttempt: undefined,
    });
    assert.equal(bad.outcome, 'quarantined');
    const q = await db.doc('subscriptions/ztf-kept/quarantine/broken-1').get();
    assert.equal(
      (q.get('expireAt') as Timestamp).toMillis(),
      (q.get('time') as Timestamp).toMillis() + 30 * DAY,
    );
  });
});
