/**
 * `npm run bench:pull`: the pull harness (bounded fetch through the ingest
 * pipeline into Firestore, writes batched) against the two ceilings it sits
 * on, measured in the same run on the same emulators and packets:
 *   1. raw streaming pull + ack (no work): Subscription.on('message', ack);
 *   2. Firestore batch writes: storeMany('batch') of the same alert documents;
 *   3. the harness: ConsumerStream.streamAlerts() with the default pipeline.
 * Target: (3) reaches at least 0.8 of min((1), (2)).
 *
 * N real-size generated ZTF packets (~70 KB, distinct ids) are published
 * before each pull phase; rates are counted from the first message received
 * to the last ack. The Firestore emulator is restarted before phase 3 (its
 * memory grows with use). Last line: a JSON summary.
 *
 * Options (env): BENCH_N (default 1000: the emulator indexes every field of
 * the stored records, ~20-60 writes/s on the shared 2-core machine), BENCH_BACKLOG (maxBacklog, default 1000).
 */

import {Firestore} from '@google-cloud/firestore';
import type {Message} from '@google-cloud/pubsub';

import {createDecoder} from '../src/alert';
import {loadConfig} from '../src/config';
import {
  ConsumerStream,
  createBatchingAlertStore,
  createHarnessPipeline,
  HARNESS_BATCH_BYTES,
} from '../src/consumer';
import {tomMapping} from '../src/ingest/firestore-ports';
import {createLogger} from '../src/log';
import {firestoreClient, pubsubClient} from '../src/local/clients';
import {
  RunningEmulator,
  startFirestoreEmulator,
  startPubSubEmulator,
} from '../src/local/emulators';
import {generatedPackets, Packet} from '../src/local/replay';
import {toAlertDocument, type AlertDocument} from '../src/store/alert-document';
import {createAlertStore} from '../src/store/alert-store';

const N = Number(process.env.BENCH_N ?? 1000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1000);
const PG = 'ardent-cycling-243415';
/** A loaded shared machine can take well over 15 s for a 1 MiB commit. */
const COMMIT_TIMEOUT_MS = 120_000;
const PROJECT = 'bench-project';
const config = {...loadConfig({}), projectId: PROJECT};
const log = createLogger({
  minSeverity: 'ERROR',
  sink: l => process.stderr.write(l + '\n'),
});

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function publishAll(
  pubsubHost: string,
  topicName: string,
  packets: Packet[],
): Promise<number> {
  const pubsub = pubsubClient({projectId: PG, host: pubsubHost});
  const topic = pubsub.topic(topicName, {
    batching: {maxMessages: 100, maxMilliseconds: 5},
  });
  await topic.create();
  await pubsub
    .subscription(`projects/${PROJECT}/subscriptions/${topicName}`)
    .get()
    .catch(() => undefined);
  const sub = pubsubClient({projectId: PROJECT, host: pubsubHost});
  await sub
    .topic(`projects/${PG}/topics/${topicName}`)
    .createSubscription(topicName, {ackDeadlineSeconds: 60});
  await sub.close();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({length: 200}, async () => {
      while (next < packets.length) {
        const p = packets[next++];
        await topic.publishMessage({data: p.data, attributes: p.attributes});
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  await pubsub.close();
  return packets.length / s;
}

async function rawPull(pubsubHost: string, name: string): Promise<number> {
  const pubsub = pubsubClient({projectId: PROJECT, host: pubsubHost});
  const sub = pubsub.subscription(name, {
    flowControl: {maxMessages: BACKLOG, allowExcessMessages: false},
  });
  let first = 0;
  let acked = 0;
  const done = new Promise<number>(resolve => {
    sub.on('message', (m: Message) => {
      if (!first) first = performance.now();
      m.ack();
      if (++acked === N) resolve(performance.now());
    });
  });
  const end = await done;
  await sub.close();
  await pubsub.close();
  return N / ((end - first) / 1000);
}

/**
 * WriteBatch commits of the precomputed documents, shaped exactly like the
 * harness's (same micro-batch bounds and concurrent commits), without pull,
 * decode or filter.
 */
async function batchWrites(
  db: Firestore,
  docs: AlertDocument[],
  subscription = 'bench-writes',
): Promise<number> {
  const store = createAlertStore(db, config, {
    mode: 'batch',
    maxBatchBytes: HARNESS_BATCH_BYTES,
    timeoutMs: COMMIT_TIMEOUT_MS,
  });
  const batching = createBatchingAlertStore(
    d => store.storeMany(d),
    (_alert, meta) => ({...docs[Number(meta.messageId)], subscription}),
    {maxBytes: HARNESS_BATCH_BYTES},
  );
  const t0 = performance.now();
  const outcomes = await Promise.allSettled(
    docs.map((_d, i) =>
      batching.store(undefined as never, {
        subscription: 'bench-writes',
        messageId: String(i),
        attributes: {},
      }),
    ),
  );
  const s = (performance.now() - t0) / 1000;
  const stored = outcomes.filter(
    o => o.status === 'fulfilled' && o.value === 'stored',
  ).length;
  if (stored !== docs.length) {
    const failed = outcomes.find(o => o.status === 'rejected');
    throw new Error(
      `only ${stored}/${docs.length} stored: ${failed?.status === 'rejected' ? String(failed.reason) : ''}`,
    );
  }
  return docs.length / s;
}

async function harness(pubsubHost: string, db: Firestore, name: string) {
  const pubsub = pubsubClient({projectId: PROJECT, host: pubsubHost});
  const pipeline = createHarnessPipeline(config, db, log, {
    store: {timeoutMs: COMMIT_TIMEOUT_MS},
  });
  const stream = new ConsumerStream({
    pubsub,
    subscription: name,
    pittGoogleProject: PG,
    pipeline,
    log,
  });
  let first = 0;
  let last = 0;
  const {summary} = await stream.streamAlerts({
    flowConfigs: {maxResults: N, timeout: 30, maxBacklog: BACKLOG},
    onMessage: () => {
      last = performance.now();
      first ||= last;
    },
  });
  await pubsub.close();
  const rate = summary.stored / ((last - first) / 1000);
  return {summary, rate, batches: pipeline.batches};
}

async function main() {
  process.stderr.write(`generating ${N} packets...\n`);
  const packets = generatedPackets(N, 1000);
  const bytes = packets.reduce((s, p) => s + p.data.length, 0);
  const decoder = createDecoder();
  const docs: AlertDocument[] = [];
  for (const p of packets) {
    const [alert] = await decoder.decode(p.data);
    docs.push(
      toAlertDocument(
        alert,
        {
          subscription: 'bench-writes',
          messageId: String(docs.length),
          attributes: p.attributes,
        },
        {
          cutouts: config.cutouts,
          tom: tomMapping,
        },
      ),
    );
  }
  const docBytes = docs.reduce((s, d) => s + d.sizeBytes, 0);
  process.stderr.write('starting the emulators...\n');
  const [pubsubEmu, firestoreEmu0] = await Promise.all([
    startPubSubEmulator(),
    startFirestoreEmulator(),
  ]);
  let firestoreEmu: RunningEmulator = firestoreEmu0;
  const stopAll = () =>
    Promise.allSettled([pubsubEmu.stop(), firestoreEmu.stop()]);
  try {
    process.stderr.write('1/3 raw streaming pull + ack...\n');
    const publishRate = await publishAll(pubsubEmu.host, 'bench-raw', packets);
    const pull = await rawPull(pubsubEmu.host, 'bench-raw');
    process.stderr.write(`   ${pull.toFixed(0)}/s\n`);

    process.stderr.write('2/3 Firestore batch writes...\n');
    await firestoreEmu.stop();
    firestoreEmu = await startFirestoreEmulator();
    let db = firestoreClient({projectId: PROJECT, host: firestoreEmu.host});
    // Warm the fresh emulator's JVM (the first commits are several times slower).
    await batchWrites(db, docs.slice(0, 100), 'bench-warmup');
    const writes = await batchWrites(db, docs);
    process.stderr.write(`   ${writes.toFixed(0)}/s\n`);
    await db.terminate();

    process.stderr.write(
      '3/3 harness fetch into Firestore (Firestore emulator restarted)...\n',
    );
    await firestoreEmu.stop();
    firestoreEmu = await startFirestoreEmulator();
    db = firestoreClient({projectId: PROJECT, host: firestoreEmu.host});
    await publishAll(pubsubEmu.host, 'bench-harness', packets);
    const h = await harness(pubsubEmu.host, db, 'bench-harness');
    const stored = (
      await db.collection('subscriptions/bench-harness/alerts').count().get()
    ).data().count;
    await db.terminate();
    if (stored !== N) throw new Error(`harness stored ${stored} of ${N}`);

    const ceiling = Math.min(pull, writes);
    const ratio = h.rate / ceiling;
    const rows: [string, string, string][] = [
      ['publish (setup)', publishRate.toFixed(0), '-'],
      [
        '1. raw streaming pull + ack',
        pull.toFixed(0),
        (pull / ceiling).toFixed(2),
      ],
      [
        '2. Firestore WriteBatch (storeMany)',
        writes.toFixed(0),
        (writes / ceiling).toFixed(2),
      ],
      ['3. harness fetch → Firestore', h.rate.toFixed(0), ratio.toFixed(2)],
    ];
    console.log(
      `N=${N} packets, ${mb(bytes)} MiB (mean ${(bytes / N / 1024).toFixed(1)} KiB); documents ${mb(docBytes)} MiB (mean ${(docBytes / N / 1024).toFixed(1)} KiB, cutouts dropped)`,
    );
    console.log('| phase | msg/s | / min(1,2) |');
    console.log('|---|---:|---:|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(
      `harness: ${h.summary.stored} stored in ${h.batches} batches, latency p50 ${h.summary.latencyP50Ms} ms p99 ${h.summary.latencyP99Ms} ms, acked ${h.summary.acked}, nacked ${h.summary.nacked}, errors ${h.summary.errors}`,
    );
    console.log(
      JSON.stringify({
        bench: 'pull',
        n: N,
        maxBacklog: BACKLOG,
        publishPerS: Math.round(publishRate),
        rawPullPerS: Math.round(pull),
        batchWritePerS: Math.round(writes),
        harnessPerS: Math.round(h.rate),
        ratio: Math.round(ratio * 1000) / 1000,
        target: 0.8,
        pass: ratio >= 0.8,
        latencyP50Ms: h.summary.latencyP50Ms,
        latencyP99Ms: h.summary.latencyP99Ms,
      }),
    );
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  e => {
    console.error(e);
    process.exit(1);
  },
);
