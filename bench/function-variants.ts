/**
 * `npm run bench:variants`: the ingest function as deployed against variants
 * of its V8 heap settings, side by side on one Firestore emulator.
 *
 * A single run of bench:push moves ±10-25 % with this shared machine's load,
 * more than the settings change; here every variant is its own function
 * process (under the instance's memory, as deployed) and they take turns:
 * ROUNDS rounds of ALERTS alerts each, the order reversed every other round,
 * at two loads: 2 requests in flight on a new connection each (as the
 * Pub/Sub emulator's push, bench:push C) and 32 on kept-alive connections
 * (bench:push D). Per variant and load: the function's CPU per alert
 * (median of the rounds), its rate, full GCs per 1,000 alerts (counted from
 * `--trace-gc`), each as a ratio to the deployed configuration; and the
 * resident memory at the end. Every round writes to a subscription of its
 * own, so every alert is a real create.
 *
 * Env: BENCH_VARIANT_ALERTS (per round, default 300), BENCH_VARIANT_ROUNDS
 * (default 6). Last line: a JSON summary.
 */

import {loadavg} from 'node:os';

import {Firestore} from '@google-cloud/firestore';

import {loadConfig} from '../src/config';
import {INGEST_NODE_OPTIONS} from '../src/deploy/config';
import {validateFilter} from '../src/filter';
import {HEAP_GROWING_PERCENT} from '../src/functions/heap-tuning';
import {startFirestoreEmulator} from '../src/local/emulators';
import {
  FunctionServer,
  startFunctionServer,
} from '../src/local/function-server';
import {createSubscriptionStore} from '../src/store/subscription-store';
import {generateZtfPacket} from '../src/local/generate';
import {firestoreEmulatorSettings} from '../test/helpers/emulator-fixture';
import {
  MiB,
  cpuMsOf,
  median,
  postAll,
  pushEnvelope,
  round,
  rssOf,
} from './lib/push-tools';

const ALERTS = Number(process.env.BENCH_VARIANT_ALERTS ?? 300);
const ROUNDS = Math.max(2, Number(process.env.BENCH_VARIANT_ROUNDS ?? 6));
const WARM_REQUESTS = 500;
const PACKETS = 1000;
const MEMORY_LIMIT_MIB = 512;

interface Variant {
  name: string;
  /** NODE_OPTIONS of the function process. */
  nodeOptions: string;
  /** Command-line flags (a growing factor here overrides the one set in code). */
  execArgv: string[];
}

const VARIANTS: Variant[] = [
  {
    name: `deployed (${INGEST_NODE_OPTIONS}, growing factor ${1 + HEAP_GROWING_PERCENT / 100})`,
    nodeOptions: INGEST_NODE_OPTIONS,
    execArgv: [],
  },
  {
    name: "16 MiB semi-spaces, V8's own growing factor (session 3)",
    nodeOptions: '--max-semi-space-size=16',
    execArgv: ['--heap-growing-percent=0'],
  },
  {
    name: '8 MiB semi-spaces, growing factor 2.5',
    nodeOptions: '--max-semi-space-size=8',
    execArgv: ['--heap-growing-percent=150'],
  },
  {
    name: '16 MiB semi-spaces, growing factor 2',
    nodeOptions: '--max-semi-space-size=16',
    execArgv: ['--heap-growing-percent=100'],
  },
  {
    name: '16 MiB semi-spaces, growing factor 2.5',
    nodeOptions: '--max-semi-space-size=16',
    execArgv: ['--heap-growing-percent=150'],
  },
];

const LOADS = [
  {
    name: '2 in flight, a connection each (as push)',
    inFlight: 2,
    keepAlive: false,
  },
  {name: '32 in flight, kept alive (as D)', inFlight: 32, keepAlive: true},
];

/** Passes every generated alert. */
const FILTER = {field: 'candidate.jd', op: 'gt', value: 2400000};

const say = (s: string) => process.stderr.write(`${s}\n`);

async function main() {
  const started = performance.now();
  const load0 = round(loadavg()[0], 1);
  const project = `variants-${Date.now().toString(36)}`;
  const config = loadConfig({});
  const packets = Array.from(
    {length: PACKETS},
    (_, i) => generateZtfPacket({seed: i + 1}).bytes,
  );
  const emulator = await startFirestoreEmulator({javaHeap: '4g'});
  const db = new Firestore(firestoreEmulatorSettings(emulator.host, project));
  const subscriptions = createSubscriptionStore(db, config);
  // One subscription per variant, load and round (and one for the warm-up):
  // the same packets are created again under another subscription.
  const names = ['variants-warm'];
  for (let v = 0; v < VARIANTS.length; v++)
    for (let l = 0; l < LOADS.length; l++)
      for (let r = 0; r < ROUNDS; r++) names.push(`variants-${v}-${l}-${r}`);
  for (const name of names) {
    await subscriptions.put({
      name,
      topic: 'projects/ardent-cycling-243415/topics/ztf-loop',
      filter: validateFilter(FILTER),
      serverFilter: '',
      settings: {},
    });
  }

  const fullGcs = VARIANTS.map(() => 0);
  let counting = false;
  const functions: FunctionServer[] = [];
  try {
    for (const [v, variant] of VARIANTS.entries()) {
      functions.push(
        await startFunctionServer({
          target: 'ingest',
          env: {
            FIRESTORE_EMULATOR_HOST: emulator.host,
            GOOGLE_CLOUD_PROJECT: project,
            NODE_OPTIONS: variant.nodeOptions,
          },
          execArgv: ['--trace-gc', ...variant.execArgv],
          memoryLimitMiB: MEMORY_LIMIT_MIB,
          onOutput: line => {
            if (counting && line.includes('Mark-Compact')) fullGcs[v]++;
          },
        }),
      );
    }
    // Warm every process (its JIT) and the emulator behind them.
    for (const fn of functions) {
      await postAll(
        `${fn.url}?subscription=variants-warm`,
        WARM_REQUESTS,
        i =>
          pushEnvelope(packets[i % PACKETS], `w${i}`, 'variants-warm', project),
        32,
      );
    }
    say(
      `${VARIANTS.length} function processes warmed (${WARM_REQUESTS} requests each); ${ROUNDS} rounds of ${ALERTS} alerts per variant and load`,
    );

    const results = LOADS.map(() =>
      VARIANTS.map(() => ({
        cpu: [] as number[],
        rate: [] as number[],
        fullGcs: 0,
      })),
    );
    let next = 0;
    for (const [l, load] of LOADS.entries()) {
      for (let r = 0; r < ROUNDS; r++) {
        const order = VARIANTS.map((_, v) => v);
        if (r % 2) order.reverse();
        for (const v of order) {
          const fn = functions[v];
          const sub = `variants-${v}-${l}-${r}`;
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
          const gcs = fullGcs[v];
          counting = true;
          const cpu0 = cpuMsOf(fn.pid);
          const out = await postAll(
            `${fn.url}?subscription=${sub}`,
            ALERTS,
            i => bodies[i],
            load.inFlight,
            undefined,
            load.keepAlive,
          );
          const cpu = cpuMsOf(fn.pid) - cpu0;
          counting = false;
          if (out.statuses[204] !== ALERTS) {
            throw new Error(
              `${VARIANTS[v].name}: answers ${JSON.stringify(out.statuses)}`,
            );
          }
          const res = results[l][v];
          res.cpu.push(cpu / ALERTS);
          res.rate.push((ALERTS / out.ms) * 1000);
          res.fullGcs += fullGcs[v] - gcs;
        }
      }
    }

    const rss = functions.map(fn => (rssOf(fn.pid) ?? NaN) / MiB);
    const rows: string[] = [
      '| load | variant | CPU per alert (ms) | ratio | alerts/s | ratio | full GCs per 1,000 alerts | RSS at the end (MiB) |',
      '|---|---|---:|---:|---:|---:|---:|---:|',
    ];
    const summary: Record<string, unknown> = {
      bench: 'variants',
      loadAvgStart: load0,
      alertsPerRound: ALERTS,
      rounds: ROUNDS,
    };
    const perLoad: unknown[] = [];
    for (const [l, load] of LOADS.entries()) {
      const base = results[l][0];
      const baseCpu = median(base.cpu);
      const baseRate = median(base.rate);
      const variants: unknown[] = [];
      for (const [v, variant] of VARIANTS.entries()) {
        const res = results[l][v];
        const cpu = median(res.cpu);
        const rate = median(res.rate);
        const gcsPer1000 = (res.fullGcs / (ROUNDS * ALERTS)) * 1000;
        rows.push(
          `| ${load.name} | ${variant.name} | ${round(cpu, 2)} | ${round(cpu / baseCpu, 2)} | ${round(rate)} | ${round(rate / baseRate, 2)} | ${round(gcsPer1000, 1)} | ${round(rss[v])} |`,
        );
        variants.push({
          variant: variant.name,
          cpuMsPerAlert: round(cpu, 2),
          cpuRatio: round(cpu / baseCpu, 3),
          perSec: round(rate),
          rateRatio: round(rate / baseRate, 3),
          fullGcsPer1000: round(gcsPer1000, 1),
          cpuRounds: res.cpu.map(x => round(x, 2)),
        });
      }
      perLoad.push({load: load.name, variants});
    }
    summary.loads = perLoad;
    summary.rssMiBEnd = rss.map(x => round(x));
    summary.loadAvgEnd = round(loadavg()[0], 1);
    summary.seconds = round((performance.now() - started) / 1000);
    process.stdout.write(`\n${rows.join('\n')}\n\n`);
    process.stdout.write(
      `ratios: to the deployed configuration in the same run (CPU: lower is better)\nload average: ${load0} at start, ${summary.loadAvgEnd} at end\n`,
    );
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    for (const fn of functions) await fn.stop(0).catch(() => undefined);
    await db.terminate();
    await emulator.stop();
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
