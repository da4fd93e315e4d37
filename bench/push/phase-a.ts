/**
 * bench:push phase A: the Pub/Sub emulator's push ceiling (N messages pushed
 * to a no-op endpoint); and A+B: the push path realized (an endpoint whose
 * only work is the bare create of a prebuilt document).
 */

import type {PubSub, Topic} from '@google-cloud/pubsub';

import type {RunningEmulator} from '../../src/local/emulators';
import {createAlertStore} from '../../src/store/alert-store';
import {NoopEndpoint, round, startNoopEndpoint} from '../lib/push-tools';
import {
  config,
  cpuMeter,
  db,
  documents,
  N,
  publishAll,
  rows,
  say,
  summary,
  TOPIC,
} from './setup';

/** The Pub/Sub side of a run: the emulator, the user's client, the Pitt-Google topic. */
export interface PushRun {
  pubsubEmu: RunningEmulator;
  user: PubSub;
  topic: Topic;
}

/**
 * N messages published to a new pull subscription, then pushed (push
 * turned on) to `endpoint` until each was answered: the rate between the
 * first request and the last answer, and the CPU per message.
 */
/**
 * N messages published to a new pull subscription, then pushed (push
 * turned on) to `endpoint` until each was answered: the rate between the
 * first request and the last answer, and the CPU per message.
 */
export async function pushThrough(
  run: PushRun,
  endpoint: NoopEndpoint,
  name: string,
) {
  const {pubsubEmu, user, topic} = run;
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
}

export async function phaseA(run: PushRun) {
  const noop = await startNoopEndpoint();
  const a = await pushThrough(run, noop, 'bench-a');
  say(
    `   CPU per message, A: Pub/Sub emulator ${round(a.cpu.pubsub, 2)} ms, no-op endpoint (this process) ${round(a.cpu.self, 2)} ms`,
  );
  const noopRate = a.rate;
  const noopInFlight = noop.maxInFlight;
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
  return {noopRate, noopInFlight};
}

/**
 * The emulator pushing to an endpoint (in this process) whose only work is
 * the bare create of a prebuilt document: what the model's ceiling adds
 * up, run for real on this machine, where the emulators and the endpoint
 * share the cores.
 */
export async function phaseAB(run: PushRun, noopInFlight: number) {
  const {docs} = documents('bench-ab');
  const store = createAlertStore(db!, config);
  let next = 0;
  const endpoint = await startNoopEndpoint(() =>
    store.store(docs[next++ % docs.length]),
  );
  const ab = await pushThrough(run, endpoint, 'bench-ab');
  const abCpu = ab.cpu;
  await endpoint.close();
  const realized = ab.rate;
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
  return realized;
}
