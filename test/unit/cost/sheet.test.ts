/**
 * The capacity and cost sheet (src/cost/): the formulas on a case worked by
 * hand, the committed docs/capacity.md equal to what the model gives, and
 * `npm run cost`'s inputs (a benchmark's last JSON line, flags).
 */

import {strict as assert} from 'node:assert';
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {describe, it} from 'node:test';

import {cpuFromBench, lastJsonLine, main} from '../../../src/cost/main';
import {designCapacity, runCase} from '../../../src/cost/model';
import {listPrices} from '../../../src/cost/prices';
import {
  COMMITTED_CPU,
  DEPLOYMENT,
  renderSheet,
  SHEET_BEGIN,
  SHEET_END,
  SURVEYS,
} from '../../../src/cost/sheet';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const doc = readFileSync(resolve(ROOT, 'docs/capacity.md'), 'utf8');

describe('cost model', () => {
  it('computes a case as written out in docs/capacity.md', () => {
    const survey = {
      name: 'T',
      alertsPerNight: 1_000_000,
      peakPerSec: 1000,
      messageBytes: 100_000,
      alertDocBytes: 20_000,
      cutoutsDocBytes: 40_000,
    };
    const cpu = {
      storedDropMs: 2,
      storedSeparateMs: 3,
      rejectedMs: 1,
      source: 't',
    };
    const d = {...DEPLOYMENT, indexBytesPerAlert: 0};
    const r = runCase(
      {survey, passFraction: 0.1, cutouts: true},
      cpu,
      d,
      listPrices(),
    );
    // CPU: 100,000 × 3 ms + 900,000 × 1 ms = 1,200 s; billable at 60 %.
    const near = (a: number, b: number) =>
      assert.ok(Math.abs(a - b) < 1e-6 * Math.max(1, b), `${a} vs ${b}`);
    near(r.cpuSecondsPerNight, 1200);
    near(r.billableVcpuSecondsPerNight, 2000);
    // Peak: 1,000/s × (0.1 × 3 + 0.9 × 1) ms = 1.2 vCPU → 2 instances at 60 %.
    assert.equal(r.peakInstances, 2);
    assert.equal(r.firestoreWritesPerNight, 200_000);
    assert.equal(r.peakWritesPerSec, 200);
    const gib = (100_000 * 60_000) / 2 ** 30;
    assert.ok(Math.abs(r.gibStoredPerNight - gib) < 1e-9);
    assert.ok(Math.abs(r.gibStoredPerMonth - 30 * gib) < 1e-9);
    const usd =
      2000 * 0.000024 +
      2000 * 0.5 * 0.0000025 +
      0.4 +
      2 * 0.18 +
      2 * 0.02 +
      ((1e6 * 100_000) / 2 ** 40) * 40;
    assert.ok(
      Math.abs(r.usdPerNight - usd) < 1e-9,
      `${r.usdPerNight} vs ${usd}`,
    );
    assert.ok(Math.abs(r.usdPerMonth - (30 * usd + 30 * gib * 0.18)) < 1e-9);
    // Kept forever: no deletes, a month's nights stored (added each month).
    const forever = runCase(
      {survey, passFraction: 0.1, cutouts: true},
      cpu,
      {...d, retentionDays: null},
      listPrices(),
    );
    assert.equal(forever.usd.deletes, 0);
    assert.ok(Math.abs(forever.gibStoredPerMonth - 30 * gib) < 1e-9);
    assert.deepEqual(designCapacity(d, cpu).perSubscriptionAlertsPerSec, 4000);
  });

  it('is what docs/capacity.md shows, with LSST and ZTF rows in dollars', () => {
    const a = doc.indexOf(SHEET_BEGIN) + SHEET_BEGIN.length;
    const b = doc.indexOf(SHEET_END);
    assert.equal(
      doc.slice(a, b).trim(),
      renderSheet().trim(),
      'npm run cost -- --write',
    );
    for (const s of SURVEYS) {
      assert.match(
        doc,
        new RegExp(
          `^\\| ${s.name} \\| 100 % \\| separate \\|.*\\$[0-9,.]+ \\| \\$[0-9,.]+ \\|$`,
          'm',
        ),
      );
    }
  });

  it("takes CPU figures from a benchmark's last JSON line or from flags, refusing bad values", () => {
    const cutouts = lastJsonLine(
      'table\n{"x":1}\n{"bench":"cutouts","cpuMsPerStoredAlertDrop":2,"cpuMsPerStoredAlertSeparate":2.5,"cpuMsPerRejectedAlert":0.9,"loadAvgStart":1}\n',
    );
    assert.deepEqual(
      {...cpuFromBench(cutouts), source: ''},
      {storedDropMs: 2, storedSeparateMs: 2.5, rejectedMs: 0.9, source: ''},
    );
    const push = cpuFromBench({bench: 'push', functionCpuMsPerAlert: 6.08});
    assert.equal(push.storedSeparateMs, 6.08);
    assert.ok(
      Math.abs(push.storedSeparateMs - push.storedDropMs - 0.26) < 1e-9,
    );
    assert.ok(Math.abs(push.rejectedMs - 2 * COMMITTED_CPU.rejectedMs) < 1e-9);
    assert.throws(() => cpuFromBench({bench: 'push'}), /functionCpuMsPerAlert/);
    // bench:push with phase F: its stored and rejected figures as measured.
    const f = cpuFromBench({
      bench: 'push',
      functionCpuMsPerAlert: 6.08,
      cpuMsPerStoredAlert: 3.1,
      cpuMsPerRejectedAlert: 0.7,
    });
    assert.equal(f.storedSeparateMs, 3.1);
    assert.equal(f.rejectedMs, 0.7);
    assert.ok(Math.abs(f.storedSeparateMs - f.storedDropMs - 0.26) < 1e-9);
    assert.throws(() => lastJsonLine('no json'), /no JSON line/);
    const sheet = main(['--stored-ms', '5', '--rejected-ms', '2']);
    assert.match(sheet, /figures given on the command line/);
    assert.notEqual(sheet, renderSheet());
    assert.throws(
      () => main(['--stored-ms=-1']),
      /--stored-ms must be a positive number/,
    );
    assert.match(main(['--retention-days', 'forever']), /\| LSST \|/);
  });
});
