/**
 * bench:push's shared set-up: options, the generated packets and the
 * documents the function writes, the Firestore emulator (restarted between
 * phases), and the measuring helpers every phase uses (creates, CPU meter).
 */

import {execFileSync} from 'node:child_process';
import {loadavg} from 'node:os';
import * as path from 'node:path';

import {Firestore} from '@google-cloud/firestore';
import type {Topic} from '@google-cloud/pubsub';

import {createDecoder, toGenericAlert, toTarget} from '../../src/alert';
import type {Alert} from '../../src/alert/model';
import {loadConfig} from '../../src/config';
import {PITTGOOGLE_PROJECT} from '../../src/defaults';
import {
  DEFAULT_FUNCTIONS,
  INGEST_NODE_OPTIONS,
  memoryMiB,
} from '../../src/deploy/config';
import {validateFilter} from '../../src/filter';
import {
  RunningEmulator,
  startFirestoreEmulator,
} from '../../src/local/emulators';
import {generateZtfPacket} from '../../src/local/generate';
import {AlertDocument, toAlertDocument} from '../../src/store/alert-document';
import {createAlertStore} from '../../src/store/alert-store';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {firestoreEmulatorSettings} from '../../test/helpers/emulator-fixture';
import {
  cpuMsOf,
  groupCpuMs,
  mean,
  MiB,
  percentile,
  round,
  selfCpuMs,
} from '../lib/push-tools';

export const N = Number(process.env.BENCH_MESSAGES ?? 2000);
export const MEM = Number(process.env.BENCH_MEMORY_ALERTS ?? 20_000);
/** Cold starts measured in E (a fresh function process each; the median is reported). */
export const COLD_STARTS = Math.max(
  1,
  Number(process.env.BENCH_COLD_STARTS ?? 5),
);
export const PHASES = new Set(
  (process.env.BENCH_PHASES ?? 'ABCDEF').toUpperCase(),
);
export const PROF_DIR = process.env.BENCH_CPU_PROF
  ? path.resolve(process.env.BENCH_CPU_PROF)
  : undefined;
/**
 * Memory of the function processes (MiB): the deployed instance size by
 * default (DEFAULT_FUNCTIONS.ingest.memory); 0 = unconstrained.
 */
export const MEMORY_LIMIT_MIB = Number(
  process.env.BENCH_MEMORY_LIMIT_MIB ??
    memoryMiB(DEFAULT_FUNCTIONS.ingest.memory, 'ingest memory'),
);
/** Node flags of the function processes: the deployed ones unless BENCH_NODE_OPTIONS says otherwise. */
export const EXTRA_NODE_OPTIONS = (
  process.env.BENCH_NODE_OPTIONS ?? INGEST_NODE_OPTIONS
).trim();
export const PITT = PITTGOOGLE_PROJECT;
export const TOPIC = `projects/${PITT}/topics/ztf-loop`;
export const DIRECT_CONCURRENCY = 32;
/**
 * Requests that warm a new function process before C and D are measured:
 * the steady state of an instance, not its JIT warm-up (E measures the cold
 * start). After 50, its CPU per alert still fell by 15-25 % over the next
 * 1,000 alerts.
 */
export const WARM_REQUESTS = 500;
/** Creates that warm a fresh Firestore emulator (see freshFirestore). */
export const EMULATOR_WARM_DOCS = 2000;
/** Rounds in which B32 and D alternate (N / rounds alerts each per round). */
export const DIRECT_ROUNDS = 4;
export const ROOT = path.resolve(__dirname, '..', '..', '..');

export const config = loadConfig({});
export const project = `bench-${Date.now().toString(36)}`;
export const say = (s: string) => process.stderr.write(`${s}\n`);
export const load = () => loadavg().map(l => round(l, 1));

/** Passes every generated alert (checked: every message must be stored). */
export const FILTER = {
  all: [
    {field: 'candidate.jd', op: 'gt', value: 2400000},
    {field: 'candidate.isdiffpos', op: 'exists'},
  ],
};

export interface Row {
  what: string;
  rate?: number;
  latencyMs?: number;
  note?: string;
}
export const rows: Row[] = [];
export const summary: Record<string, unknown> = {bench: 'push'};

// ---------------------------------------------------------------------------
// fixtures

export const packets: Buffer[] = [];
export const alerts: Alert[] = [];

export async function generate(): Promise<void> {
  const t0 = performance.now();
  const decoder = createDecoder();
  for (let i = 0; i < N; i++) {
    const p = generateZtfPacket({seed: i + 1});
    packets.push(p.bytes);
  }
  for (const b of packets) alerts.push(...(await decoder.decode(b)));
  const kib = mean(packets.map(p => p.length)) / 1024;
  say(
    `${N} generated ZTF packets (mean ${kib.toFixed(1)} KiB) in ${round((performance.now() - t0) / 1000, 1)} s`,
  );
  summary.packetKiB = round(kib, 1);
}

export const tom = (a: Alert) => ({
  generic: toGenericAlert(a),
  target: toTarget(a),
});

/** The documents the function writes for `subscription` (as in context.ts). */
export function documents(subscription: string, count = alerts.length) {
  const t0 = performance.now();
  const docs = alerts.slice(0, count).map((a, i) =>
    toAlertDocument(
      a,
      {
        subscription,
        messageId: String(i + 1),
        publishTime: new Date().toISOString(),
        attributes: {},
      },
      {cutouts: config.cutouts, tom},
    ),
  );
  return {docs, msPerDoc: (performance.now() - t0) / docs.length};
}

export let firestoreEmu: RunningEmulator | undefined;
export let db: Firestore | undefined;

export async function freshFirestore(): Promise<Firestore> {
  await db?.terminate();
  if (firestoreEmu) {
    const rss = emulatorRss(firestoreEmu);
    say(`Firestore emulator RSS before restart: ${round(rss / MiB)} MiB`);
    await firestoreEmu.stop();
  }
  // A larger heap than the tests' 2g: 20,000 alert documents of ~1,400
  // fields each push a 2g emulator into back-to-back garbage collections.
  firestoreEmu = await startFirestoreEmulator({javaHeap: '8g'});
  db = new Firestore({
    ...firestoreEmulatorSettings(firestoreEmu.host, project),
    ignoreUndefinedProperties: true,
  });
  // A fresh emulator answers its first writes slowly (its JIT warms up: its
  // CPU per create fell from ~7 to ~2.5 ms over the first ~2,000 creates):
  // warm it with alert documents elsewhere and the filter reads, so that
  // what follows measures the function, not the emulator's start (as A+B
  // and B are measured on an emulator warmed by the phases before them).
  await creates(documents('bench-emulator-warmup', EMULATOR_WARM_DOCS).docs, 4);
  const subs = createSubscriptionStore(db, config);
  for (const name of subscriptionNames) {
    await subs.put({
      name,
      topic: TOPIC,
      filter: validateFilter(FILTER),
      serverFilter: '',
      settings: {},
    });
  }
  // And the reads an instance makes as it starts (the stored filters): the
  // emulator's first query answered in ~110 ms, the next ones in ~11 ms.
  for (let i = 0; i < 3; i++) await subs.readFilters(100);
  return db;
}

/** Every subscription the function is asked about (filters stored up front). */
export const subscriptionNames = [
  'bench-warm',
  'bench-warm-d0',
  'bench-c',
  'bench-d',
  'bench-d0',
  ...Array.from({length: Math.ceil(MEM / N)}, (_, k) => `bench-e${k}`),
  ...Array.from({length: COLD_STARTS}, (_, k) => `bench-cold${k}`),
];

/** RSS of the emulator's process group (wrapper + Java). */
export function emulatorRss(emu: RunningEmulator): number {
  let total = 0;
  try {
    const out = execFileSync('ps', ['-o', 'rss=', '-g', String(emu.pid)], {
      encoding: 'utf8',
    });
    for (const l of out.split('\n')) if (l.trim()) total += Number(l) * 1024;
  } catch {
    // gone
  }
  return total;
}

export async function publishAll(topic: Topic, count: number): Promise<void> {
  for (let i = 0; i < count; i += 200) {
    await Promise.all(
      packets
        .slice(i, Math.min(count, i + 200))
        .map(data => topic.publishMessage({data})),
    );
  }
}

export async function waitUntil(
  what: string,
  ok: () => boolean,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** create() of every document with `concurrency` in flight. */
export async function creates(docs: AlertDocument[], concurrency: number) {
  const store = createAlertStore(db!, config);
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < docs.length) {
        const doc = docs[next++];
        const s = performance.now();
        const outcome = await store.store(doc);
        if (outcome !== 'stored') throw new Error(`create: ${outcome}`);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const ms = performance.now() - t0;
  return {
    ms,
    latencies,
    rate: (docs.length / ms) * 1000,
    meanMs: mean(latencies),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

/**
 * CPU time per alert of this process (the client or the sender), of the
 * Firestore emulator (its whole process group) and of a function process,
 * over one measured stretch: where a 2-core machine's time goes.
 */
export function cpuMeter(fnPid?: number, pubsubPgid?: number) {
  const emulator = firestoreEmu?.pid;
  const read = () => ({
    self: selfCpuMs(),
    emulator: emulator === undefined ? NaN : groupCpuMs(emulator),
    fn: fnPid === undefined ? NaN : cpuMsOf(fnPid),
    pubsub: pubsubPgid === undefined ? NaN : groupCpuMs(pubsubPgid),
  });
  const start = read();
  return {
    perAlert(n: number) {
      const end = read();
      return {
        self: (end.self - start.self) / n,
        emulator: (end.emulator - start.emulator) / n,
        fn: (end.fn - start.fn) / n,
        pubsub: (end.pubsub - start.pubsub) / n,
      };
    },
  };
}
