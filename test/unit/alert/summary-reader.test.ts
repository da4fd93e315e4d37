/**
 * The summary decode (histories and cutouts skipped) against the full one:
 * on every real sample packet and on generated ZTF and LSST packets, the
 * summary alerts agree with the full ones on every field a filter may read
 * without the full record, and every filter that says it can decide on a
 * summary decides as on the full alert.
 */

import {strict as assert} from 'node:assert';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {createDecoder, Decoder} from '../../../src/alert';
import type {Alert} from '../../../src/alert/model';
import {SUMMARY_SKIPPED_FIELDS} from '../../../src/alert/summary-reader';
import {compileFilter, validateFilter} from '../../../src/filter';
import {
  generateLsstPacket,
  writeLsstSchemaDir,
} from '../../helpers/lsst-packet';
import {generateZtfPacket} from '../../../src/local/generate/ztf-packet';
import {PermanentError} from '../../../src/errors';

const REPO = path.resolve(__dirname, '../../../..');

/** The first existing directory of the candidates; fails (never skips) when none. */
function dirOf(env: string | undefined, ...candidates: string[]): string {
  for (const d of [env, ...candidates]) if (d && existsSync(d)) return d;
  throw new Error(
    `no sample directory: set ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR (tried ${candidates.join(', ')})`,
  );
}

const SAMPLES = dirOf(
  process.env.ALERT_SAMPLES_DIR,
  path.join(REPO, 'samples'),
  path.join(REPO, '../shared/samples'),
);
const SCHEMAS = dirOf(
  process.env.ALERT_SCHEMAS_DIR,
  path.join(REPO, 'samples/schemas'),
  path.join(REPO, '../shared/schemas'),
);

const ATTRIBUTES = {fid: '1', candid: '1', 'kafka.topic': 'ztf_x'};

/** Filters of the filter tests' kinds, all deciding on summary-level data. */
const SUMMARY_FILTERS: unknown[] = [
  {field: 'mag', op: 'lt', value: 18.5},
  {field: 'mag', op: 'between', value: [14, 19]},
  {field: 'classtar', op: 'lt', value: 0.5},
  {field: 'classtar', op: 'isNull'},
  {field: 'band', op: 'in', value: ['g', 'r']},
  {field: 'survey', op: 'eq', value: 'lsst'},
  {field: 'magErr', op: 'lte', value: 0.1},
  {field: 'ra', op: 'gt', value: 180},
  {field: 'candidate.drb', op: 'gte', value: 0.9},
  {field: 'candidate.rb', op: 'gte', value: 0.5},
  {field: 'candidate.isdiffpos', op: 'eq', value: 't'},
  {field: 'candidate.sgscore1', op: 'exists'},
  {field: 'diaSource.reliability', op: 'gte', value: 0.5},
  {field: 'diaSource.snr', op: 'gt', value: 10},
  {field: 'diaObject.nDiaSources', op: 'gte', value: 2},
  {field: 'attributes.fid', op: 'eq', value: '1'},
  {not: {field: 'attributes.fid', op: 'eq', value: '3'}},
  {cone: {ra: 150.1, dec: 2.2, radiusArcsec: 3600}},
  {
    all: [
      {field: 'classtar', op: 'lt', value: 0.5},
      {field: 'mag', op: 'between', value: [14, 21]},
      {
        any: [
          {field: 'band', op: 'eq', value: 'g'},
          {field: 'ra', op: 'lt', value: 90},
        ],
      },
    ],
  },
];

/** Filters that need the full record. */
const FULL_FILTERS: unknown[] = [
  {field: 'nPrevious', op: 'gte', value: 1},
  {field: 'prv_candidates.0.magpsf', op: 'exists'},
  {field: 'record.fp_hists.0.forcediffimflux', op: 'exists'},
  {field: 'prvDiaSources.0.psfFlux', op: 'gt', value: 0},
  {field: 'cutoutScience.stampData', op: 'exists'},
  {
    all: [
      {field: 'mag', op: 'lt', value: 20},
      {field: 'nPrevious', op: 'gt', value: 0},
    ],
  },
];

/** The normalized fields a summary alert must share with the full one. */
function summaryView(a: Alert) {
  const record: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a.record)) {
    if (!SUMMARY_SKIPPED_FIELDS.has(k)) record[k] = v;
  }
  // Plain data: the two decodes build records of different avsc classes.
  return structuredClone({...a, nPrevious: null, cutouts: null, record});
}

async function checkPacket(decoder: Decoder, bytes: Buffer, what: string) {
  const full = await decoder.decode(bytes);
  const summary = await decoder.decodeSummary(bytes);
  assert.equal(summary.complete, false, `${what}: has a summary reader`);
  assert.equal(summary.alerts.length, full.length, what);
  for (let i = 0; i < full.length; i++) {
    const s = summary.alerts[i];
    for (const k of Object.keys(s.record)) {
      assert.ok(!SUMMARY_SKIPPED_FIELDS.has(k), `${what}: ${k} skipped`);
    }
    assert.deepEqual(summaryView(s), summaryView(full[i]), what);
    for (const f of SUMMARY_FILTERS) {
      const c = compileFilter(validateFilter(f));
      assert.equal(c.readsFullRecord, false, JSON.stringify(f));
      assert.equal(
        c.matches(s, ATTRIBUTES),
        c.matches(full[i], ATTRIBUTES),
        `${what}: ${JSON.stringify(f)}`,
      );
    }
  }
}

describe('summary decode: real sample packets', () => {
  it('every ZTF sample: the summary agrees with the full decode', async () => {
    const dir = path.join(SAMPLES, 'ztf');
    const files = readdirSync(dir).filter(f => f.endsWith('.avro'));
    assert.ok(files.length >= 4, dir);
    const decoder = createDecoder();
    for (const f of files) {
      await checkPacket(decoder, readFileSync(path.join(dir, f)), f);
    }
  });

  it('every LSST sample: the summary agrees with the full decode', async () => {
    const dir = path.join(SAMPLES, 'lsst');
    const files = readdirSync(dir).filter(f => f.endsWith('.avro'));
    assert.ok(files.length >= 7, dir);
    const decoder = createDecoder({schemaSource: path.join(SCHEMAS, 'lsst')});
    for (const f of files) {
      const bytes = readFileSync(path.join(dir, f));
      await decoder.decode(bytes); // the schema is fetched by the full decode
      await checkPacket(decoder, bytes, f);
    }
  });
});

describe('summary decode: generated packets', () => {
  let schemaDir: string;
  before(async () => {
    schemaDir = await mkdtemp(path.join(tmpdir(), 'summary-schemas-'));
    await writeLsstSchemaDir(schemaDir, [1101, 901]);
  });
  after(() => rm(schemaDir, {recursive: true, force: true}));

  it('ZTF 3.3 and 4.02, several records per container, with and without histories', async () => {
    const decoder = createDecoder();
    for (const schemaVersion of ['3.3', '4.02'] as const) {
      for (let seed = 1; seed <= 20; seed++) {
        const p = generateZtfPacket({
          seed,
          schemaVersion,
          count: 1 + (seed % 3),
        });
        await checkPacket(
          decoder,
          p.bytes,
          `ztf ${schemaVersion} seed ${seed}`,
        );
      }
    }
  });

  it('LSST-like packets of two schema ids, with and without histories', async () => {
    const decoder = createDecoder({schemaSource: schemaDir});
    for (const schemaId of [1101, 901]) {
      for (let seed = 1; seed <= 20; seed++) {
        const p = generateLsstPacket({seed, schemaId, prvDiaSources: seed % 4});
        await decoder.decode(p.bytes);
        await checkPacket(decoder, p.bytes, `lsst ${schemaId} seed ${seed}`);
      }
    }
  });

  it('filters on histories, cutouts or nPrevious say they need the full record', () => {
    for (const f of FULL_FILTERS) {
      assert.equal(
        compileFilter(validateFilter(f)).readsFullRecord,
        true,
        JSON.stringify(f),
      );
    }
    assert.equal(compileFilter(null).readsFullRecord, false);
  });

  it('a container cut inside a skipped history is still refused', async () => {
    const decoder = createDecoder();
    const p = generateZtfPacket({seed: 3, schemaVersion: '4.02'});
    for (const cut of [0.5, 0.8, 0.95]) {
      const bytes = p.bytes.subarray(0, Math.floor(p.bytes.length * cut));
      await assert.rejects(decoder.decodeSummary(bytes), PermanentError);
      await assert.rejects(decoder.decode(bytes), PermanentError);
    }
  });

  it('lite JSON has no summary: it is decoded in full (complete)', async () => {
    const decoder = createDecoder();
    const json = Buffer.from(
      JSON.stringify({
        alert_lite: {objectId: 'ZTF1', candid: 12, ra: 1, dec: 2},
      }),
    );
    const full = await decoder.decode(json).catch(e => e);
    const summary = await decoder.decodeSummary(json).catch(e => e);
    if (full instanceof Error) {
      assert.ok(summary instanceof Error, 'both refuse it');
    } else {
      assert.equal(summary.complete, true);
      assert.deepEqual(summary.alerts, full);
    }
  });
});
