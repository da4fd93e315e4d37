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
 * - F: the function's own CPU per stored and per rejected alert against
 *      floors measured on the same kind of process (bench/push/phase-f.ts):
 *      the targets; instances per 1,000 alerts/s by pass fraction.
 *
 * Env: BENCH_MESSAGES (N, default 2000), BENCH_MEMORY_ALERTS (default
 * 20000), BENCH_COLD_STARTS (5), BENCH_PHASES (default ABCDEF), BENCH_CPU_PROF=DIR (profile every
 * function process with --cpu-prof into DIR and print a summary).
 * Last line: a JSON summary. One module per phase in bench/push/.
 */
import type {PubSub} from '@google-cloud/pubsub';

import {startPubSubEmulator} from '../src/local/emulators';
import {pubsubForEmulator} from '../test/helpers/emulator-fixture';
import {round} from './lib/push-tools';
import {phaseA, phaseAB} from './push/phase-a';
import {phaseB} from './push/phase-b';
import {phaseC} from './push/phase-c';
import {phaseD} from './push/phase-d';
import {phaseE} from './push/phase-e';
import {phaseF} from './push/phase-f';
import {report} from './push/report';
import {
  db,
  firestoreEmu,
  freshFirestore,
  generate,
  load,
  N,
  PHASES,
  PITT,
  project,
  say,
  summary,
} from './push/setup';

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
  const run = {pubsubEmu, user, topic};

  let noopRate = NaN;
  let noopInFlight = 2;
  let create2: Awaited<ReturnType<typeof phaseB>> | undefined;
  // A: the emulator's push ceiling.
  if (PHASES.has('A')) ({noopRate, noopInFlight} = await phaseA(run));
  // B: bare Firestore creates.
  if (PHASES.has('B')) create2 = await phaseB();
  // A+B: the push path realized.
  let realized = NaN;
  if (PHASES.has('A') && PHASES.has('B')) {
    realized = await phaseAB(run, noopInFlight);
  }
  // C: the function behind the emulator push.
  if (PHASES.has('C')) {
    await phaseC(run, {noopRate, noopInFlight, create2, realized});
  }
  // B32 + D (+ D0): direct at 32 in flight.
  if (PHASES.has('D')) await phaseD();
  // E: cold start and memory.
  if (PHASES.has('E')) await phaseE();
  // F: the function's CPU per stored and per rejected alert against floors.
  if (PHASES.has('F')) await phaseF();

  await Promise.allSettled([pitt.close(), user.close(), db?.terminate()]);
  await Promise.allSettled([pubsubEmu.stop(), firestoreEmu?.stop()]);
  report(started);
}

main().then(
  () => process.exit(0),
  e => {
    console.error(e);
    process.exit(1);
  },
);
