/**
 * Figures of the stress suite (test/stress/). Each stress test records what
 * it tried and what happened; `npm run stress` (test/stress/run.ts) collects
 * the lines and prints the README's "Reliability" table.
 *
 * Scale: `npm test` runs the suite in its reduced form (CI's time budget);
 * STRESS=full runs it at the sizes the README's figures come from.
 */

import {appendFileSync} from 'node:fs';

export type StressScale = 'ci' | 'full';

/** The scale asked for by the environment (STRESS=full, else reduced). */
export function stressScale(env: NodeJS.ProcessEnv = process.env): StressScale {
  return env.STRESS === 'full' ? 'full' : 'ci';
}

/** `ci` in the reduced form, `full` under STRESS=full. */
export function scaled(ci: number, full: number): number {
  return stressScale() === 'full' ? full : ci;
}

export interface StressFigure {
  /** Which part of the suite: load, fault, hostile, fuzz, access. */
  suite: 'load' | 'fault' | 'hostile' | 'fuzz' | 'access';
  /** What was done, e.g. "Firestore blackholed 20 s mid-run". */
  name: string;
  /** Cases, alerts or mutations tried. */
  tried: number;
  /** Alerts that should have been stored and were not (must be 0). */
  lost: number;
  /** Alerts stored more than once (must be 0). */
  duplicated: number;
  /** Valid alerts quarantined (must be 0). */
  quarantinedValid: number;
  /** Free-form measurements: peak RSS, redeliveries, 5xx answers, ... */
  details?: Record<string, number | string>;
}

/**
 * Appends one figure to the report file named by STRESS_REPORT (one JSON
 * object per line). Without STRESS_REPORT it does nothing: the tests assert
 * the same facts themselves.
 */
export function recordFigure(
  figure: StressFigure,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const file = env.STRESS_REPORT;
  if (!file) return;
  appendFileSync(file, JSON.stringify(figure) + '\n');
}

/** The Reliability table (Markdown) of a set of figures. */
export function reliabilityTable(figures: StressFigure[]): string {
  const rows = figures.map(f => {
    const details = Object.entries(f.details ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    return `| ${f.suite} | ${f.name} | ${f.tried.toLocaleString('en-US')} | ${f.lost} | ${f.duplicated} | ${f.quarantinedValid} | ${details} |`;
  });
  const total = (k: 'tried' | 'lost' | 'duplicated' | 'quarantinedValid') =>
    figures.reduce((s, f) => s + f[k], 0);
  return [
    '| part | what | tried | lost | duplicated | valid quarantined | details |',
    '|---|---|---:|---:|---:|---:|---|',
    ...rows,
    `| **all** | ${figures.length} scenarios | ${total('tried').toLocaleString('en-US')} | ${total('lost')} | ${total('duplicated')} | ${total('quarantinedValid')} | |`,
  ].join('\n');
}
