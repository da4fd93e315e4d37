/**
 * bench:push phase C: the function (functions framework child process)
 * behind the emulator push, against the model's ceiling c / (c/noopRate +
 * create latency at c in flight) and the realized push path.
 */

import {cpus} from 'node:os';

import {mean, round} from '../lib/push-tools';
import {
  logCollector,
  startFunction,
  stopFunction,
  warmFunction,
} from './function-process';
import type {PushRun} from './phase-a';
import {
  cpuMeter,
  creates,
  freshFirestore,
  N,
  PHASES,
  publishAll,
  rows,
  say,
  summary,
  TOPIC,
  waitUntil,
} from './setup';

/** What the phases before C measured (NaN / undefined: not run). */
export interface Ceilings {
  noopRate: number;
  noopInFlight: number;
  create2: Awaited<ReturnType<typeof creates>> | undefined;
  realized: number;
}

export async function phaseC(run: PushRun, ceilings: Ceilings) {
  const {pubsubEmu, user, topic} = run;
  const {noopRate, noopInFlight, create2, realized} = ceilings;
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
