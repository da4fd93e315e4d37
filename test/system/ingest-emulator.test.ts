/**
 * The ingest function end to end: the real functions framework serving
 * build/src/functions/index.js, the real Pub/Sub emulator pushing to it, the
 * real Firestore emulator behind a loopback proxy that can be cut.
 */

import {strict as assert} from 'node:assert';
import {mkdtemp, readdir, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';
import type {Topic} from '@google-cloud/pubsub';

import {createDecoder} from '../../src/alert';
import {loadConfig} from '../../src/config';
import {fromPythonForm} from '../../src/filter';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {useEmulators} from '../helpers/emulator-fixture';
import {
  generateLsstPacket,
  generateZtfPacket,
  writeLsstSchemaDir,
} from '../helpers';
import {startTcpProxy, TcpProxy} from '../helpers/tcp-proxy';
import {waitFor} from '../helpers/wait';
import {
  alertDocumentId,
  alertShard,
  sourceIdOfDocumentId,
} from '../../src/store/layout';
import {samplesDir} from '../../src/local/samples';

const PITT = 'ardent-cycling-243415';
const SUB = 'ztf-loop-e2e';
const config = loadConfig({});

describe('ingest function through the Pub/Sub and Firestore emulators', () => {
  const emu = useEmulators({pubsub: true, firestore: true});
  const logs: Record<string, unknown>[] = [];
  let fn: FunctionServer;
  let proxy: TcpProxy;
  let db: Firestore;
  let topic: Topic;
  const project = `user-${Date.now().toString(36)}`;
  const sub = () => db.collection('subscriptions').doc(SUB);
  const ids = async (collection: string) =>
    (await sub().collection(collection).get()).docs.map(d => d.id).sort();
  /** Source ids of the stored alerts, from their document ids (src/store/layout.ts). */
  const storedSourceIds = async () =>
    (await ids('alerts')).map(id => sourceIdOfDocumentId(id) ?? id).sort();

  before(async () => {
    const firestoreHost = emu.emulators.firestore!.host;
    const [host, port] = firestoreHost.split(':');
    proxy = await startTcpProxy({host, port: Number(port)});
    const schemaDir = await mkdtemp(path.join(tmpdir(), 'schemas-'));
    await writeLsstSchemaDir(schemaDir, [1101]);
    db = emu.firestore(project);
    // The stored filter: tom_pittgoogle's form, classtar < 0.5.
    await createSubscriptionStore(db, config).put({
      name: SUB,
      topic: `projects/${PITT}/topics/ztf-loop`,
      filter: fromPythonForm({classtar_threshold: 0.5, classtar_gt_lt: 'lt'}),
      serverFilter: '',
      settings: {},
    });
    fn = await startFunctionServer({
      target: 'ingest',
      env: {
        FIRESTORE_EMULATOR_HOST: `${proxy.host}:${proxy.port}`,
        GOOGLE_CLOUD_PROJECT: project,
        SCHEMA_SOURCE: schemaDir,
        FILTER_CACHE_TTL_MS: '200',
        STORE_TIMEOUT_MS: '5000',
      },
      onLog: e => logs.push(e),
    });
    const pitt = emu.pubsub(PITT);
    [topic] = await pitt.createTopic('ztf-loop');
    await emu
      .pubsub(project)
      .createSubscription(`projects/${PITT}/topics/ztf-loop`, SUB, {
        pushConfig: {pushEndpoint: `${fn.url}?subscription=${SUB}`},
        ackDeadlineSeconds: 20,
      });
  });

  after(async () => {
    await fn?.stop();
    await proxy?.close();
  });

  it('an instance preloads the stored filters as it starts', async () => {
    const warmed = await waitFor('the warm-up log line', async () =>
      logs.find(e => e.message === 'instance warmed'),
    );
    assert.equal(warmed.filtersPreloaded, 1);
    assert.equal(warmed.severity, 'INFO');
  });

  it('stores exactly the passing alerts once, quarantines each malformed message once', async () => {
    const expectedStored = new Set<string>();
    const expectedFiltered = new Set<string>();
    const publish = async (
      data: Buffer,
      attributes: Record<string, string> = {},
    ) => topic.publishMessage({data, attributes});
    const packets = [];
    for (let seed = 1; seed <= 16; seed++) {
      packets.push(generateZtfPacket({seed, nullClasstar: seed % 5 === 0}));
    }
    packets.push(generateZtfPacket({seed: 99, count: 3, codec: 'deflate'}));
    for (const p of packets) {
      for (const e of p.expected) {
        (e.classtar !== null && e.classtar < 0.5
          ? expectedStored
          : expectedFiltered
        ).add(e.sourceId);
      }
    }
    const real: Buffer[] = [];
    const dir = path.join(samplesDir(), 'ztf');
    const decoder = createDecoder();
    for (const f of (await readdir(dir)).sort()) {
      const bytes = await readFile(path.join(dir, f));
      for (const a of await decoder.decode(bytes)) {
        (a.classtar !== null && a.classtar < 0.5
          ? expectedStored
          : expectedFiltered
        ).add(a.sourceId);
      }
      real.push(bytes);
    }
    assert.ok(
      expectedStored.size >= 3 && expectedFiltered.size >= 3,
      'the fixture has both outcomes',
    );
    const lsst = generateLsstPacket({seed: 7});
    const unknownSchema = Buffer.from(lsst.bytes);
    unknownSchema.writeInt32BE(4242, 1);
    const truncated = packets[0].bytes.subarray(0, 1000);
    const malformed = [
      Buffer.from('definitely not an alert'),
      truncated,
      unknownSchema,
      Buffer.from('{"foo": 1}'),
      Buffer.alloc(0),
    ];

    for (const p of packets)
      await publish(p.bytes, {objectId: p.expected[0].objectId});
    for (const b of real) await publish(b);
    for (const p of packets.slice(0, 3)) await publish(p.bytes); // redelivery-like duplicates
    await publish(lsst.bytes); // classtar is null for LSST: filtered, not an error
    expectedFiltered.add(lsst.expected[0].sourceId);
    const badIds: string[] = [];
    for (const b of malformed) badIds.push(await publish(b, {kind: 'bad'}));

    const handled = () =>
      logs.filter(l =>
        ['stored', 'duplicate', 'filtered', 'quarantined'].includes(
          l.outcome as string,
        ),
      );
    const total = packets.length + real.length + 3 + 1 + malformed.length;
    await waitFor('every message handled', async () =>
      handled().length >= total ? true : undefined,
    );
    assert.deepEqual(await storedSourceIds(), [...expectedStored].sort());
    const quarantine = await sub().collection('quarantine').get();
    assert.deepEqual(quarantine.docs.map(d => d.id).sort(), [...badIds].sort());
    const reasons = quarantine.docs.map(d => d.get('reason')).sort();
    assert.deepEqual(
      reasons,
      [
        'bad-avro',
        'empty-payload',
        'invalid-alert',
        'truncated',
        'unknown-format',
        'unknown-schema',
      ].filter(r => reasons.includes(r)),
    );
    assert.ok(
      reasons.includes('unknown-schema') && reasons.includes('empty-payload'),
      String(reasons),
    );
    // A stored document: exact ids, queryable fields, the full record, TOM mappings.
    const one = [...expectedStored][0];
    const snap = await sub()
      .collection('alerts')
      .doc(alertDocumentId(one))
      .get();
    const doc = snap.data()!;
    // The layout's contract: a scattered document id, the exact decimal id as a field.
    assert.notEqual(snap.id, one);
    assert.equal(doc.sourceId, one);
    assert.equal(doc.shard, alertShard(doc.objectId));
    assert.equal(doc.subscription, SUB);
    assert.equal(doc.survey, 'ztf');
    assert.equal(typeof doc.ra, 'number');
    assert.equal(doc.tom.generic.id, one);
    assert.equal(String(doc.record.candid), one);
    // CUTOUTS=separate (the default): the stamps in their own document.
    assert.deepEqual(doc.cutouts, ['science', 'template', 'difference']);
    assert.equal(doc.cutoutsStored, 'separate');
    assert.equal(doc.record.cutoutScience, undefined);
    const cutouts = await sub()
      .collection('cutouts')
      .doc(alertDocumentId(one))
      .get();
    assert.ok(Buffer.isBuffer(cutouts.get('science')));
    assert.equal(cutouts.get('sourceId'), one);
    assert.equal(doc.expireAt, null, 'kept forever without a retention');

    // Nothing loops: a few seconds later no message was handled again.
    const before = handled().length;
    await new Promise(r => setTimeout(r, 3000));
    assert.equal(handled().length, before);
    const quarantinedLogs = logs.filter(l => l.outcome === 'quarantined');
    assert.equal(quarantinedLogs.length, malformed.length);
    // The three republished packets: those with a passing alert are duplicates.
    const republishedPassing = packets
      .slice(0, 3)
      .filter(p => p.expected.some(e => expectedStored.has(e.sourceId))).length;
    const dupLogs = logs.filter(l => l.outcome === 'duplicate');
    assert.equal(dupLogs.length, republishedPassing);
    // No alert was reported stored twice.
    const storedIds = logs
      .filter(l => l.outcome === 'stored')
      .flatMap(l => (Array.isArray(l.sourceId) ? l.sourceId : [l.sourceId]));
    assert.equal(new Set(storedIds).size, storedIds.length);
    for (const l of handled()) {
      assert.equal(l.severity === 'INFO' || l.severity === 'WARNING', true);
      assert.equal(l.subscription, SUB);
      assert.equal(typeof l.messageId, 'string');
      assert.equal(typeof l.latencyMs, 'number');
    }
  });

  it('answers 5xx while Firestore is unreachable, then stores every alert exactly once', async () => {
    const packets = [];
    for (let seed = 200; seed < 260 && packets.length < 6; seed++) {
      const p = generateZtfPacket({seed});
      if (p.expected[0].classtar !== null && p.expected[0].classtar < 0.5)
        packets.push(p);
    }
    const retriesBefore = logs.filter(l => l.outcome === 'retry').length;
    proxy.setMode('refuse');
    for (const p of packets) await topic.publishMessage({data: p.bytes});
    await waitFor(
      'the function to answer 5xx',
      async () =>
        logs.filter(l => l.outcome === 'retry').length > retriesBefore + 2
          ? true
          : undefined,
      60_000,
    );
    proxy.setMode('up');
    const wanted = packets.map(p => p.expected[0].sourceId);
    // Done when every alert's message was answered with stored or duplicate
    // (a write applied late is reported as duplicate on the next delivery).
    const answered = (w: string) =>
      logs.some(
        l =>
          l.sourceId === w &&
          (l.outcome === 'stored' || l.outcome === 'duplicate'),
      );
    await waitFor(
      'every alert stored once Firestore is back',
      async () => (wanted.every(answered) ? true : undefined),
      90_000,
    );
    // Exactly once: a write that Firestore applied after the function had
    // given up on it shows up as a duplicate on redelivery, never twice.
    for (const w of wanted) {
      const outcomes = logs.filter(l => l.sourceId === w).map(l => l.outcome);
      assert.ok(
        outcomes.filter(o => o === 'stored').length <= 1,
        `${w}: ${outcomes}`,
      );
      assert.ok(
        outcomes.some(o => o === 'stored' || o === 'duplicate'),
        `${w}: ${outcomes}`,
      );
    }
    const docs = await sub()
      .collection('alerts')
      .where('sourceId', 'in', wanted)
      .get();
    assert.equal(docs.size, wanted.length);
  });
});
