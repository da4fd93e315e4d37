/**
 * `npm run bench:filter`: evaluations per second of a realistic stored filter
 * (9 leaves, a cone among them) on normalized, real-size ZTF alerts, and its cost
 * relative to decoding the same alerts, measured in the same run.
 * Target: filtering costs under 5% of decoding.
 *
 * The alerts are generated (src/local/generate: ZTF 4.02-like packets of ~65 KB
 * with cutouts) and decoded with the project's decoder. Two filters are
 * timed: the realistic one (short-circuits like production does) and a
 * "full" one whose every leaf holds for every alert, so that every leaf is
 * evaluated every time (the worst case). Last line: a JSON summary.
 *
 * Options (env): BENCH_ALERTS (default 400), BENCH_SECONDS (default 1 per
 * measurement).
 */

import {createDecoder} from '../src/alert';
import type {Alert} from '../src/alert/model';
import {compileFilter, validateFilter} from '../src/filter';
import {generateZtfPacket} from '../src/local/generate';

const N = Number(process.env.BENCH_ALERTS ?? 400);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

const REALISTIC = {
  all: [
    {field: 'candidate.rb', op: 'gte', value: 0.3},
    {field: 'candidate.isdiffpos', op: 'in', value: ['t', '1']},
    {field: 'mag', op: 'between', value: [12, 20.5]},
    {field: 'nPrevious', op: 'gte', value: 1},
    {
      any: [
        {field: 'classtar', op: 'lt', value: 0.9},
        {field: 'classtar', op: 'isNull'},
      ],
    },
    {not: {field: 'candidate.ssdistnr', op: 'between', value: [0, 12]}},
    {field: 'candidate.drb', op: 'gte', value: 0.2},
    {not: {cone: {ra: 10.68, dec: 41.27, radiusArcsec: 7200}}},
  ],
};

/** Every leaf holds for every alert (checked below): no short-circuit. */
const FULL = {
  all: [
    {field: 'candidate.jd', op: 'gt', value: 2400000},
    {field: 'candidate.isdiffpos', op: 'exists'},
    {field: 'mag', op: 'between', value: [-100, 100]},
    {field: 'nPrevious', op: 'gte', value: 0},
    {field: 'ra', op: 'lte', value: 360},
    {field: 'dec', op: 'gte', value: -90},
    {field: 'candidate.fid', op: 'in', value: [1, 2, 3]},
    {field: 'sourceId', op: 'ne', value: '0'},
    {not: {cone: {ra: 0, dec: 0, radiusArcsec: 0.001}}},
  ],
};

function leaves(f: unknown): number {
  if (f === null || typeof f !== 'object') return 0;
  const o = f as Record<string, unknown>;
  if ('field' in o || 'cone' in o) return 1;
  if ('not' in o) return leaves(o.not);
  return ((o.all ?? o.any) as unknown[]).reduce<number>(
    (n, c) => n + leaves(c),
    0,
  );
}

/** Runs `round` until SECONDS have passed; returns ns per item. */
function time(itemsPerRound: number, round: () => void): number {
  for (let i = 0; i < 3; i++) round(); // warm-up
  let rounds = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  do {
    round();
    rounds++;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return Number(elapsed) / (rounds * itemsPerRound);
}

function main(): void {
  const packets: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    packets.push(generateZtfPacket({seed: 1000 + i}).bytes);
  }
  const bytes = packets.reduce((n, p) => n + p.length, 0);
  const decoder = createDecoder();
  const decodeAll = (): Alert[] => {
    const out: Alert[] = [];
    for (const p of packets) {
      const a = decoder.tryDecodeSync(p);
      if (!a) throw new Error('decoder needed a schema fetch');
      for (const x of a) out.push(x);
    }
    return out;
  };
  const alerts = decodeAll();
  const nsDecode = time(alerts.length, decodeAll);

  const results: Record<string, {ns: number; passed: number}> = {};
  for (const [name, json] of [
    ['realistic', REALISTIC],
    ['full', FULL],
  ] as const) {
    const f = compileFilter(validateFilter(json));
    let passed = 0;
    for (const a of alerts) if (f.matches(a)) passed++;
    if (name === 'full' && passed !== alerts.length) {
      throw new Error(`the "full" filter must pass every alert (${passed})`);
    }
    let sink = 0;
    const ns = time(alerts.length, () => {
      for (let i = 0; i < alerts.length; i++) {
        if (f.matches(alerts[i])) sink++;
      }
    });
    if (sink < 0) console.log(sink);
    results[name] = {ns, passed};
  }
  const r = results.realistic;
  const full = results.full;
  const pct = (ns: number) => (100 * ns) / nsDecode;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `alerts: ${alerts.length} (${(bytes / alerts.length / 1024).toFixed(1)} KB per packet)`,
  );
  console.log(
    `decode: ${fmt(1e9 / nsDecode)} alerts/s (${(nsDecode / 1000).toFixed(1)} us per alert)`,
  );
  console.log(
    `filter (realistic, ${leaves(REALISTIC)} leaves, selectivity ${((100 * r.passed) / alerts.length).toFixed(1)}%): ` +
      `${fmt(1e9 / r.ns)} evaluations/s (${r.ns.toFixed(0)} ns), ${pct(r.ns).toFixed(3)}% of decode`,
  );
  console.log(
    `filter (full, ${leaves(FULL)} leaves all evaluated): ${fmt(1e9 / full.ns)} evaluations/s ` +
      `(${full.ns.toFixed(0)} ns), ${pct(full.ns).toFixed(3)}% of decode`,
  );
  const ok = pct(r.ns) < 5 && pct(full.ns) < 5;
  console.log(
    JSON.stringify({
      bench: 'filter',
      alerts: alerts.length,
      packetBytes: Math.round(bytes / alerts.length),
      leaves: leaves(REALISTIC),
      selectivity: r.passed / alerts.length,
      evalsPerSec: Math.round(1e9 / r.ns),
      nsPerEval: Math.round(r.ns),
      fullLeaves: leaves(FULL),
      fullEvalsPerSec: Math.round(1e9 / full.ns),
      decodePerSec: Math.round(1e9 / nsDecode),
      nsPerDecode: Math.round(nsDecode),
      pctOfDecode: Number(pct(r.ns).toFixed(4)),
      fullPctOfDecode: Number(pct(full.ns).toFixed(4)),
      targetPct: 5,
      ok,
    }),
  );
  if (!ok) process.exitCode = 1;
}

main();
