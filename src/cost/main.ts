#!/usr/bin/env node
/**
 * `npm run cost`: the capacity and cost sheet of docs/capacity.md, computed
 * from CPU figures: the committed ones (bench/README.md), or a fresh
 * benchmark's last JSON line, or figures given on the command line.
 *
 *   npm run cost                                  the committed sheet
 *   npm run bench:push > push.txt; npm run cost -- --bench push.txt
 *   npm run bench:cutouts > c.txt; npm run cost -- --bench c.txt
 *   npm run cost -- --stored-ms 2.9 --rejected-ms 1.2 [--separate-ms 3.2]
 *   npm run cost -- --retention-days forever      storage kept forever
 *   npm run cost -- --write                       update docs/capacity.md
 */

import {readFileSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {parseArgs} from 'node:util';

import type {CpuFigures, Deployment} from './model';
import {COMMITTED_CPU, DEPLOYMENT, renderSheet, replaceSheet} from './sheet';

const ROOT = resolve(__dirname, '..', '..', '..');

function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${flag} must be a positive number, got "${v}"`);
  }
  return n;
}

/** The last JSON line of a benchmark's output. */
export function lastJsonLine(text: string): Record<string, unknown> {
  const lines = text.trim().split('\n').reverse();
  for (const l of lines) {
    if (l.startsWith('{')) return JSON.parse(l) as Record<string, unknown>;
  }
  throw new Error('no JSON line in the benchmark output');
}

/**
 * CPU figures from a benchmark summary: bench:cutouts gives all three;
 * bench:push F gives the stored alert as deployed (CUTOUTS=separate) and
 * the rejected one (without F: D's stored alert, at 32 in flight), the rest
 * from the committed figures' differences.
 */
export function cpuFromBench(
  summary: Record<string, unknown>,
  base: CpuFigures = COMMITTED_CPU,
): CpuFigures {
  const n = (k: string) => {
    const v = Number(summary[k]);
    if (!Number.isFinite(v) || v <= 0) {
      throw new Error(`the benchmark summary has no ${k}`);
    }
    return v;
  };
  if (summary.bench === 'cutouts') {
    return {
      storedDropMs: n('cpuMsPerStoredAlertDrop'),
      storedSeparateMs: n('cpuMsPerStoredAlertSeparate'),
      rejectedMs: n('cpuMsPerRejectedAlert'),
      source: `a bench:cutouts run (load average ${summary.loadAvgStart})`,
    };
  }
  const extra = base.storedSeparateMs - base.storedDropMs;
  if (summary.cpuMsPerStoredAlert !== undefined) {
    // bench:push F: the function's CPU per stored (as deployed) and per
    // rejected alert, each measured against its floor.
    const stored = n('cpuMsPerStoredAlert');
    return {
      storedSeparateMs: stored,
      storedDropMs: stored - extra,
      rejectedMs: n('cpuMsPerRejectedAlert'),
      source: `a bench:push run (F: ${stored} ms per stored, ${summary.cpuMsPerRejectedAlert} ms per rejected alert at 32 in flight, load average ${summary.loadAvgStart}); drop from the committed difference`,
    };
  }
  const separate = n('functionCpuMsPerAlert');
  return {
    storedSeparateMs: separate,
    storedDropMs: separate - extra,
    rejectedMs: base.rejectedMs * (separate / base.storedSeparateMs),
    source: `a bench:push run (D: ${separate} ms per stored alert at 32 in flight, load average ${summary.loadAvgStart}); drop and rejected scaled from the committed figures`,
  };
}

export function main(argv: string[]): string {
  const {values} = parseArgs({
    args: argv,
    options: {
      bench: {type: 'string'},
      'stored-ms': {type: 'string'},
      'separate-ms': {type: 'string'},
      'rejected-ms': {type: 'string'},
      'retention-days': {type: 'string'},
      write: {type: 'boolean'},
    },
  });
  let cpu: CpuFigures = COMMITTED_CPU;
  if (values.bench) {
    cpu = cpuFromBench(lastJsonLine(readFileSync(values.bench, 'utf8')));
  }
  const stored = positive(values['stored-ms'], '--stored-ms');
  const separate = positive(values['separate-ms'], '--separate-ms');
  const rejected = positive(values['rejected-ms'], '--rejected-ms');
  if (
    stored !== undefined ||
    separate !== undefined ||
    rejected !== undefined
  ) {
    const extra = cpu.storedSeparateMs - cpu.storedDropMs;
    cpu = {
      storedDropMs: stored ?? cpu.storedDropMs,
      storedSeparateMs:
        separate ??
        (stored !== undefined ? stored + extra : cpu.storedSeparateMs),
      rejectedMs: rejected ?? cpu.rejectedMs,
      source: 'figures given on the command line',
    };
  }
  const deployment: Deployment = {...DEPLOYMENT};
  const r = values['retention-days'];
  if (r !== undefined) {
    deployment.retentionDays =
      r === 'forever' ? null : positive(r, '--retention-days')!;
  }
  const sheet = renderSheet(cpu, deployment);
  if (values.write) {
    const file = resolve(ROOT, 'docs/capacity.md');
    writeFileSync(file, replaceSheet(readFileSync(file, 'utf8'), sheet));
  }
  return sheet;
}

if (require.main === module) {
  try {
    process.stdout.write(`${main(process.argv.slice(2))}\n`);
  } catch (e) {
    process.stderr.write(`npm run cost: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
