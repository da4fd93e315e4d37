/**
 * `npm run bench:push`: the ingest function against the ceilings of the
 * Pub/Sub emulator's push and of Firestore, in one run, with ratios.
 *
 * Phases (fresh emulators; the Firestore emulator is restarted before the
 * 32-in-flight pair and before the memory phase, as its memory grows):
 * - A: the emulator's push ceiling: N messages published to a pull
 *      subscription, then push turned on (modifyPushConfig) towards a no-op
 *      node:http endpoint (reads the body, answers 204): msgs/s, most
 *      requests in flight.
 * - B: bare Firestore `create()` of the documents the function writes
 *      (toAlertDocument of the decoded alerts, built beforehand) one at a
 *      time, 2 and (later) 32 in flight.
 * - C: the function (functions framework child process) behind the same
 *      push: alerts/s against the model's ceiling c / (c/noopRate + create
 *      latency at c in flight), c = the most requests in flight in A.
 * - D: the function posted to directly at 32 requests in flight against
 *      Firestore alone at 32 in flight (B32), in alternating rounds; D0 the
 *      same pipeline on a bare node:http server (bench/lib/bare-ingest.ts):
 *      what the functions framework costs.
 * - E: a fresh function process: cold start (spawn to the first stored
 *      alert), then MEM alerts posted at 32 in flight, resident memory at
 *      5,000 and at the end (single readings, and the high-water marks of
 *      windows around them). Module load time alone in another process.
 *
 * Env: BENCH_MESSAGES (N, default 2000), BENCH_MEMORY_ALERTS (default
 * 20000), BENCH_COLD_STARTS (5), BENCH_PHASES (default ABCDE), BENCH_CPU_PROF=DIR (profile every
 * function process with --cpu-prof into DIR and print a summary).
 * Last line: a JSON summary.
 */

import {execFileSync} from 'node:child_process';
import {mkdirSync, readdirSync} from 'node:fs';
import {cpus, loadavg} from 'node:os';
import * as path from 'node:path';

import {Firestore} from '@google-cloud/firestore';
import type {PubSub, Topic} from '@google-cloud/pubsub';

import {createDecoder, toGenericAlert, toTarget} from '../src/alert';
import type {Alert} from '../src/alert/model';
import {loadConfig} from '../src/config';
import {validateFilter} from '../src/filter';
import {
  RunningEmulator,
  startFirestoreEmulator,
  startPubSubEmulator,
} from '../src/local/emulators';
import {
  FunctionServer,
  startFunctionServer,
} from '../src/local/function-server';
import {findFreePort} from '../src/local/ports';
import {heapLimitMiBFor} from '../src/local/memory-limit';
import {
  DEFAULT_FUNCTIONS,
  INGEST_NODE_OPTIONS,
  memoryMiB,
} from '../src/deploy/config';
import {AlertDocument, toAlertDocument} from '../src/store/alert-document';
import {createAlertStore} from '../src/store/alert-store';
import {createSubscriptionStore} from '../src/store/subscription-store';
import {
  firestoreEmulatorSettings,
  pubsubForEmulator,
} from '../test/helpers/emulator-fixture';
import {generateZtfPacket} from '../src/local/generate';
import {summarizeCpuProfile} from './lib/cpu-profile';
import {
  MiB,
  mean,
  percentile,
  post,
  cpuMsOf,
  groupCpuMs,
  selfCpuMs,
  postAll,
  pushEnvelope,
  round,
  rssOf,
  NoopEndpoint,
  startNoopEndpoint,
} from './lib/push-tools';
import * as http from 'node:http';

const N = Number(process.env.BENCH_MESSAGES ?? 2000);
const MEM = Number(process.env.BENCH_MEMORY_ALERTS ?? 20_000);
/** Cold starts measured in E (a fresh function process each; the median is reported). */
const COLD_STARTS = Math.max(1, Number(process.env.BENCH_COLD_STARTS ?? 5));
const PHASES = new Set((process.env.BENCH_PHASES ?? 'ABCDE').toUpperCase());
const PROF_DIR = process.env.BENCH_CPU_PROF
  ? path.resolve(process.env.BENCH_CPU_PROF)
  : undefined;
/**
 * Memory of the function processes (MiB): the deployed instance size by
 * default (DEFAULT_FUNCTIONS.ingest.memory); 0 = unconstrained.
 */
const MEMORY_LIMIT_MIB = Number(
  process.env.BENCH_MEMORY_LIMIT_MIB ??
    memoryMiB(DEFAULT_FUNCTIONS.ingest.memory, 'ingest memory'),
);
/** Node flags of the function processes: the deployed ones unless BENCH_NODE_OPTIONS says otherwise. */
const EXTRA_NODE_OPTIONS = (
  process.env.BENCH_NODE_OPTIONS ?? INGEST_NODE_OPTIONS
).trim();
const PITT = 'ardent-cycling-243415';
const TOPIC = `projects/${PITT}/topics/ztf-loop`;
const DIRECT_CONCURRENCY = 32;
/**
 * Requests that warm a new function process before C and D are measured:
 * the steady state of an instance, not its JIT warm-up (E measures the cold
 * start). After 50, its CPU per alert still fell by 15-25 % over the next
 * 1,000 alerts.
 */
const WARM_REQUESTS = 500;
/** Creates that warm a fresh Firestore emulator (see freshFirestore). */
const EMULATOR_WARM_DOCS = 2000;
/** Rounds in which B32 and D alternate (N / rounds alerts each per round). */
const DIRECT_ROUNDS = 4;
const ROOT = path.resolve(__dirname, '..', '..');

const config = loadConfig({});
const project = `bench-${Date.now().toString(36)}`;
const say = (s: string) => process.stderr.write(`${s}\n`);
const load = () => loadavg().map(l => round(l, 1));

/** Passes every generated alert (checked: every message must be stored). */
const FILTER = {
  all: [
    {field: 'candidate.jd', op: 'gt', value: 2400000},
    {field: 'candidate.isdiffpos', op: 'exists'},
  ],
};

interface Row {
  what: string;
  rate?: number;
  latencyMs?: number;
  note?: string;
}
const rows: Row[] = [];
const summary: Record<string, unknown> = {bench: 'push'};

// ---------------------------------------------------------------------------
// fixtures

const packets: Buffer[] = [];
const alerts: Alert[] = [];

async function generate(): Promise<void> {
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

const tom = (a: Alert) => ({generic: toGenericAlert(a), target: toTarget(a)});

/** The documents the function writes for `subscription` (as in context.ts). */
function documents(subscription: string, count = alerts.length) {
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

let firestoreEmu: RunningEmulator | undefined;
let db: Firestore | undefined;

async function freshFirestore(): Promise<Firestore> {
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
  for (let i = 0; i < 3; i++) await subs.loadFilters(100);
  return db;
}

/** Every subscription the function is asked about (filters stored up front). */
const subscriptionNames = [
  'bench-warm',
  'bench-warm-d0',
  'bench-c',
  'bench-d',
  'bench-d0',
  ...Array.from({length: Math.ceil(MEM / N)}, (_, k) => `bench-e${k}`),
  ...Array.from({length: COLD_STARTS}, (_, k) => `bench-cold${k}`),
];

/** RSS of the emulator's process group (wrapper + Java). */
function emulatorRss(emu: RunningEmulator): number {
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

let profileCount = 0;
/** The --cpu-prof directory of each function process, by pid. */
const profileDirs = new Map<number, string>();

/** Functions whose inclusive time the profile summary reports. */
const INCLUSIVE = [
  'jsonParser',
  'parsePushRequest',
  'processMessage',
  'tryDecodeSync',
  'decode',
  'toAlertDocument',
  'toFirestoreValue',
  'documentSize',
  'valueSize',
  'create',
  'commit',
  'validateUserInput',
  'serializer',
  'encodeFields',
  'log',
  'wrapHttpFunction',
  'ingest',
];

async function startFunction(
  label: string,
  onLog?: (e: Record<string, unknown>) => void,
  port?: number,
  memoryProbe = false,
  script?: string,
): Promise<FunctionServer> {
  const env: Record<string, string> = {
    FIRESTORE_EMULATOR_HOST: firestoreEmu!.host,
    GOOGLE_CLOUD_PROJECT: project,
  };
  const nodeOptions: string[] = EXTRA_NODE_OPTIONS
    ? EXTRA_NODE_OPTIONS.split(/\s+/)
    : [];
  if (memoryProbe) {
    nodeOptions.push(
      `--require=${path.join(__dirname, 'lib', 'memory-probe.js')}`,
    );
  }
  let profileDir: string | undefined;
  if (PROF_DIR) {
    profileDir = path.join(PROF_DIR, `${++profileCount}-${label}`);
    mkdirSync(profileDir, {recursive: true});
    nodeOptions.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  if (nodeOptions.length) env.NODE_OPTIONS = nodeOptions.join(' ');
  const fn = await startFunctionServer({
    target: 'ingest',
    script,
    env,
    port,
    onLog,
    memoryLimitMiB: MEMORY_LIMIT_MIB || undefined,
    onOutput: line => {
      if (!/^(Serving function|Function:|Signature type|URL:)/.test(line))
        say(`[function ${label}] ${line}`);
    },
  });
  if (profileDir) profileDirs.set(fn.pid, profileDir);
  if (!memoryNoted) {
    memoryNoted = true;
    say(
      MEMORY_LIMIT_MIB
        ? `function processes run with NODE_OPTIONS="${EXTRA_NODE_OPTIONS}" under ${MEMORY_LIMIT_MIB} MiB (${fn.memoryLimit === 'cgroup' ? 'a memory cgroup, as a Cloud Run instance' : `no cgroup here: V8 heap flags as Node derives them from that limit (old space ${heapLimitMiBFor(MEMORY_LIMIT_MIB)} MiB)`})`
        : 'function processes run unconstrained (BENCH_MEMORY_LIMIT_MIB=0)',
    );
  }
  return fn;
}
let memoryNoted = false;

async function stopFunction(fn: FunctionServer, label: string) {
  await fn.stop(10_000);
  const dir = profileDirs.get(fn.pid);
  if (!dir) return;
  for (const f of readdirSync(dir).filter(f => f.endsWith('.cpuprofile'))) {
    const s = summarizeCpuProfile(path.join(dir, f), 25, INCLUSIVE);
    say(
      `\nCPU profile of the function (${label}): ${s.totalMs} ms, idle ${s.idlePct}%`,
    );
    say(
      '  modules (self): ' +
        s.topModules.map(m => `${m.module} ${m.pct}%`).join(', '),
    );
    for (const fn of s.topFunctions)
      say(`  ${String(fn.pct).padStart(5)}%  ${fn.name}`);
    say(
      '  inclusive: ' + s.inclusive.map(i => `${i.name} ${i.pct}%`).join(', '),
    );
  }
}

/** Handled-message log lines of one subscription, with their arrival time. */
function logCollector(subscription: string) {
  const handled: {at: number; latencyMs: number; outcome: string}[] = [];
  const outcomes: Record<string, number> = {};
  return {
    handled,
    outcomes,
    onLog: (e: Record<string, unknown>) => {
      if (e.subscription !== subscription) return;
      const outcome = String(e.outcome);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (['stored', 'duplicate', 'filtered', 'quarantined'].includes(outcome))
        handled.push({
          at: performance.now(),
          latencyMs: Number(e.latencyMs),
          outcome,
        });
    },
  };
}

async function publishAll(topic: Topic, count: number): Promise<void> {
  for (let i = 0; i < count; i += 200) {
    await Promise.all(
      packets
        .slice(i, Math.min(count, i + 200))
        .map(data => topic.publishMessage({data})),
    );
  }
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** create() of every document with `concurrency` in flight. */
async function creates(docs: AlertDocument[], concurrency: number) {
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

async function phaseB(concurrency: number, subscription: string) {
  const {docs, msPerDoc} = documents(subscription);
  // Warm the client (connection, first RPC) on a few documents of another path.
  const warm = documents(`${subscription}-warm`, 20).docs;
  await creates(warm, Math.min(concurrency, 4));
  const cpu = cpuMeter();
  const r = await creates(docs, concurrency);
  const cpuMs = cpu.perAlert(docs.length);
  say(
    `B${concurrency}: Firestore create, ${concurrency} in flight: ${round(r.rate)}/s, latency mean ${round(r.meanMs, 2)} ms (p50 ${round(r.p50, 2)}, p99 ${round(r.p99, 1)})`,
  );
  rows.push({
    what: `B: Firestore create(), ${concurrency} in flight`,
    rate: r.rate,
    latencyMs: r.meanMs,
    note: `p50 ${round(r.p50, 2)} / p99 ${round(r.p99, 1)} ms`,
  });
  summary['toAlertDocumentMs'] = round(msPerDoc, 3);
  return {...r, cpuMs};
}

/** WARM_REQUESTS pushes posted to a new function process at `concurrency`. */
async function warmFunction(
  fn: FunctionServer,
  concurrency: number,
  subscription = 'bench-warm',
) {
  await postAll(
    `${fn.url}?subscription=${subscription}`,
    WARM_REQUESTS,
    i => pushEnvelope(packets[i % N], `w${i}`, subscription, project),
    concurrency,
  );
}

/**
 * CPU time per alert of this process (the client or the sender), of the
 * Firestore emulator (its whole process group) and of a function process,
 * over one measured stretch: where a 2-core machine's time goes.
 */
function cpuMeter(fnPid?: number, pubsubPgid?: number) {
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

// ---------------------------------------------------------------------------

async function main() {
  say(`load average at start: ${load().join(' ')} (2-core machine shared)`);
  summary.loadAvgStart = load()[0];
  summary.messages = N;
  await generate();

  const started = performance.now();
  const pubsubEmu = await startPubSubEmulator();
  await freshFirestore();
  const pitt: PubSub = pubsubForEmulator(pubsubEmu.host, PITT);
  const user: PubSub = pubsubForEmulator(pubsubEmu.host, project);
  await pitt.createTopic('ztf-loop');
  const topic = pitt.topic('ztf-loop', {
    batching: {maxMessages: 100, maxMilliseconds: 5},
  });
  say(`emulators up in ${round((performance.now() - started) / 1000, 1)} s`);

  /**
   * N messages published to a new pull subscription, then pushed (push
   * turned on) to `endpoint` until each was answered: the rate between the
   * first request and the last answer, and the CPU per message.
   */
  const pushThrough = async (endpoint: NoopEndpoint, name: string) => {
    const [sub] = await user.createSubscription(TOPIC, name, {
      ackDeadlineSeconds: 60,
    });
    await publishAll(topic, N);
    const meter = cpuMeter(undefined, pubsubEmu.pid);
    await sub.modifyPushConfig({pushEndpoint: endpoint.url});
    await endpoint.waitFor(N, 300_000);
    const cpu = meter.perAlert(N);
    await sub.delete();
    const rate =
      ((endpoint.unique - 1) / (endpoint.lastAt - endpoint.firstAt)) * 1000;
    return {rate, cpu};
  };

  let noopRate = NaN;
  let noopInFlight = 2;
  let create2: Awaited<ReturnType<typeof creates>> | undefined;

  // -- A: the emulator's push ceiling -------------------------------------
  if (PHASES.has('A')) {
    const noop = await startNoopEndpoint();
    const a = await pushThrough(noop, 'bench-a');
    say(
      `   CPU per message, A: Pub/Sub emulator ${round(a.cpu.pubsub, 2)} ms, no-op endpoint (this process) ${round(a.cpu.self, 2)} ms`,
    );
    noopRate = a.rate;
    noopInFlight = noop.maxInFlight;
    say(
      `A: emulator push to a no-op endpoint: ${round(noopRate)} msg/s, at most ${noop.maxInFlight} in flight, ${noop.requests - noop.unique} redeliveries`,
    );
    rows.push({
      what: 'A: emulator push → no-op endpoint',
      rate: noopRate,
      latencyMs: (noopInFlight / noopRate) * 1000,
      note: `max ${noopInFlight} in flight; latency = c / rate`,
    });
    summary.noopPushPerSec = round(noopRate);
    summary.noopMaxInFlight = noopInFlight;
    await noop.close();
  }

  // -- B: bare Firestore creates -----------------------------------------
  if (PHASES.has('B')) {
    const b1 = await phaseB(1, 'bench-b1');
    create2 = await phaseB(2, 'bench-b2');
    summary.createMs1 = round(b1.meanMs, 2);
    summary.createMs2 = round(create2.meanMs, 2);
  }

  // -- A+B: the push path realized -----------------------------------------
  // The emulator pushing to an endpoint (in this process) whose only work
  // is the bare create of a prebuilt document: what the model's ceiling
  // adds up, run for real on this machine, where the emulators and the
  // endpoint share the cores.
  let realized = NaN;
  if (PHASES.has('A') && PHASES.has('B')) {
    const {docs} = documents('bench-ab');
    const store = createAlertStore(db!, config);
    let next = 0;
    const endpoint = await startNoopEndpoint(() =>
      store.store(docs[next++ % docs.length]),
    );
    const ab = await pushThrough(endpoint, 'bench-ab');
    const abCpu = ab.cpu;
    await endpoint.close();
    realized = ab.rate;
    const total = abCpu.pubsub + abCpu.self + abCpu.emulator;
    say(
      `A+B: emulator push to an endpoint whose only work is the bare create: ${round(realized)}/s; ` +
        `CPU per message: Pub/Sub emulator ${round(abCpu.pubsub, 2)} + endpoint and client ${round(abCpu.self, 2)} + Firestore emulator ${round(abCpu.emulator, 2)} = ${round(total, 2)} ms`,
    );
    rows.push({
      what: 'A+B: emulator push → endpoint doing only the bare create',
      rate: realized,
      latencyMs: (noopInFlight / realized) * 1000,
      note: 'the model ceiling run for real on this machine',
    });
    summary.pushRealizedPerSec = round(realized);
  }

  // -- C: the function behind the emulator push ----------------------------
  if (PHASES.has('C')) {
    if (PHASES.has('B')) await freshFirestore();
    const logs = logCollector('bench-c');
    const fn = await startFunction('push', logs.onLog);
    await warmFunction(fn, 2);
    const [sub] = await user.createSubscription(TOPIC, 'bench-c', {
      ackDeadlineSeconds: 60,
    });
    await publishAll(topic, N);
    const cpu = cpuMeter(fn.pid, pubsubEmu.pid);
    await sub.modifyPushConfig({
      pushEndpoint: `${fn.url}?subscription=bench-c`,
    });
    await waitUntil(
      'every pushed message handled',
      () => logs.handled.length >= N,
      600_000,
    );
    const cCpu = cpu.perAlert(N);
    const cpuPerAlert = cCpu.fn;
    const cTotal = cCpu.fn + cCpu.emulator + cCpu.pubsub;
    say(
      `   CPU per alert, C: Pub/Sub emulator ${round(cCpu.pubsub, 2)} + function ${round(cCpu.fn, 2)} + Firestore emulator ${round(cCpu.emulator, 2)} = ${round(cTotal, 2)} ms ` +
        `(${cpus().length} cores: at most ${round((cpus().length * 1000) / cTotal)} alerts/s)`,
    );
    summary.cpuMsPerAlertC = {
      pubsub: round(cCpu.pubsub, 2),
      function: round(cCpu.fn, 2),
      emulator: round(cCpu.emulator, 2),
    };
    summary.functionCpuMsPerAlertPush = round(cpuPerAlert, 2);
    await sub.delete();
    const h = logs.handled;
    const rate = ((h.length - 1) / (h[h.length - 1].at - h[0].at)) * 1000;
    const pipelineMs = mean(h.map(x => x.latencyMs));
    const stored = logs.outcomes.stored ?? 0;
    say(
      `C: function behind the emulator push: ${round(rate)} alerts/s, pipeline latency mean ${round(pipelineMs, 2)} ms, outcomes ${JSON.stringify(logs.outcomes)}`,
    );
    if (stored + (logs.outcomes.duplicate ?? 0) < N)
      throw new Error(`C: only ${stored} of ${N} stored`);
    rows.push({
      what: 'C: function behind the emulator push',
      rate,
      latencyMs: pipelineMs,
      note: `latency: decode + filter + create inside the function; CPU ${round(cpuPerAlert, 2)} ms/alert`,
    });
    summary.functionPushPerSec = round(rate);
    summary.functionPipelineMs = round(pipelineMs, 2);
    if (create2 && Number.isFinite(noopRate)) {
      const c = noopInFlight;
      const tPush = c / noopRate;
      const ceiling = c / (tPush + create2.meanMs / 1000);
      rows.push({
        what: `model: ${c} / (${c}/noop + create latency at ${c})`,
        rate: ceiling,
        latencyMs: (tPush + create2.meanMs / 1000) * 1000,
        note: 'the push-path ceiling',
      });
      summary.pushCeilingPerSec = round(ceiling);
      summary.pushRatio = round(rate / ceiling, 3);
      say(
        `   ceiling ${round(ceiling)}/s → ratio ${round(rate / ceiling, 3)} (target ≥ 0.8)`,
      );
    }
    if (Number.isFinite(realized)) {
      summary.pushRatioRealized = round(rate / realized, 3);
      say(
        `   against the realized push path (A+B) ${round(realized)}/s: ${round(rate / realized, 3)}`,
      );
    }
    await stopFunction(fn, 'push');
  }

  // -- B32 + D (+ D0): direct at 32 in flight ---------------------------
  // Interleaved: DIRECT_ROUNDS rounds of N / DIRECT_ROUNDS creates (B32),
  // as many alerts posted to the function (D) and to the same pipeline on a
  // bare node:http server (D0: what the functions framework costs), the
  // order reversed every other round, on the same fresh emulator; each
  // path's rate is its alerts over its summed time. Measured back to back,
  // the ratio moved by ±0.1 with the machine's load between the stretches.
  if (PHASES.has('D')) {
    await freshFirestore();
    const {docs} = documents('bench-b32');
    await creates(documents('bench-b32-warm', 20).docs, 4);
    const direct = [
      {path: 'D', subscription: 'bench-d', script: undefined},
      {
        path: 'D0',
        subscription: 'bench-d0',
        script: path.join(__dirname, 'lib', 'bare-ingest.js'),
      },
    ].map(p => ({
      ...p,
      logs: logCollector(p.subscription),
      ms: 0,
      latencies: [] as number[],
      statuses: {} as Record<number, number>,
      fn: 0,
      emulator: 0,
      sender: 0,
      server: undefined as FunctionServer | undefined,
    }));
    for (const d of direct) {
      d.server = await startFunction(
        d.path === 'D' ? 'direct' : 'bare',
        d.logs.onLog,
        undefined,
        false,
        d.script,
      );
      await warmFunction(
        d.server,
        DIRECT_CONCURRENCY,
        d.path === 'D' ? 'bench-warm' : 'bench-warm-d0',
      );
    }
    const b = {ms: 0, latencies: [] as number[], client: 0, emulator: 0};
    for (let round_ = 0; round_ < DIRECT_ROUNDS; round_++) {
      const lo = Math.floor((round_ * N) / DIRECT_ROUNDS);
      const hi = Math.floor(((round_ + 1) * N) / DIRECT_ROUNDS);
      const order = [undefined, ...direct];
      if (round_ % 2) order.reverse();
      for (const d of order) {
        if (!d) {
          const cpu = cpuMeter();
          const r = await creates(docs.slice(lo, hi), DIRECT_CONCURRENCY);
          const c = cpu.perAlert(1);
          b.ms += r.ms;
          b.latencies.push(...r.latencies);
          b.client += c.self;
          b.emulator += c.emulator;
          continue;
        }
        // The bodies are built before the stretch: the sender shares the
        // machine with the function and should cost as little as it can.
        const bodies = Array.from({length: hi - lo}, (_, i) =>
          pushEnvelope(
            packets[lo + i],
            `${d.path}-${lo + i}`,
            d.subscription,
            project,
          ),
        );
        const cpu = cpuMeter(d.server!.pid);
        const r = await postAll(
          `${d.server!.url}?subscription=${d.subscription}`,
          hi - lo,
          i => bodies[i],
          DIRECT_CONCURRENCY,
        );
        const c = cpu.perAlert(1);
        d.ms += r.ms;
        d.latencies.push(...r.latencies);
        for (const [k, v] of Object.entries(r.statuses)) {
          d.statuses[Number(k)] = (d.statuses[Number(k)] ?? 0) + v;
        }
        d.fn += c.fn;
        d.emulator += c.emulator;
        d.sender += c.self;
      }
    }
    const bRate = (N / b.ms) * 1000;
    const bTotal = (b.client + b.emulator) / N;
    say(
      `B32: Firestore create, ${DIRECT_CONCURRENCY} in flight: ${round(bRate)}/s, latency mean ${round(mean(b.latencies), 2)} ms (p50 ${round(percentile(b.latencies, 0.5), 2)}, p99 ${round(percentile(b.latencies, 0.99), 1)}); ` +
        `CPU per alert: client ${round(b.client / N, 2)} + emulator ${round(b.emulator / N, 2)} = ${round(bTotal, 2)} ms (${cpus().length} cores: at most ${round((cpus().length * 1000) / bTotal)}/s)`,
    );
    rows.push({
      what: `B: Firestore create(), ${DIRECT_CONCURRENCY} in flight`,
      rate: bRate,
      latencyMs: mean(b.latencies),
      note: `p50 ${round(percentile(b.latencies, 0.5), 2)} / p99 ${round(percentile(b.latencies, 0.99), 1)} ms; interleaved with D and D0 in ${DIRECT_ROUNDS} rounds`,
    });
    summary.cpuMsPerAlertB32 = {
      client: round(b.client / N, 2),
      emulator: round(b.emulator / N, 2),
    };
    summary.firestorePerSec32 = round(bRate);
    for (const d of direct) {
      await waitUntil('logs', () => d.logs.handled.length >= N, 10_000);
      const rate = (N / d.ms) * 1000;
      const cpuPerAlert = d.fn / N;
      const pipelineMs = mean(d.logs.handled.map(x => x.latencyMs));
      const total = (d.fn + d.emulator + d.sender) / N;
      const what =
        d.path === 'D'
          ? `D: function direct, ${DIRECT_CONCURRENCY} in flight`
          : `D0: the same pipeline on a bare node:http server (no functions framework), ${DIRECT_CONCURRENCY} in flight`;
      say(
        `${what}: ${round(rate)} alerts/s, request latency mean ${round(mean(d.latencies), 1)} ms, pipeline ${round(pipelineMs, 1)} ms, statuses ${JSON.stringify(d.statuses)}; ` +
          `CPU per alert: ${d.path === 'D' ? 'function' : 'server'} ${round(cpuPerAlert, 2)} + emulator ${round(d.emulator / N, 2)} + sender ${round(d.sender / N, 2)} = ${round(total, 2)} ms (at most ${round((cpus().length * 1000) / total)}/s); ` +
          `ratio to Firestore alone ${round(rate / bRate, 3)}${d.path === 'D' ? ' (target ≥ 0.8)' : ''}`,
      );
      if ((d.statuses[204] ?? 0) !== N)
        throw new Error(`${d.path}: not every request got 204`);
      rows.push({
        what,
        rate,
        latencyMs: mean(d.latencies),
        note: `pipeline ${round(pipelineMs, 1)} ms of it; ${d.path === 'D' ? 'function' : 'server'} CPU ${round(cpuPerAlert, 2)} ms/alert`,
      });
      const cpuParts = {
        function: round(cpuPerAlert, 2),
        emulator: round(d.emulator / N, 2),
        sender: round(d.sender / N, 2),
      };
      if (d.path === 'D') {
        summary.functionCpuMsPerAlert = round(cpuPerAlert, 2);
        summary.cpuMsPerAlertD = cpuParts;
        summary.directPerSec32 = round(rate);
        summary.directRatio = round(rate / bRate, 3);
      } else {
        summary.cpuMsPerAlertD0 = cpuParts;
        summary.bareDirectPerSec32 = round(rate);
        summary.bareDirectRatio = round(rate / bRate, 3);
      }
      await stopFunction(d.server!, d.path === 'D' ? 'direct' : 'bare');
    }
  }

  // -- E: cold start and memory -------------------------------------------
  if (PHASES.has('E')) {
    await freshFirestore();
    summary.moduleLoadMs = moduleLoadMs();
    let heap: Record<string, number> = {};
    const heapNow = () =>
      `heap ${round(heap.heapUsed / MiB)}/${round(heap.heapTotal / MiB)} MiB, external ${round(heap.external / MiB)} MiB (array buffers ${round(heap.arrayBuffers / MiB)})`;
    /**
     * One cold start: a fresh function process, its first alert posted as
     * soon as it listens (one more subscription each, so its filter is read
     * like a new instance's), until that alert is stored (204).
     */
    const coldStart = async (k: number) => {
      const port = await findFreePort();
      const agent = new http.Agent({keepAlive: true});
      // The last one goes on with the memory run (bench-e0 from packet 0);
      // the others each use a subscription of their own.
      const last = k === COLD_STARTS - 1;
      const sub = last ? 'bench-e0' : `bench-cold${k}`;
      const first = new URL(`http://127.0.0.1:${port}/?subscription=${sub}`);
      const firstBody = pushEnvelope(
        packets[last ? 0 : k],
        last ? 'e0' : `cold${k}`,
        sub,
        project,
      );
      const t0 = performance.now();
      let warmed: Record<string, unknown> | undefined;
      let firstMessage: Record<string, unknown> | undefined;
      let startup: {processStartAt: number; moduleLoadAt: number} | undefined;
      const fnPromise = startFunction(
        'memory',
        e => {
          if (e.memoryProbe) heap = e.memoryProbe as Record<string, number>;
          if (e.startupProbe) startup = e.startupProbe as typeof startup;
          if (e.message === 'instance warmed') warmed ??= e;
          if (e.outcome && !firstMessage) firstMessage = e;
        },
        port,
        true,
      );
      let coldMs = NaN;
      let storedAt = NaN;
      for (;;) {
        const status = await post(agent, first, firstBody).catch(() => 0);
        if (status === 204) {
          coldMs = performance.now() - t0;
          storedAt = performance.timeOrigin + performance.now();
          break;
        }
        if (status !== 0) {
          throw new Error(`E: first request answered ${status}`);
        }
        if (performance.now() - t0 > 30_000) throw new Error('E: no answer');
        await new Promise(r => setTimeout(r, 5));
      }
      agent.destroy();
      const fn = await fnPromise;
      // The issue's cold start: from module load (the process's own clock,
      // epoch-based like ours) to the first alert stored (its 204 received).
      return {
        fn,
        spawnMs: coldMs,
        fromModuleLoadMs: startup ? storedAt - startup.moduleLoadAt : NaN,
        nodeBootMs: startup
          ? startup.moduleLoadAt - startup.processStartAt
          : NaN,
        warmUpMs: Number(warmed?.latencyMs),
        firstPipelineMs: Number(firstMessage?.latencyMs),
      };
    };
    const colds: Awaited<ReturnType<typeof coldStart>>[] = [];
    for (let k = 0; k < COLD_STARTS; k++) {
      const c = await coldStart(k);
      colds.push(c);
      say(
        `E: cold start ${k + 1}/${COLD_STARTS}: module load → first stored alert ${round(c.fromModuleLoadMs)} ms, spawn → first stored alert ${round(c.spawnMs)} ms (Node's own start ${round(c.nodeBootMs)} ms); in the function: warm-up (Firestore client set-up + filters read) ${c.warmUpMs} ms, the first message's pipeline ${c.firstPipelineMs} ms`,
      );
      if (k < COLD_STARTS - 1) await stopFunction(c.fn, 'cold start');
    }
    const med = (f: (c: (typeof colds)[number]) => number) =>
      percentile(colds.map(f), 0.5);
    const fromModuleLoad = med(c => c.fromModuleLoadMs);
    const coldMs = med(c => c.spawnMs);
    const nodeBoot = med(c => c.nodeBootMs);
    const span = (f: (c: (typeof colds)[number]) => number) =>
      `${round(Math.min(...colds.map(f)))}-${round(Math.max(...colds.map(f)))}`;
    summary.coldStartFromModuleLoadMs = round(fromModuleLoad);
    summary.coldStarts = COLD_STARTS;
    say(
      `E: cold start, median of ${COLD_STARTS}: module load → first stored alert ${round(fromModuleLoad)} ms (${span(c => c.fromModuleLoadMs)}), spawn → first stored alert ${round(coldMs)} ms (${span(c => c.spawnMs)}); module load alone ${summary.moduleLoadMs} ms`,
    );
    const fn = colds[colds.length - 1].fn;
    const rss: Record<string, number> = {start: rssOf(fn.pid) ?? NaN};
    let peak = 0;
    // High-water marks of two windows (alerts answered): around 5,000 and
    // the last 10 %. A single reading may fall in a GC's dip (session 4:
    // 176 MiB at 5,000 between readings of 180-190): the growth of the
    // windows' peaks says whether memory grows, not where a GC happened.
    const windows = {
      at5000: {from: 4000, to: 6000, peak: 0},
      end: {from: Math.floor(MEM * 0.9), to: MEM, peak: 0},
    };
    let answered = 0;
    const sampler = setInterval(() => {
      const now = rssOf(fn.pid) ?? 0;
      peak = Math.max(peak, now);
      for (const w of Object.values(windows)) {
        if (answered >= w.from && answered < w.to)
          w.peak = Math.max(w.peak, now);
      }
    }, 250);
    const r = await postAll(
      `${fn.url}`,
      MEM - 1,
      i => {
        const k = i + 1;
        const sub = `bench-e${Math.floor(k / N)}`;
        return pushEnvelope(packets[k % N], `e${k}`, sub, project);
      },
      DIRECT_CONCURRENCY,
      done => {
        answered = done + 1;
        if (done + 1 === 5000) rss.at5000 = rssOf(fn.pid) ?? NaN;
        if (done % 2500 === 0)
          say(
            `   ${done + 1} alerts, RSS ${round((rssOf(fn.pid) ?? 0) / MiB)} MiB, ${heapNow()}`,
          );
      },
    );
    clearInterval(sampler);
    rss.end = rssOf(fn.pid) ?? NaN;
    await new Promise(r => setTimeout(r, 1100));
    say(`   at the end: ${heapNow()}`);
    const spaces = heap.spaces as unknown as Record<string, [number, number]>;
    say(
      '   V8 spaces (committed/used MiB): ' +
        Object.entries(spaces ?? {})
          .filter(([, [size]]) => size > MiB / 2)
          .map(
            ([k, [size, used]]) =>
              `${k} ${round(size / MiB)}/${round(used / MiB)}`,
          )
          .join(', '),
    );
    summary.heapUsedMiBEnd = round(heap.heapUsed / MiB, 1);
    summary.externalMiBEnd = round(heap.external / MiB, 1);
    const ok = r.statuses[204] ?? 0;
    const growth = rss.end / rss.at5000 - 1;
    const windowGrowth = windows.end.peak / windows.at5000.peak - 1;
    say(
      `E: ${MEM} alerts (${ok + 1} answered 204) at ${round(((MEM - 1) / r.ms) * 1000)}/s; RSS ${round(rss.start / MiB)} MiB after the first, ${round(rss.at5000 / MiB)} MiB at 5,000, ${round(rss.end / MiB)} MiB at ${MEM} (peak ${round(peak / MiB)}), growth ${round(growth * 100, 1)}%; ` +
        `high-water marks ${round(windows.at5000.peak / MiB)} MiB (alerts ${windows.at5000.from}-${windows.at5000.to}) → ${round(windows.end.peak / MiB)} MiB (${windows.end.from}-${windows.end.to}), growth ${round(windowGrowth * 100, 1)}%`,
    );
    if (ok !== MEM - 1) throw new Error('E: not every request got 204');
    rows.push({
      what: 'E: cold start, module load → first stored alert',
      latencyMs: fromModuleLoad,
      note: `median of ${COLD_STARTS} (${span(c => c.fromModuleLoadMs)}); the target`,
    });
    rows.push({
      what: 'E: cold start, spawn → first stored alert',
      latencyMs: coldMs,
      note: `median (${span(c => c.spawnMs)}); with Node's own start (${round(nodeBoot)} ms)`,
    });
    rows.push({
      what: 'E: module load (functions framework + ours)',
      latencyMs: Number(summary.moduleLoadMs),
    });
    rows.push({
      what: `E: ${MEM} alerts, 32 in flight`,
      rate: ((MEM - 1) / r.ms) * 1000,
      note: `RSS ${round(rss.at5000 / MiB)} → ${round(rss.end / MiB)} MiB (peak ${round(peak / MiB)})`,
    });
    summary.coldStartMs = round(coldMs);
    summary.rssMiB5000 = round(rss.at5000 / MiB, 1);
    summary.rssMiBEnd = round(rss.end / MiB, 1);
    summary.rssPeakMiB = round(peak / MiB, 1);
    summary.rssGrowth = round(growth, 3);
    summary.rssPeakMiB5000Window = round(windows.at5000.peak / MiB, 1);
    summary.rssPeakMiBEndWindow = round(windows.end.peak / MiB, 1);
    summary.rssGrowthPeaks = round(windowGrowth, 3);
    await stopFunction(fn, 'memory');
  }

  await Promise.allSettled([pitt.close(), user.close(), db?.terminate()]);
  await Promise.allSettled([pubsubEmu.stop(), firestoreEmu?.stop()]);

  // -- report ---------------------------------------------------------------
  // Instances per 1,000 alerts/s: as measured here (bounded by the emulated
  // Firestore), and by the function's own CPU (one vCPU per instance).
  const direct = Number(summary.directPerSec32);
  if (Number.isFinite(direct) && direct > 0) {
    summary.instancesPer1000 = round(1000 / direct, 1);
  }
  const cpu = Number(summary.functionCpuMsPerAlert);
  if (Number.isFinite(cpu) && cpu > 0) {
    summary.instancesPer1000ByCpu = round(cpu, 1); // 1000/s × cpu ms = cpu vCPUs
  }
  summary.loadAvgEnd = load()[0];
  summary.seconds = round((performance.now() - started) / 1000);
  console.log('');
  console.log('| measurement | per s | latency ms | note |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) {
    console.log(
      `| ${r.what} | ${r.rate === undefined ? '' : round(r.rate)} | ${r.latencyMs === undefined ? '' : round(r.latencyMs, 2)} | ${r.note ?? ''} |`,
    );
  }
  console.log('');
  const ratios = [
    ['push: function / ceiling', summary.pushRatio, '≥ 0.8'],
    ['push: function / realized push path', summary.pushRatioRealized, ''],
    ['direct: function / Firestore at 32', summary.directRatio, '≥ 0.8'],
    [
      'direct: bare pipeline (no framework) / Firestore at 32',
      summary.bareDirectRatio,
      '',
    ],
    ['RSS at the end (MiB)', summary.rssMiBEnd, '≤ 256'],
    ['RSS growth 5,000 → end', summary.rssGrowth, '≤ 0.10'],
    [
      'RSS growth 5,000 → end, high-water marks of the two windows',
      summary.rssGrowthPeaks,
      '≤ 0.10',
    ],
    [
      'cold start, module load → first stored alert (ms)',
      summary.coldStartFromModuleLoadMs,
      '< 1000',
    ],
    ['cold start, spawn → first stored alert (ms)', summary.coldStartMs, ''],
  ];
  for (const [what, v, target] of ratios) {
    if (v !== undefined) {
      console.log(`${what}: ${v}${target ? ` (target ${target})` : ''}`);
    }
  }
  console.log(
    `load average: ${summary.loadAvgStart} at start, ${summary.loadAvgEnd} at end`,
  );
  console.log(JSON.stringify(summary));
}

/** ms to require the functions framework and our entry module in a fresh Node. */
function moduleLoadMs(): number {
  const script = `
    const t0 = performance.now();
    require(${JSON.stringify(require.resolve('@google-cloud/functions-framework', {paths: [ROOT]}))});
    require(${JSON.stringify(path.join(ROOT, 'build', 'src', 'functions', 'index.js'))});
    process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {PATH: process.env.PATH, HOME: process.env.HOME},
  });
  return round(Number(out), 1);
}

main().then(
  () => process.exit(0),
  e => {
    console.error(e);
    process.exit(1);
  },
);
