/**
 * bench:push phase D: direct at 32 in flight. Interleaved: DIRECT_ROUNDS
 * rounds of N / DIRECT_ROUNDS creates (B32), as many alerts posted to the
 * function (D) and to the same pipeline on a bare node:http server (D0:
 * what the functions framework costs), the order reversed every other
 * round, on the same fresh emulator; each path's rate is its alerts over its
 * summed time. Measured back to back, the ratio moved by ±0.1 with the
 * machine's load between the stretches.
 */

import {cpus} from 'node:os';
import * as path from 'node:path';

import type {FunctionServer} from '../../src/local/function-server';
import {
  mean,
  percentile,
  postAll,
  pushEnvelope,
  round,
} from '../lib/push-tools';
import {
  logCollector,
  startFunction,
  stopFunction,
  warmFunction,
} from './function-process';
import {
  cpuMeter,
  creates,
  DIRECT_CONCURRENCY,
  DIRECT_ROUNDS,
  documents,
  freshFirestore,
  N,
  packets,
  project,
  rows,
  say,
  summary,
  waitUntil,
} from './setup';

export async function phaseD() {
  await freshFirestore();
  const {docs} = documents('bench-b32');
  await creates(documents('bench-b32-warm', 20).docs, 4);
  const direct = [
    {path: 'D', subscription: 'bench-d', script: undefined},
    {
      path: 'D0',
      subscription: 'bench-d0',
      script: path.join(__dirname, '..', 'lib', 'bare-ingest.js'),
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
