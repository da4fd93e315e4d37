/**
 * Stress, throttling: Firestore answering RESOURCE_EXHAUSTED (and, in a
 * second run, ABORTED and DEADLINE_EXCEEDED) for a stretch while alerts are
 * flowing. The emulator never throttles, so a gRPC-level proxy in front of
 * it (test/helpers/grpc-proxy.ts) answers every Firestore call itself with
 * that status for the stretch — what the function's client sees when
 * production Firestore throttles a hot range or a collection ramping up
 * faster than the 500/50/5 rule. The client retries commits on
 * RESOURCE_EXHAUSTED and ABORTED with its own backoff until the store's
 * bound (STORE_TIMEOUT_MS); the function then answers 503 and Pub/Sub
 * redelivers with the subscription's retry backoff (here 1-10 s; the deploy
 * and the manage API set 10-600 s).
 *
 * After each: every alert stored exactly once with its cutouts document
 * (both or neither, under throttling too), nothing valid quarantined, the
 * backlog drained and nothing left unacknowledged. Figures: calls answered
 * by the proxy, 5xx answers, redeliveries, time to drain after the heal.
 */

import {strict as assert} from 'node:assert';
import {after, before, describe, it} from 'node:test';

import {loadConfig} from '../../src/config';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {generateZtfPacket} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';
import {GrpcProxy, startGrpcProxy} from '../helpers/grpc-proxy';
import {createIngestLog, deliveryFigures} from '../helpers/ingest-log';
import {createPushScenario, PITT_PROJECT} from '../helpers/push-scenario';
import {recordFigure, scaled} from '../helpers/stress-report';
import {sleep, waitFor} from '../helpers/wait';

const M = scaled(300, 2_000);
const THROTTLE_MS = scaled(10, 30) * 1000;
const ACK_DEADLINE_S = 10;
const STORE_TIMEOUT_MS = 4000;
/**
 * The first scenario's retry policy (seconds): short, so that the test
 * drains quickly (the emulator honours it roughly; see the second).
 */
const BACKOFF = {min: 1, max: 10};
const config = loadConfig({});

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

describe('stress: Firestore throttling', () => {
  const emu = useEmulators({pubsub: true, firestore: true});
  const log = createIngestLog({keepLines: process.env.THROTTLE_DEBUG === '1'});
  const project = `stress-throttle-${Date.now().toString(36)}`;
  let proxy: GrpcProxy;
  let fn: FunctionServer;

  before(async () => {
    const [host, port] = emu.emulators.firestore!.host.split(':');
    proxy = await startGrpcProxy({host, port: Number(port)});
    fn = await startFunctionServer({
      target: 'ingest',
      env: {
        FIRESTORE_EMULATOR_HOST: `${proxy.host}:${proxy.port}`,
        GOOGLE_CLOUD_PROJECT: project,
        STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
      },
      onLog: log.onLog,
    });
  });

  after(async () => {
    await fn?.stop();
    await proxy?.close();
  });

  async function throttled(
    name: string,
    what: string,
    codes: number | number[],
    holdMs: number,
    seed: number,
    retryPolicy: boolean,
  ) {
    const db = emu.firestore(project);
    const scenario = await createPushScenario({
      pitt: emu.pubsub(PITT_PROJECT),
      user: emu.pubsub(project),
      db,
      config,
      name,
      functionUrl: fn.url,
      ackDeadlineSeconds: ACK_DEADLINE_S,
      retryBackoffSeconds: retryPolicy ? BACKOFF : undefined,
    });
    const sub = log.of(name);
    const packets = Array.from({length: M}, (_, i) => {
      const p = generateZtfPacket({seed: seed + i});
      return {bytes: p.bytes, sourceId: p.expected[0].sourceId};
    });
    const expected = new Set(packets.map(p => p.sourceId));
    assert.equal(expected.size, M);
    await scenario.publish(packets.map(p => p.bytes));
    await waitFor(
      `${name}: a quarter stored before the throttle`,
      () => (sub.inStore.size >= M / 4 ? true : undefined),
      120_000,
      50,
    );
    const before = new Map(proxy.throttled);
    const injectAt = Date.now();
    proxy.throttle({code: codes, message: 'Quota exceeded (stress test).'});
    await sleep(holdMs);
    const healAt = Date.now();
    const inStoreAtHeal = sub.inStore.size;
    proxy.throttle(null);
    let answered = 0;
    for (const [k, n] of proxy.throttled) answered += n - (before.get(k) ?? 0);
    if (process.env.THROTTLE_DEBUG === '1') {
      const t = setInterval(() => {
        const mine = log.lines;
        process.stderr.write(
          `${name} +${Math.round((Date.now() - healAt) / 1000)}s: ${sub.inStore.size}/${M} ${JSON.stringify(sub.outcomes)} last: ${JSON.stringify(mine.slice(-2))}\n`,
        );
      }, 5000);
      t.unref();
    }
    await waitFor(
      `${name}: every alert stored (${sub.inStore.size}/${M})`,
      () => (sub.inStore.size >= M ? true : undefined),
      300_000,
    );
    const drainedAt = sub.lastStoredAt;
    const check = await scenario.verify(expected);
    const cutouts = (
      await db
        .collection(
          `${config.subscriptionsCollection}/${name}/${config.cutoutsCollection}`,
        )
        .count()
        .get()
    ).data().count;
    const unacked = await scenario.unacked();
    const d = deliveryFigures(sub);
    const retriesDuringThrottle = sub.retryTimes.filter(
      t => t >= injectAt && t <= healAt + STORE_TIMEOUT_MS,
    ).length;
    recordFigure({
      suite: 'fault',
      name: what,
      tried: M,
      lost: check.lost.length,
      duplicated: d.storedTwice + check.unexpected.length,
      quarantinedValid: check.quarantined.length,
      details: {
        'stored at heal': `${inStoreAtHeal}/${M}`,
        'calls answered by the proxy': answered,
        '5xx': d.answers5xx,
        redeliveries: d.redeliveries,
        'drained s after the heal': round((drainedAt - healAt) / 1000),
        'cutouts documents': cutouts,
        unacked: unacked.length,
      },
    });
    assert.ok(
      inStoreAtHeal < M,
      `the throttle hit mid-run (${inStoreAtHeal}/${M})`,
    );
    assert.ok(answered > 0, 'the proxy answered calls itself');
    assert.ok(retriesDuringThrottle > 0, 'the function answered 5xx');
    assert.deepEqual(Object.keys(sub.retryReasons), ['store-unavailable']);
    assert.deepEqual(check.lost, [], 'nothing lost');
    assert.deepEqual(check.unexpected, []);
    assert.equal(check.documents, M);
    assert.equal(d.storedTwice, 0, 'nothing stored twice');
    assert.equal(cutouts, M, 'each alert with its cutouts document');
    assert.deepEqual(check.quarantined, [], 'nothing valid quarantined');
    assert.deepEqual(
      unacked.map(m => m.messageId),
      [],
      'the backlog drained: nothing left unacknowledged',
    );
    assert.ok(
      d.maxLatencyMs < ACK_DEADLINE_S * 1000,
      `every answer within the ack deadline (max ${d.maxLatencyMs} ms)`,
    );
  }

  it(`RESOURCE_EXHAUSTED for ${THROTTLE_MS / 1000} s: 503, redelivered with backoff, every alert stored once`, async () => {
    await throttled(
      'ztf-throttled',
      `Firestore answering RESOURCE_EXHAUSTED ${THROTTLE_MS / 1000} s (gRPC proxy)`,
      8,
      THROTTLE_MS,
      60_000,
      true,
    );
  });

  it(`ABORTED and DEADLINE_EXCEEDED in turn for ${THROTTLE_MS / 2000} s: likewise`, async () => {
    await throttled(
      'ztf-aborted',
      `Firestore answering ABORTED / DEADLINE_EXCEEDED ${THROTTLE_MS / 2000} s (gRPC proxy)`,
      [10, 4],
      THROTTLE_MS / 2,
      70_000,
      // Without a retry policy: with one (1-10 s), the Pub/Sub emulator
      // stopped redelivering after this run's fast 503s (ABORTED on reads,
      // DEADLINE_EXCEEDED on commits fail at once): 56 of 300 messages were
      // still not redelivered 300 s after the heal, and all came at once
      // without the policy. Real Pub/Sub's backoff is not the emulator's.
      false,
    );
  });
});
