/**
 * `npm run stress`: the stress suite at full scale (STRESS=full), one file at
 * a time, then the Reliability table of the figures it recorded. The same
 * files run in reduced form inside `npm test`.
 */

import {spawnSync} from 'node:child_process';
import {mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import * as path from 'node:path';

import {reliabilityTable, StressFigure} from '../helpers/stress-report';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const report = path.join(ROOT, '.local', 'stress-report.jsonl');
mkdirSync(path.dirname(report), {recursive: true});
rmSync(report, {force: true});

const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  .filter(f => f.endsWith('.test.js'))
  .filter(f => only.length === 0 || only.some(o => f.includes(o)))
  .map(f => path.join(__dirname, f));

const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-timeout=3600000', ...files],
  {
    stdio: 'inherit',
    env: {...process.env, STRESS: 'full', STRESS_REPORT: report},
  },
);

let figures: StressFigure[] = [];
try {
  figures = readFileSync(report, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(l => JSON.parse(l) as StressFigure);
} catch {
  // no figure recorded
}
console.log('\n' + reliabilityTable(figures));
process.exitCode = result.status ?? 1;
