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
  const cpu = Number(summary.functionCpuMsPerAlert);
  if (Number.isFinite(cpu) && cpu > 0) {
    summary.instancesPer1000ByCpu = round(cpu, 1); // 1000/s × cpu ms = cpu vCPUs
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
    ['push: function / ceiling', summary.pushRatio, '≥ 0.8'],
    ['push: function / realized push path', summary.pushRatioRealized, ''],
    ['direct: function / Firestore at 32', summary.directRatio, '≥ 0.8'],
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
