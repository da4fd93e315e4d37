/** The compiled CLI, end to end, spawned with the pinned node (process.execPath). */

import {strict as assert} from 'node:assert';
import {spawn} from 'node:child_process';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {
  generateLiteJson,
  generateLsstPacket,
  generateZtfPacket,
  writeLsstSchemaDir,
} from '../../helpers';

// Compiled test lives in build/test/; the CLI in build/src/cli/.
const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli', 'main.js');

function run(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {...process.env, SCHEMA_SOURCE: '', ...env},
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('close', code => resolve({code, stdout, stderr}));
  });
}

describe('pittgoogle decode (CLI)', () => {
  let dir: string;
  let schemas: string;
  const ztf = generateZtfPacket({seed: 31, count: 2, codec: 'deflate'});
  const lsst = generateLsstPacket({seed: 32, cutoutBytes: 10});
  const lite = generateLiteJson({seed: 33});

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cli-decode-'));
    schemas = path.join(dir, 'schemas');
    await writeLsstSchemaDir(schemas);
    await mkdir(path.join(dir, 'in', 'nested'), {recursive: true});
    await writeFile(path.join(dir, 'in', 'a-ztf.avro'), ztf.bytes);
    await writeFile(path.join(dir, 'in', 'nested', 'b-lsst.avro'), lsst.bytes);
    await writeFile(path.join(dir, 'in', 'c-lite.json'), lite.bytes);
    await writeFile(path.join(dir, 'bad.avro'), ztf.bytes.subarray(0, 30_000));
  });
  after(() => rm(dir, {recursive: true, force: true}));

  it('prints one JSON line per alert, with exact ids, searching directories recursively', async () => {
    const r = await run(['decode', '--schemas', schemas, path.join(dir, 'in')]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.deepEqual(
      lines.map(l => l.sourceId),
      [
        ...ztf.expected.map(e => e.sourceId),
        lite.expected[0].sourceId,
        lsst.expected[0].sourceId,
      ],
    );
    for (const l of lines) {
      for (const k of [
        'survey',
        'schemaVersion',
        'objectId',
        'sourceId',
        'ra',
        'dec',
        'mag',
        'band',
        'jd',
      ]) {
        assert.ok(k in l, `missing ${k}`);
      }
      assert.equal(typeof l.sourceId, 'string');
      assert.equal(l.record, undefined);
    }
    assert.equal(lines[0].objectId, ztf.expected[0].objectId);
    assert.equal(lines[3].survey, 'lsst');
    assert.equal(lines[3].schemaVersion, '11.1');
  });

  it('uses SCHEMA_SOURCE when --schemas is not given', async () => {
    const r = await run(['decode', path.join(dir, 'in', 'nested')], {
      SCHEMA_SOURCE: schemas,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).sourceId, lsst.expected[0].sourceId);
  });

  it('--full adds the record with bigints as strings and bytes as base64', async () => {
    const r = await run([
      'decode',
      '--full',
      path.join(dir, 'in', 'a-ztf.avro'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const l = JSON.parse(r.stdout.split('\n')[0]);
    assert.equal(l.record.candid, ztf.expected[0].sourceId);
    assert.equal(l.record.candidate.candid, ztf.expected[0].sourceId);
    const stamp = Buffer.from(l.record.cutoutScience.stampData, 'base64');
    const written = (ztf.records[0].cutoutScience as {stampData: Buffer})
      .stampData;
    assert.ok(stamp.equals(written));
  });

  it('reports each failing file on stderr and exits 1, still printing the others', async () => {
    const r = await run([
      'decode',
      path.join(dir, 'bad.avro'),
      path.join(dir, 'in', 'c-lite.json'),
      path.join(dir, 'in', 'nested', 'b-lsst.avro'),
      path.join(dir, 'missing.avro'),
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    const errs = r.stderr.trim().split('\n');
    assert.equal(errs.length, 3, r.stderr);
    assert.match(errs[0], /bad\.avro: permanent truncated: /);
    assert.match(errs[1], /b-lsst\.avro: permanent unknown-schema: .*1101/);
    assert.match(errs[2], /missing\.avro: .*no such file/);
  });

  it('--help explains the output with an example', async () => {
    const r = await run(['decode', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--schemas/);
    assert.match(r.stdout, /--full/);
    assert.match(r.stdout, /Example/);
    assert.match(r.stdout, /\$ pittgoogle decode/);
  });

  it('without a path it fails with usage', async () => {
    const r = await run(['decode']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /missing required argument/);
  });
});
