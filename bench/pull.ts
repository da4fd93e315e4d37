/**
 * `npm run bench:pull`: the pull harness (bounded fetch through the ingest
 * pipeline into Firestore, writes batched) against the two ceilings it sits
 * on, measured in the same run on the same emulators and packets:
 *   1. raw streaming pull + ack (no work): Subscription.on('message', ack);
 *   2. Firestore batch writes: storeMany('batch') of the same alert documents;
 *   3. the harness: ConsumerStream.streamAlerts() with the default pipeline;
 *   4. (1) and (2) at once, of the same N (information): what the machine
 *      gives the harness's two required parts when they share it, as they
 *      do in (3); with two cores, (2) alone already keeps them busy.
 * Target: (3) reaches at least 0.8 of min((1), (2)).
 *
 * N real-size generated ZTF packets (~70 KB, distinct ids) are published
 * before each pull phase; the pull phases' rates are counted from the
 * first message received (1) or from the start of the fetch (3: the stream's
 * opening included) to the last message settled. Phases 2 and 3 run on one Firestore emulator warmed with
 * BENCH_WARM writes, in BENCH_ROUNDS interleaved rounds (default 2); CPU per
 * alert is this process's and both emulators'. Last line: a JSON summary.
 *
 * Options (env): BENCH_N (default 1000: the emulator indexes every field of
 * the stored records, ~20-60 writes/s on the shared 2-core machine), BENCH_BACKLOG (maxBacklog, default 1000).
 */

import {cpus, loadavg} from 'node:os';

import {Firestore} from '@google-cloud/firestore';
import type {Message} from '@google-cloud/pubsub';

import {createDecoder} from '../src/alert';
import {loadConfig} from '../src/config';
import {PITTGOOGLE_PROJECT, PULL_DEFAULTS} from '../src/defaults';
import {ConsumerStream} from '../src/consumer';
import {
  createFirestorePipeline,
  tomMapping,
} from '../src/ingest/firestore-pipeline';
import {createLogger} from '../src/log';
import {firestoreClient, pubsubClient} from '../src/local/clients';
import {
  RunningEmulator,
  startFirestoreEmulator,
  startPubSubEmulator,
} from '../src/local/emulators';
import {generatedPackets, Packet} from '../src/local/replay';
import {
  toAlertDocument,
  writeBytes,
  type AlertDocument,
} from '../src/store/alert-document';
import {createAlertStore} from '../src/store/alert-store';
import {createWriteBatcher} from '../src/store/write-batcher';
import {groupCpuMs, selfCpuMs} from './lib/push-tools';

type Summary = Awaited<ReturnType<typeof harness>>['summary'];

/** CPU ms of this process and of each emulator's process group, from the call on. */
function cpuOf(groups: number[]): () => number[] {
  const read = () => [selfCpuMs(), ...groups.map(g => groupCpuMs(g))];
  const start = read();
  return () => read().map((v, i) => v - start[i]);
}

/** Waits (at most 10 s) until a process group uses under 2 % of a core. */
async function settle(pgid: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  let before = groupCpuMs(pgid);
  while (performance.now() < deadline) {
    await new Promise(r => setTimeout(r, 250));
    const now = groupCpuMs(pgid);
    if (now - before < 5) return;
    before = now;
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const addTo = (acc: number[], xs: number[]) =>
  xs.forEach((x, i) => (acc[i] = (acc[i] ?? 0) + x));

const N = Number(process.env.BENCH_N ?? 1000);
/** Rounds in which 2 and 3 alternate. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Writes that warm the fresh Firestore emulator before 2 and 3. */
const WARM = Number(process.env.BENCH_WARM ?? 2000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1000);
const PG = PITTGOOGLE_PROJECT;
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
    maxBatchBytes: PULL_DEFAULTS.batchBytes,
    timeoutMs: COMMIT_TIMEOUT_MS,
  });
  const batching = createWriteBatcher(d => store.storeMany(d), {
    maxBytes: PULL_DEFAULTS.batchBytes,
  });
  const t0 = performance.now();
  const outcomes = await Promise.allSettled(
    docs.map(d => batching.store({...d, subscription})),
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

/** (1) and (2) at once: N over the time until both are done. */
async function bothParts(
  pubsubHost: string,
  db: Firestore,
  docs: AlertDocument[],
  name: string,
): Promise<number> {
  const t0 = performance.now();
  await Promise.all([
    rawPull(pubsubHost, name),
    batchWrites(db, docs, `${name}-writes`),
  ]);
  return N / ((performance.now() - t0) / 1000);
}

async function harness(pubsubHost: string, db: Firestore, name: string) {
  const pubsub = pubsubClient({projectId: PROJECT, host: pubsubHost});
  const pipeline = createFirestorePipeline(
    {firestore: db, writes: 'batched', store: {timeoutMs: COMMIT_TIMEOUT_MS}},
    config,
    log,
  );
  const stream = new ConsumerStream({
    pubsub,
    subscription: name,
    pittGoogleProject: PG,
    pipeline,
    log,
  });
  // From the call (the messages are already published: this includes
  // opening the stream) to the last message settled (its write committed).
  const first = performance.now();
  let last = 0;
  const {summary} = await stream.streamAlerts({
    flowConfigs: {maxResults: N, timeout: 30, maxBacklog: BACKLOG},
    onMessage: () => {
      last = performance.now();
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
  const docBytes = docs.reduce((s, d) => s + writeBytes(d), 0);
  process.stderr.write('starting the emulators...\n');
  const [pubsubEmu, firestoreEmu0] = await Promise.all([
    startPubSubEmulator(),
    startFirestoreEmulator(),
  ]);
  let firestoreEmu: RunningEmulator = firestoreEmu0;
  const stopAll = () =>
    Promise.allSettled([pubsubEmu.stop(), firestoreEmu.stop()]);
  try {
    // A fresh Pub/Sub emulator's CPU per delivered message fell from ~1.6 to
    // ~0.6 ms over its first few hundred: warm it as the Firestore one is.
    process.stderr.write('warming the Pub/Sub emulator...\n');
    await publishAll(pubsubEmu.host, 'bench-pubsub-warmup', packets);
    await rawPull(pubsubEmu.host, 'bench-pubsub-warmup');
    process.stderr.write('1/3 raw streaming pull + ack...\n');
    const publishRate = await publishAll(pubsubEmu.host, 'bench-raw', packets);
    const pull = await rawPull(pubsubEmu.host, 'bench-raw');
    process.stderr.write(`   ${pull.toFixed(0)}/s\n`);

    // 2 and 3 on one Firestore emulator, warmed first (a fresh emulator's
    // first ~2,000 writes cost it several times the CPU of later ones), in
    // ROUNDS interleaved rounds (the order reversed every other round), each
    // round on subscriptions of its own; rates over the summed times.
    await firestoreEmu.stop();
    firestoreEmu = await startFirestoreEmulator({javaHeap: '4g'});
    const db = firestoreClient({projectId: PROJECT, host: firestoreEmu.host});
    process.stderr.write(
      `warming the Firestore emulator (${WARM} writes)...\n`,
    );
    for (let done = 0; done < WARM; done += docs.length) {
      await batchWrites(db, docs.slice(0, WARM - done), `bench-warmup-${done}`);
    }
    const emulators = [pubsubEmu.pid, firestoreEmu.pid];
    const w = {ms: 0, cpu: [] as number[]};
    const both = {ms: 0, cpu: [] as number[]};
    const hr = {
      ms: 0,
      cpu: [] as number[],
      stored: 0,
      batches: 0,
      summaries: [] as Summary[],
    };
    for (let r = 0; r < ROUNDS; r++) {
      const order =
        r % 2 ? ['both', 'harness', 'writes'] : ['writes', 'harness', 'both'];
      for (const what of order) {
        if (what === 'both') {
          const name = `bench-both-${r}`;
          await publishAll(pubsubEmu.host, name, packets);
          await settle(pubsubEmu.pid);
          process.stderr.write(
            `4. pull and writes at once, round ${r + 1}...\n`,
          );
          const cpu = cpuOf(emulators);
          const t = await bothParts(pubsubEmu.host, db, docs, name);
          both.ms += (N / t) * 1000;
          addTo(both.cpu, cpu());
        } else if (what === 'writes') {
          process.stderr.write(
            `2/3 Firestore batch writes, round ${r + 1}...\n`,
          );
          const cpu = cpuOf(emulators);
          const t = await batchWrites(db, docs, `bench-writes-${r}`);
          w.ms += (N / t) * 1000;
          addTo(w.cpu, cpu());
        } else {
          const name = `bench-harness-${r}`;
          await publishAll(pubsubEmu.host, name, packets);
          // The emulator goes on working after the publish calls return
          // (~1 ms of CPU per message): not the fetch's cost.
          await settle(pubsubEmu.pid);
          process.stderr.write(
            `3/3 harness fetch into Firestore, round ${r + 1}...\n`,
          );
          const cpu = cpuOf(emulators);
          const h = await harness(pubsubEmu.host, db, name);
          addTo(hr.cpu, cpu());
          hr.ms += (h.summary.stored / h.rate) * 1000;
          hr.stored += h.summary.stored;
          hr.batches += h.batches;
          hr.summaries.push(h.summary);
          const stored = (
            await db.collection(`subscriptions/${name}/alerts`).count().get()
          ).data().count;
          if (stored !== N) throw new Error(`harness stored ${stored} of ${N}`);
        }
      }
    }
    await db.terminate();
    const writes = ((N * ROUNDS) / w.ms) * 1000;
    const together = ((N * ROUNDS) / both.ms) * 1000;
    const h = {
      rate: (hr.stored / hr.ms) * 1000,
      batches: hr.batches,
      summary: hr.summaries[hr.summaries.length - 1],
    };
    const cpuPerAlert = {
      writes: sum(w.cpu) / (N * ROUNDS),
      harness: sum(hr.cpu) / hr.stored,
      both: sum(both.cpu) / (N * ROUNDS),
    };
    // With every core busy, no run can beat cores / CPU per alert.
    const cores = cpus().length;
    const cpuBound = (ms: number) => (cores / ms) * 1000;
    const parts = (c: number[], n: number) =>
      `this process ${(c[0] / n).toFixed(2)} + Pub/Sub emulator ${(c[1] / n).toFixed(2)} + Firestore emulator ${(c[2] / n).toFixed(2)}`;

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
      [
        '4. (1) and (2) at once (information)',
        together.toFixed(0),
        (together / ceiling).toFixed(2),
      ],
    ];
    console.log(
      `N=${N} packets, ${mb(bytes)} MiB (mean ${(bytes / N / 1024).toFixed(1)} KiB); documents ${mb(docBytes)} MiB (mean ${(docBytes / N / 1024).toFixed(1)} KiB, the alert and its cutouts documents: CUTOUTS=${config.cutouts})`,
    );
    console.log('| phase | msg/s | / min(1,2) |');
    console.log('|---|---:|---:|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(
      `harness: ${hr.stored} stored in ${h.batches} batches over ${ROUNDS} rounds; last round: latency p50 ${h.summary.latencyP50Ms} ms p99 ${h.summary.latencyP99Ms} ms, acked ${h.summary.acked}, nacked ${h.summary.nacked}, errors ${h.summary.errors}`,
    );
    console.log(
      `CPU per alert: writes ${cpuPerAlert.writes.toFixed(2)} ms (${parts(w.cpu, N * ROUNDS)}), harness ${cpuPerAlert.harness.toFixed(2)} ms (${parts(hr.cpu, hr.stored)}), (1) and (2) at once ${cpuPerAlert.both.toFixed(2)} ms (${parts(both.cpu, N * ROUNDS)}); ratio writes / harness ${(cpuPerAlert.writes / cpuPerAlert.harness).toFixed(2)}; load average ${loadavg()
        .map(l => l.toFixed(1))
        .join(' ')}`,
    );
    console.log(
      `CPU-bound rates on ${cores} cores (cores / CPU per alert): writes ${cpuBound(cpuPerAlert.writes).toFixed(0)}/s, harness ${cpuBound(cpuPerAlert.harness).toFixed(0)}/s, (1) and (2) at once ${cpuBound(cpuPerAlert.both).toFixed(0)}/s; harness / (1) and (2) at once ${(h.rate / together).toFixed(2)}`,
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
        bothPartsPerS: Math.round(together),
        ratioToBothParts: Math.round((h.rate / together) * 1000) / 1000,
        ratio: Math.round(ratio * 1000) / 1000,
        target: 0.8,
        pass: ratio >= 0.8,
        latencyP50Ms: h.summary.latencyP50Ms,
        latencyP99Ms: h.summary.latencyP99Ms,
        rounds: ROUNDS,
        cpuMsPerAlertWrites: Math.round(cpuPerAlert.writes * 100) / 100,
        cpuMsPerAlertHarness: Math.round(cpuPerAlert.harness * 100) / 100,
        cpuMsPerAlertBothParts: Math.round(cpuPerAlert.both * 100) / 100,
        cores,
        loadAvg: loadavg()[0],
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
