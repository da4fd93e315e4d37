/**
 * bench:push phase F: the function's own CPU per alert against its floors,
 * measured in the same run on the same kind of process (the functions
 * framework's CLI, the deployed memory bound and V8 flags, 32 requests in
 * flight kept alive), in interleaved rounds (the order reversed every other
 * round) on one fresh Firestore emulator; CPU of each server process from
 * /proc over its own stretches.
 *
 * - FS: the function storing every alert (a filter on candidate fields that
 *   passes all) against LS, the stored-alert floor (bench/lib/floor.ts:
 *   body, base64, bare avsc decode, the bare client's WriteBatch of the
 *   prebuilt document in the coalescer's shape), and LB, the same floor on
 *   a bare node:http server (what the framework costs).
 *   Target: LS CPU / FS CPU ≥ 0.8.
 * - FR, FA: the function rejecting every alert by a filter on a candidate
 *   field, and by one on a message attribute, against LR, the rejected-alert
 *   floor (body, base64). Target: FR (and FA) CPU / LR CPU ≤ 1.25.
 * - Instances per 1,000 alerts/s by CPU (one vCPU each) at pass fractions
 *   100 %, 10 % and 1 %, from the function's CPU per stored and per rejected
 *   alert.
 */

import {cpus} from 'node:os';
import * as path from 'node:path';

import {validateFilter} from '../../src/filter';
import {generateZtfPacket} from '../../src/local/generate';
import type {FunctionServer} from '../../src/local/function-server';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {mean, postAll, pushEnvelope, round} from '../lib/push-tools';
import {startFunction, stopFunction, warmFunction} from './function-process';
import {
  alerts,
  config,
  cpuMeter,
  db,
  DIRECT_CONCURRENCY,
  FILTER,
  freshFirestore,
  N,
  packets,
  project,
  rows,
  say,
  summary,
  TOPIC,
  WARM_REQUESTS,
} from './setup';

/**
 * Rounds (BENCH_F_ROUNDS, default 4); each posts all N alerts to every path,
 * a stored path to a subscription of the round's own (`bench-fs-k`; the
 * floors write the k-th post of an alert to `bench-fl-k`), so every write
 * is a new document.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_F_ROUNDS ?? 4));
/** Alerts per path over the rounds. */
const TOTAL = N * ROUNDS;
/** Rejects every generated alert on a candidate-level field. */
const REJECT_CANDIDATE = {field: 'candidate.magpsf', op: 'lt', value: -100};
/** Rejects every message by an attribute (the ones posted carry fid 1 or 2). */
const REJECT_ATTRIBUTE = {field: 'attributes.fid', op: 'eq', value: '3'};

interface Path {
  key: 'FS' | 'FR' | 'FA' | 'LS' | 'LB' | 'LR';
  what: string;
  subscription: string;
  server?: FunctionServer;
  /** Stretches' sums. */
  ms: number;
  cpu: number;
  latencies: number[];
  statuses: Record<number, number>;
}

const path_ = (key: Path['key'], what: string, subscription: string): Path => ({
  key,
  what,
  subscription,
  ms: 0,
  cpu: 0,
  latencies: [],
  statuses: {},
});

const attributesOf = (i: number) => ({
  objectId: alerts[i].objectId,
  candid: alerts[i].sourceId,
  fid: i % 2 ? '2' : '1',
});

export async function phaseF() {
  await freshFirestore();
  const subs = createSubscriptionStore(db!, config);
  const filters: [string, unknown][] = [
    ...Array.from({length: ROUNDS}, (_, k): [string, unknown] => [
      `bench-fs-${k}`,
      FILTER,
    ]),
    ['bench-fr', REJECT_CANDIDATE],
    ['bench-fa', REJECT_ATTRIBUTE],
  ];
  for (const [name, filter] of filters) {
    await subs.put({
      name,
      topic: TOPIC,
      filter: validateFilter(filter),
      serverFilter: '',
      settings: {},
    });
  }
  const paths = [
    path_('FS', 'F: function, every alert stored', 'bench-fs'),
    path_('LS', 'F: stored-alert floor (framework)', 'bench-fl'),
    path_('LB', 'F: stored-alert floor (bare node:http)', 'bench-flb'),
    path_('FR', 'F: function, rejected by a candidate field', 'bench-fr'),
    path_('FA', 'F: function, rejected by an attribute', 'bench-fa'),
    path_('LR', 'F: rejected-alert floor (framework)', 'bench-flr'),
  ];
  const byKey = Object.fromEntries(paths.map(p => [p.key, p])) as Record<
    Path['key'],
    Path
  >;

  // The servers: one function process for FS, FR and FA (one instance
  // serving them all), one process per floor.
  const floorSource = path.join(__dirname, '..', 'lib', 'floor-function.js');
  const floorEnv = (subscription: string) => ({
    FLOOR_N: String(N + WARM_REQUESTS),
    FLOOR_SUBSCRIPTION: subscription,
    FLOOR_ROUNDS: String(ROUNDS),
  });
  const fn = await startFunction('floor-fn');
  await warmFunction(fn, DIRECT_CONCURRENCY);
  byKey.FS.server = byKey.FR.server = byKey.FA.server = fn;
  byKey.LS.server = await startFunction(
    'floor-ls',
    undefined,
    undefined,
    false,
    undefined,
    {
      source: floorSource,
      target: 'floorStored',
      env: floorEnv('bench-fl'),
    },
  );
  byKey.LB.server = await startFunction(
    'floor-lb',
    undefined,
    undefined,
    false,
    path.join(__dirname, '..', 'lib', 'floor-bare.js'),
    {env: floorEnv('bench-flb')},
  );
  byKey.LR.server = await startFunction(
    'floor-lr',
    undefined,
    undefined,
    false,
    undefined,
    {
      source: floorSource,
      target: 'floorRejected',
    },
  );
  // Warm-up of the floors with packets of their own (seeds after the N the
  // rounds post, so that their documents are new).
  const warm = Array.from(
    {length: WARM_REQUESTS},
    (_, i) => generateZtfPacket({seed: N + 1 + i}).bytes,
  );
  for (const p of [byKey.LS, byKey.LB, byKey.LR]) {
    const r = await postAll(
      `${p.server!.url}?subscription=${p.subscription}`,
      WARM_REQUESTS,
      i => pushEnvelope(warm[i], `fw${i}`, p.subscription, project),
      DIRECT_CONCURRENCY,
    );
    if ((r.statuses[204] ?? 0) !== WARM_REQUESTS) {
      throw new Error(`F: ${p.key} warm-up: ${JSON.stringify(r.statuses)}`);
    }
  }

  for (let k = 0; k < ROUNDS; k++) {
    const order = k % 2 ? [...paths].reverse() : paths;
    for (const p of order) {
      const subscription =
        p.key === 'FS' ? `${p.subscription}-${k}` : p.subscription;
      // Bodies built before the stretch (the sender shares the machine).
      const bodies = Array.from({length: N}, (_, i) =>
        pushEnvelope(
          packets[i],
          `${p.key}-${k}-${i}`,
          subscription,
          project,
          attributesOf(i),
        ),
      );
      const cpu = cpuMeter(p.server!.pid);
      const r = await postAll(
        `${p.server!.url}?subscription=${subscription}`,
        N,
        i => bodies[i],
        DIRECT_CONCURRENCY,
      );
      p.cpu += cpu.perAlert(1).fn;
      p.ms += r.ms;
      p.latencies.push(...r.latencies);
      for (const [s, n] of Object.entries(r.statuses)) {
        p.statuses[Number(s)] = (p.statuses[Number(s)] ?? 0) + n;
      }
    }
  }

  const perAlert = (p: Path) => p.cpu / TOTAL;
  for (const p of paths) {
    if ((p.statuses[204] ?? 0) !== TOTAL) {
      throw new Error(
        `F: ${p.key}: not every request got 204: ${JSON.stringify(p.statuses)}`,
      );
    }
    say(
      `${p.what}: CPU ${round(perAlert(p), 3)} ms per alert, ${round((TOTAL / p.ms) * 1000)} alerts/s, latency mean ${round(mean(p.latencies), 1)} ms`,
    );
    rows.push({
      what: p.what,
      rate: (TOTAL / p.ms) * 1000,
      latencyMs: mean(p.latencies),
      note: `server CPU ${round(perAlert(p), 3)} ms/alert; ${ROUNDS} interleaved rounds of ${N}, ${DIRECT_CONCURRENCY} in flight`,
    });
  }
  const stored = perAlert(byKey.FS);
  const rejected = perAlert(byKey.FR);
  summary.cpuMsPerAlertF = Object.fromEntries(
    paths.map(p => [p.key, round(perAlert(p), 3)]),
  );
  summary.cpuMsPerStoredAlert = round(stored, 3);
  summary.cpuMsPerRejectedAlert = round(rejected, 3);
  summary.cpuMsPerRejectedAlertByAttribute = round(perAlert(byKey.FA), 3);
  summary.storedFloorRatio = round(perAlert(byKey.LS) / stored, 3);
  summary.storedFloorRatioNoFramework = round(perAlert(byKey.LB) / stored, 3);
  summary.frameworkCpuMsPerStoredAlert = round(
    perAlert(byKey.LS) - perAlert(byKey.LB),
    3,
  );
  summary.rejectedFloorRatio = round(rejected / perAlert(byKey.LR), 3);
  summary.rejectedFloorRatioByAttribute = round(
    perAlert(byKey.FA) / perAlert(byKey.LR),
    3,
  );
  // 1,000 alerts/s × CPU ms per alert / 1,000 = vCPUs busy.
  summary.instancesPer1000ByCpu = Object.fromEntries(
    [1, 0.1, 0.01].map(f => [
      String(f),
      round(f * stored + (1 - f) * rejected, 2),
    ]),
  );
  say(
    `F: stored floor / function ${summary.storedFloorRatio} (target ≥ 0.8; without the framework ${summary.storedFloorRatioNoFramework}); function / rejected floor ${summary.rejectedFloorRatio} by a candidate field, ${summary.rejectedFloorRatioByAttribute} by an attribute (target ≤ 1.25); ` +
      `instances per 1,000 alerts/s by CPU ${JSON.stringify(summary.instancesPer1000ByCpu)} (${cpus().length} cores here)`,
  );
  for (const p of [fn, byKey.LS.server!, byKey.LB.server!, byKey.LR.server!]) {
    await stopFunction(p, 'floor');
  }
}
