/**
 * bench:push phase E: a fresh function process: cold start (spawn, and
 * module load, to the first stored alert; the median of COLD_STARTS), then
 * MEM alerts posted at 32 in flight, resident memory at 5,000 and at the
 * end (single readings, and the high-water marks of windows around them).
 * Module load time alone in another process.
 */

import * as http from 'node:http';

import {findFreePort} from '../../src/local/ports';
import {
  MiB,
  percentile,
  post,
  postAll,
  pushEnvelope,
  round,
  rssOf,
} from '../lib/push-tools';
import {moduleLoadMs, startFunction, stopFunction} from './function-process';
import {
  COLD_STARTS,
  DIRECT_CONCURRENCY,
  freshFirestore,
  MEM,
  N,
  packets,
  project,
  rows,
  say,
  summary,
} from './setup';

export async function phaseE() {
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
    // The cold start: from module load (the process's own clock,
    // epoch-based like ours) to the first alert stored (its 204 received).
    return {
      fn,
      spawnMs: coldMs,
      fromModuleLoadMs: startup ? storedAt - startup.moduleLoadAt : NaN,
      nodeBootMs: startup ? startup.moduleLoadAt - startup.processStartAt : NaN,
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
      if (answered >= w.from && answered < w.to) w.peak = Math.max(w.peak, now);
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
