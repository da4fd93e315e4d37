/**
 * Stress, load: N generated real-size alerts (ZTF-like OCF packets with
 * cutouts, every tenth an LSST-like Confluent-wire packet) published to a
 * topic of project ardent-cycling-243415 on the Pub/Sub emulator and pushed,
 * as fast as the emulator delivers, to the ingest function (the real
 * functions framework, its own process) → exactly N documents with exactly
 * the expected ids, none stored twice, nothing quarantined, nothing left
 * unacknowledged. The function runs as deployed (its NODE_OPTIONS), under
 * its instance's memory (512 MiB: a memory cgroup where the machine allows one, else the
 * heap limits Node derives from it; src/local/memory-limit.ts), and its
 * resident memory, sampled every 250 ms, must stay within 256 MiB (peak and
 * growth from the first quarter of the run to the end are figures).
 *
 * N = 2,000 in `npm test`, 20,000 with `npm run stress`.
 */

import {strict as assert} from 'node:assert';
import {mkdtemp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {loadConfig} from '../../src/config';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {
  generateLsstPacket,
  generateZtfPacket,
  writeLsstSchemaDir,
} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';
import {createIngestLog, deliveryFigures} from '../helpers/ingest-log';
import {
  DEFAULT_FUNCTIONS,
  INGEST_NODE_OPTIONS,
  memoryMiB,
} from '../../src/deploy/config';
import {groupRss, MiB, sampleRss} from '../helpers/process-memory';
import {createPushScenario, PITT_PROJECT} from '../helpers/push-scenario';
import {recordFigure, scaled} from '../helpers/stress-report';
import {sleep} from '../helpers/wait';

const N = scaled(2_000, 20_000);
/** Published but not yet stored: enough to keep the push saturated, bounded so the emulator does not hold GBs. */
const BACKLOG = 2_000;
const ACK_DEADLINE_S = 10;
/** Issue #7: the function's resident memory stays within 256 MiB. */
const RSS_LIMIT = 256 * MiB;
const INSTANCE_MIB = memoryMiB(DEFAULT_FUNCTIONS.ingest.memory, 'memory');
const config = loadConfig({});

/** Packet `i` of the run (deterministic): ~70 KB either way. */
function packetAt(i: number): {bytes: Buffer; sourceId: string} {
  const p =
    i % 10 === 9
      ? generateLsstPacket({
          seed: 500_000 + i,
          cutoutBytes: 22_000,
          prvDiaSources: 10,
        })
      : generateZtfPacket({seed: 500_000 + i});
  return {bytes: p.bytes, sourceId: p.expected[0].sourceId};
}

const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

describe(`stress: load, ${N.toLocaleString('en-US')} alerts pushed`, () => {
  // 20,000 alert documents of ~1,400 fields each: the Firestore emulator
  // crawls at a 2g heap (bench/push.ts), hence 8g (a cap, not an allocation).
  const emu = useEmulators({pubsub: true, firestore: true, javaHeap: '8g'});
  const log = createIngestLog();
  const project = `stress-load-${Date.now().toString(36)}`;
  let fn: FunctionServer;

  before(async () => {
    const schemaDir = await mkdtemp(path.join(tmpdir(), 'stress-schemas-'));
    await writeLsstSchemaDir(schemaDir, [1101]);
    fn = await startFunctionServer({
      target: 'ingest',
      env: {
        FIRESTORE_EMULATOR_HOST: emu.emulators.firestore!.host,
        GOOGLE_CLOUD_PROJECT: project,
        SCHEMA_SOURCE: schemaDir,
        NODE_OPTIONS: INGEST_NODE_OPTIONS,
      },
      onLog: log.onLog,
      memoryLimitMiB: INSTANCE_MIB,
    });
  });

  after(async () => {
    await fn?.stop();
  });

  it('stores exactly N documents with the expected ids, none twice, none quarantined, none left unacked', async () => {
    const scenario = await createPushScenario({
      pitt: emu.pubsub(PITT_PROJECT),
      user: emu.pubsub(project),
      db: emu.firestore(project),
      config,
      name: 'ztf-load',
      functionUrl: fn.url,
      ackDeadlineSeconds: ACK_DEADLINE_S,
    });
    const sub = log.of(scenario.name);
    let overLimit = 0;
    const rss = sampleRss(
      () => groupRss(fn.pid),
      250,
      bytes => {
        if (bytes > RSS_LIMIT) overLimit = Math.max(overLimit, bytes);
      },
    );
    const expected = new Set<string>();
    const started = Date.now();
    let generateMs = 0;

    // Publish ahead of the push by at most BACKLOG messages.
    const CHUNK = 200;
    for (let i = 0; i < N; i += CHUNK) {
      while (expected.size - sub.inStore.size > BACKLOG) {
        assert.equal(
          overLimit,
          0,
          `RSS ${round(overLimit / MiB)} MiB > 256 MiB`,
        );
        await sleep(50);
      }
      const t0 = performance.now();
      const chunk = Array.from({length: Math.min(CHUNK, N - i)}, (_, k) =>
        packetAt(i + k),
      );
      generateMs += performance.now() - t0;
      for (const p of chunk) expected.add(p.sourceId);
      await scenario.publish(chunk.map(p => p.bytes));
    }
    assert.equal(expected.size, N, 'generated source ids are distinct');
    const publishedAt = Date.now();

    // Until every alert is in Firestore (stored, or found there on a redelivery).
    const deadline = Date.now() + 120_000 + (N / 20) * 1000;
    let quarterAt = 0;
    while (sub.inStore.size < N) {
      assert.equal(overLimit, 0, `RSS ${round(overLimit / MiB)} MiB > 256 MiB`);
      if (!quarterAt && sub.inStore.size >= N / 4) quarterAt = Date.now();
      assert.ok(
        Date.now() < deadline,
        `only ${sub.inStore.size}/${N} alerts stored in time; outcomes ${JSON.stringify(sub.outcomes)}`,
      );
      await sleep(250);
    }
    const doneAt = Date.now();
    rss.stop();
    // Detach now; the ack-deadline wait overlaps the document checks.
    const unacked = scenario.unacked();
    const check = await scenario.verify(expected);
    const left = await unacked;

    const times = [...sub.inStore.values()];
    const rate = ((N - 1) / (times[times.length - 1] - times[0])) * 1000;
    const atQuarter = rss.sampleAt(quarterAt)?.bytes ?? NaN;
    const growth = rss.last / atQuarter - 1;
    const d = deliveryFigures(sub);
    recordFigure({
      suite: 'load',
      name: `${N.toLocaleString('en-US')} alerts (9 ZTF : 1 LSST, ~70 KB) pushed by the emulator`,
      tried: N,
      lost: check.lost.length,
      duplicated: d.storedTwice + check.unexpected.length,
      quarantinedValid: check.quarantined.length,
      details: {
        'alerts/s': round(rate, 1),
        'run s': round((doneAt - started) / 1000),
        instance: `${INSTANCE_MIB} MiB (${fn.memoryLimit})`,
        'peak RSS MiB': round(rss.peak / MiB),
        [`RSS ${N / 4}→end`]: `${round(atQuarter / MiB)}→${round(rss.last / MiB)} MiB (${round(growth * 100, 1)}%)`,
        deliveries: d.deliveries,
        redeliveries: d.redeliveries,
        '5xx': d.answers5xx,
        unacked: left.length,
      },
    });
    process.stderr.write(
      `load: ${N} alerts in ${round((doneAt - started) / 1000)} s (published by ${round((publishedAt - started) / 1000)} s, generating ${round(generateMs / 1000)} s), ${round(rate, 1)} alerts/s; RSS peak ${round(rss.peak / MiB)} MiB, ${round(atQuarter / MiB)} MiB at ${N / 4} → ${round(rss.last / MiB)} MiB at the end (${round(growth * 100, 1)}%); ${JSON.stringify(d)}\n`,
    );

    assert.equal(check.documents, N);
    assert.deepEqual(check.lost, [], 'every alert has its document');
    assert.deepEqual(check.unexpected, [], 'no document that was not sent');
    assert.equal(d.storedTwice, 0, 'no alert reported stored twice');
    assert.equal(sub.outcomes.stored, N, 'one stored answer per alert');
    assert.deepEqual(check.quarantined, [], 'nothing quarantined');
    assert.deepEqual(left, [], 'no message left unacknowledged');
    assert.ok(rss.peak <= RSS_LIMIT, `peak RSS ${round(rss.peak / MiB)} MiB`);
  });
});
