/**
 * `npm run bench:cutouts`: what one extra (cutouts) document per alert
 * costs. Three ingest function processes as deployed (the real functions
 * framework, the instance's 512 MiB, the deployed NODE_OPTIONS) that differ
 * only in CUTOUTS — `drop` (the baseline: one small document per alert),
 * `separate` (the default: the alert plus a cutouts document, one commit) and
 * `inline` (one document with the stamps) — take turns on one Firestore
 * emulator: ROUNDS rounds of ALERTS real-size ZTF alerts each at 32 requests
 * in flight on kept-alive connections (as bench:push D), the order reversed
 * every other round (this shared machine's load moves a single stretch by
 * ±10-25 %). A fourth load posts the same alerts to the `separate` process
 * under a stored filter that rejects them all: the CPU per rejected alert
 * (decode and filter, no write), which the capacity sheet needs.
 *
 * Per variant: the function's CPU per alert and the Firestore emulator's
 * (the write's server side; each stretch runs alone, so the emulator's CPU
 * in it is that variant's), the rate, and the billable Firestore writes and
 * stored bytes per alert (documents counted after the run; sizes by
 * Firestore's documented rules), each with its ratio to `drop`.
 *
 * Env: BENCH_CUTOUTS_ALERTS (per round, default 300), BENCH_CUTOUTS_ROUNDS
 * (default 4). Last line: a JSON summary.
 */

import {loadavg} from 'node:os';

import {Firestore} from '@google-cloud/firestore';

import {createDecoder} from '../src/alert';
import {loadConfig} from '../src/config';
import {INGEST_NODE_OPTIONS} from '../src/deploy/config';
import {validateFilter} from '../src/filter';
import {tomMapping} from '../src/ingest/firestore-ports';
import {startFirestoreEmulator} from '../src/local/emulators';
import {
  FunctionServer,
  startFunctionServer,
} from '../src/local/function-server';
import {toAlertDocument} from '../src/store/alert-document';
import type {CutoutsStorage} from '../src/store/layout';
import {createSubscriptionStore} from '../src/store/subscription-store';
import {generateZtfPacket} from '../src/local/generate';
import {firestoreEmulatorSettings} from '../test/helpers/emulator-fixture';
import {
  cpuMsOf,
  groupCpuMs,
  median,
  postAll,
  pushEnvelope,
  round,
} from './lib/push-tools';

const ALERTS = Number(process.env.BENCH_CUTOUTS_ALERTS ?? 300);
const ROUNDS = Math.max(2, Number(process.env.BENCH_CUTOUTS_ROUNDS ?? 4));
const WARM_REQUESTS = 400;
const PACKETS = 600;
const MEMORY_LIMIT_MIB = 512;
const IN_FLIGHT = 32;

const MODES: CutoutsStorage[] = ['drop', 'separate', 'inline'];
/** The loads: each mode storing, and the separate process rejecting. */
const LOADS = [
  ...MODES.map(m => ({name: `CUTOUTS=${m}, stored`, fn: m, pass: true})),
  {name: 'any mode, rejected by the filter', fn: 'separate', pass: false},
] as const;

const PASS = {field: 'candidate.jd', op: 'gt', value: 2400000};
const REJECT = {field: 'candidate.jd', op: 'lt', value: 0};

const say = (s: string) => process.stderr.write(`${s}\n`);

async function main() {
  const started = performance.now();
  const load0 = round(loadavg()[0], 1);
  const project = `cutouts-${Date.now().toString(36)}`;
  const config = loadConfig({});
  const packets = Array.from(
    {length: PACKETS},
    (_, i) => generateZtfPacket({seed: i + 1}).bytes,
  );
  // Stored bytes per alert and mode, by Firestore's size rules.
  const decoder = createDecoder({});
  const bytesPerAlert = Object.fromEntries(
    await Promise.all(
      MODES.map(async mode => {
        let sum = 0;
        for (const p of packets.slice(0, 100)) {
          const [a] = await decoder.decode(p);
          const d = toAlertDocument(
            a,
            {subscription: 'ztf-loop', attributes: {}},
            {cutouts: mode, tom: tomMapping},
          );
          sum += d.sizeBytes + (d.cutouts?.sizeBytes ?? 0);
        }
        return [mode, sum / 100];
      }),
    ),
  ) as Record<CutoutsStorage, number>;

  const emulator = await startFirestoreEmulator({javaHeap: '4g'});
  const db = new Firestore(firestoreEmulatorSettings(emulator.host, project));
  const subscriptions = createSubscriptionStore(db, config);
  const names: Array<[string, unknown]> = [['cutouts-warm', PASS]];
  for (let l = 0; l < LOADS.length; l++) {
    for (let r = 0; r < ROUNDS; r++) {
      names.push([`cutouts-${l}-${r}`, LOADS[l].pass ? PASS : REJECT]);
    }
  }
  for (const [name, filter] of names) {
    await subscriptions.put({
      name,
      topic: 'projects/ardent-cycling-243415/topics/ztf-loop',
      filter: validateFilter(filter),
      serverFilter: '',
      settings: {},
    });
  }

  const functions = new Map<string, FunctionServer>();
  try {
    for (const mode of MODES) {
      functions.set(
        mode,
        await startFunctionServer({
          target: 'ingest',
          env: {
            FIRESTORE_EMULATOR_HOST: emulator.host,
            GOOGLE_CLOUD_PROJECT: project,
            NODE_OPTIONS: INGEST_NODE_OPTIONS,
            CUTOUTS: mode,
          },
          memoryLimitMiB: MEMORY_LIMIT_MIB,
        }),
      );
    }
    // Warm every process (its JIT) and the emulator behind them.
    for (const fn of functions.values()) {
      await postAll(
        `${fn.url}?subscription=cutouts-warm`,
        WARM_REQUESTS,
        i =>
          pushEnvelope(packets[i % PACKETS], `w${i}`, 'cutouts-warm', project),
        IN_FLIGHT,
        undefined,
        true,
      );
    }
    say(
      `${MODES.length} function processes warmed (${WARM_REQUESTS} requests each); ${ROUNDS} rounds of ${ALERTS} alerts per load`,
    );

    const results = LOADS.map(() => ({
      cpu: [] as number[],
      emulatorCpu: [] as number[],
      rate: [] as number[],
    }));
    let next = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const order = LOADS.map((_, l) => l);
      if (r % 2) order.reverse();
      for (const l of order) {
        const fn = functions.get(LOADS[l].fn)!;
        const sub = `cutouts-${l}-${r}`;
        const first = next;
        next += ALERTS;
        const bodies = Array.from({length: ALERTS}, (_, i) =>
          pushEnvelope(
            packets[(first + i) % PACKETS],
            `m${first + i}`,
            sub,
            project,
          ),
        );
        const cpu0 = cpuMsOf(fn.pid);
        const emu0 = groupCpuMs(emulator.pid);
        const out = await postAll(
          `${fn.url}?subscription=${sub}`,
          ALERTS,
          i => bodies[i],
          IN_FLIGHT,
          undefined,
          true,
        );
        const cpu = cpuMsOf(fn.pid) - cpu0;
        const emu = groupCpuMs(emulator.pid) - emu0;
        if (out.statuses[204] !== ALERTS) {
          throw new Error(`${LOADS[l].name}: ${JSON.stringify(out.statuses)}`);
        }
        results[l].cpu.push(cpu / ALERTS);
        results[l].emulatorCpu.push(emu / ALERTS);
        results[l].rate.push((ALERTS / out.ms) * 1000);
      }
    }

    // Billable writes per stored alert: the documents that exist.
    const writes: number[] = [];
    for (let l = 0; l < LOADS.length; l++) {
      let docs = 0;
      for (let r = 0; r < ROUNDS; r++) {
        for (const c of [config.alertsCollection, config.cutoutsCollection]) {
          const n = await db
            .collection(
              `${config.subscriptionsCollection}/cutouts-${l}-${r}/${c}`,
            )
            .count()
            .get();
          docs += n.data().count;
        }
      }
      writes.push(docs / (ROUNDS * ALERTS));
    }

    const rows: string[] = [
      '| load | function CPU per alert (ms) | ratio | Firestore emulator CPU per alert (ms) | ratio | alerts/s | ratio | writes per alert | stored KB per alert |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    const base = results[0];
    const baseCpu = median(base.cpu);
    const baseEmu = median(base.emulatorCpu);
    const baseRate = median(base.rate);
    const perLoad = LOADS.map((load, l) => {
      const res = results[l];
      const cpu = median(res.cpu);
      const emu = median(res.emulatorCpu);
      const rate = median(res.rate);
      const kb = load.pass
        ? bytesPerAlert[load.fn as CutoutsStorage] / 1000
        : 0;
      rows.push(
        `| ${load.name} | ${round(cpu, 2)} | ${round(cpu / baseCpu, 2)} | ${round(emu, 2)} | ${round(emu / baseEmu, 2)} | ${round(rate)} | ${round(rate / baseRate, 2)} | ${round(writes[l], 2)} | ${round(kb, 1)} |`,
      );
      return {
        load: load.name,
        cpuMsPerAlert: round(cpu, 3),
        cpuRatio: round(cpu / baseCpu, 3),
        emulatorCpuMsPerAlert: round(emu, 3),
        emulatorCpuRatio: round(emu / baseEmu, 3),
        perSec: round(rate),
        rateRatio: round(rate / baseRate, 3),
        writesPerAlert: round(writes[l], 3),
        storedKBPerAlert: round(kb, 2),
        cpuRounds: res.cpu.map(x => round(x, 2)),
      };
    });
    const summary = {
      bench: 'cutouts',
      loadAvgStart: load0,
      alertsPerRound: ALERTS,
      rounds: ROUNDS,
      inFlight: IN_FLIGHT,
      loads: perLoad,
      cpuMsPerStoredAlertSeparate: perLoad[1].cpuMsPerAlert,
      cpuMsPerStoredAlertDrop: perLoad[0].cpuMsPerAlert,
      cpuMsPerRejectedAlert: perLoad[3].cpuMsPerAlert,
      separateExtraCpuMs: round(
        perLoad[1].cpuMsPerAlert - perLoad[0].cpuMsPerAlert,
        3,
      ),
      loadAvgEnd: round(loadavg()[0], 1),
      seconds: round((performance.now() - started) / 1000),
    };
    process.stdout.write(`\n${rows.join('\n')}\n\n`);
    process.stdout.write(
      `ratios: to CUTOUTS=drop in the same run (medians of ${ROUNDS} rounds)\nload average: ${load0} at start, ${summary.loadAvgEnd} at end\n`,
    );
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    for (const fn of functions.values())
      await fn.stop(0).catch(() => undefined);
    await db.terminate();
    await emulator.stop();
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
