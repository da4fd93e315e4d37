/** bench:push's report: the table of measurements, the ratios against their targets, the JSON summary. */

import {round} from '../lib/push-tools';
import {load, rows, summary} from './setup';

/** Prints the report of a run that started at `started` (performance.now()). */
export function report(started: number) {
  // -- report ---------------------------------------------------------------
  // Instances per 1,000 alerts/s: as measured here (bounded by the emulated
  // Firestore), and by the function's own CPU (one vCPU per instance).
  const direct = Number(summary.directPerSec32);
  if (Number.isFinite(direct) && direct > 0) {
    summary.instancesPer1000 = round(1000 / direct, 1);
  }
  // By CPU: from F's per stored / rejected alert when it ran, else D's.
  const cpu = Number(summary.functionCpuMsPerAlert);
  if (!summary.instancesPer1000ByCpu && Number.isFinite(cpu) && cpu > 0) {
    summary.instancesPer1000ByCpu = {'1': round(cpu, 1)}; // 1000/s × cpu ms = cpu vCPUs
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
    [
      'stored alert: floor CPU / function CPU',
      summary.storedFloorRatio,
      '≥ 0.8',
    ],
    [
      'stored alert: floor without the framework / function CPU',
      summary.storedFloorRatioNoFramework,
      '',
    ],
    [
      'rejected alert (candidate field): function CPU / floor CPU',
      summary.rejectedFloorRatio,
      '≤ 1.25',
    ],
    [
      'rejected alert (attribute): function CPU / floor CPU',
      summary.rejectedFloorRatioByAttribute,
      '≤ 1.25',
    ],
    [
      'instances per 1,000 alerts/s by CPU, by pass fraction',
      summary.instancesPer1000ByCpu &&
        JSON.stringify(summary.instancesPer1000ByCpu),
      '',
    ],
    ['push: function / ceiling (information)', summary.pushRatio, ''],
    ['push: function / realized push path', summary.pushRatioRealized, ''],
    [
      'direct: function / Firestore at 32 (information)',
      summary.directRatio,
      '',
    ],
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
