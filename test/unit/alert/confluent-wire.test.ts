import {strict as assert} from 'node:assert';
import {mkdtemp, rm} from 'node:fs/promises';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {
  createDecoder,
  createDirectorySchemaSource,
  createRegistrySchemaSource,
  detectFormat,
} from '../../../src/alert';
import {AlertError, isAlertError} from '../../../src/errors';
import {
  generateLsstPacket,
  lsstLikeSchemaText,
  SchemaRegistry,
  startSchemaRegistry,
  writeLsstSchemaDir,
} from '../../helpers';

async function rejection(p: Promise<unknown>): Promise<AlertError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isAlertError(e), `untyped error: ${String(e)}`);
    return e as AlertError;
  }
  return assert.fail('expected a rejection');
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as {port: number}).port;
  await new Promise<void>(r => s.close(() => r()));
  return port;
}

describe('Confluent wire (LSST-like packets)', () => {
  let dir: string;
  let registry: SchemaRegistry;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lsst-schemas-'));
    await writeLsstSchemaDir(dir, [1101, 901]);
    registry = await startSchemaRegistry({1101: lsstLikeSchemaText(1101)});
  });
  after(async () => {
    await registry.close();
    await rm(dir, {recursive: true, force: true});
  });

  it('decodes with a schema directory (named types in their own files)', async () => {
    const p = generateLsstPacket({seed: 1, cutoutBytes: 500});
    assert.equal(detectFormat(p.bytes), 'confluent-wire');
    const [a] = await createDecoder({schemaSource: dir}).decode(p.bytes);
    const e = p.expected[0];
    assert.equal(a.survey, 'lsst');
    assert.equal(a.format, 'confluent-wire');
    assert.equal(a.schemaVersion, '11.1');
    assert.equal(a.objectId, e.objectId);
    assert.equal(a.sourceId, e.sourceId);
    assert.ok(BigInt(a.sourceId) > 2n ** 53n);
    assert.equal(a.ra, e.ra);
    assert.equal(a.dec, e.dec);
    assert.ok(Math.abs(a.jd! - e.jd!) < 1e-6);
    assert.equal(a.mjd, a.jd! - 2400000.5);
    assert.ok(Math.abs(a.mag! - e.mag!) < 1e-9);
    assert.ok(a.magErr! > 0);
    assert.equal(a.band, e.band);
    assert.equal(a.nPrevious, 3);
    assert.equal(a.classtar, null);
    assert.equal(a.cutouts.difference?.data.length, 500);
  });

  it('takes the version from the schema id: 901 → 9.1', async () => {
    const p = generateLsstPacket({seed: 2, schemaId: 901});
    const [a] = await createDecoder({schemaSource: dir}).decode(p.bytes);
    assert.equal(a.schemaVersion, '9.1');
  });

  it('falls back to diaSource ids and ssObjectId when diaObject is absent; null mag for flux <= 0', async () => {
    const d = createDecoder({schemaSource: dir});
    const noObj = generateLsstPacket({
      seed: 3,
      diaObject: false,
      prvDiaSources: 'null',
    });
    const [a] = await d.decode(noObj.bytes);
    assert.equal(a.objectId, noObj.expected[0].objectId);
    assert.equal(a.nPrevious, null);
    const ss = generateLsstPacket({seed: 4, solarSystem: true});
    const [b] = await d.decode(ss.bytes);
    assert.equal(b.objectId, ss.expected[0].objectId);
    const neg = generateLsstPacket({seed: 5, psfFlux: -20});
    const [c] = await d.decode(neg.bytes);
    assert.equal(c.mag, null);
    assert.equal(c.magErr, null);
    const [z] = await d.decode(
      generateLsstPacket({seed: 6, psfFlux: 3631e9}).bytes,
    );
    assert.ok(Math.abs(z.mag!) < 1e-3, `3631 Jy is magnitude ~0, got ${z.mag}`);
  });

  it('decodes with a registry URL, fetching each id once, then synchronously', async () => {
    const before = registry.requests.length;
    const d = createDecoder({schemaSource: registry.url});
    const p = generateLsstPacket({seed: 7});
    assert.equal(d.tryDecodeSync(p.bytes), undefined);
    const results = await Promise.all(
      [1, 2, 3].map(s => d.decode(generateLsstPacket({seed: s}).bytes)),
    );
    assert.equal(results.length, 3);
    const [a] = await d.decode(p.bytes);
    assert.equal(a.sourceId, p.expected[0].sourceId);
    assert.equal(
      d.tryDecodeSync(p.bytes)?.[0].sourceId,
      p.expected[0].sourceId,
    );
    assert.deepEqual(registry.requests.slice(before), ['/schemas/ids/1101']);
  });

  it('unknown id in a directory is permanent unknown-schema naming the id and the place', async () => {
    const p = generateLsstPacket({seed: 8, schemaId: 1203});
    const e = await rejection(
      createDecoder({schemaSource: dir}).decode(p.bytes),
    );
    assert.equal(e.kind, 'permanent');
    assert.equal(e.code, 'unknown-schema');
    assert.match(e.message, /1203/);
    assert.ok(e.message.includes(path.join(dir, '12', '3')), e.message);
  });

  it('registry 404 is permanent unknown-schema', async () => {
    const p = generateLsstPacket({seed: 8, schemaId: 1203});
    const e = await rejection(
      createDecoder({schemaSource: registry.url}).decode(p.bytes),
    );
    assert.equal(e.kind, 'permanent');
    assert.equal(e.code, 'unknown-schema');
    assert.match(e.message, /1203/);
    assert.ok(e.message.includes(registry.url), e.message);
  });

  it('registry down (closed port) is transient registry-unavailable', async () => {
    const port = await closedPort();
    const e = await rejection(
      createDecoder({schemaSource: `http://127.0.0.1:${port}`}).decode(
        generateLsstPacket({seed: 9}).bytes,
      ),
    );
    assert.equal(e.kind, 'transient');
    assert.equal(e.code, 'registry-unavailable');
    assert.match(e.message, new RegExp(String(port)));
  });

  it('registry 5xx is transient and is not cached', async () => {
    const d = createDecoder({schemaSource: registry.url});
    const p = generateLsstPacket({seed: 10});
    registry.forceStatus = 503;
    try {
      const e = await rejection(d.decode(p.bytes));
      assert.equal(e.kind, 'transient');
      assert.equal(e.code, 'registry-unavailable');
    } finally {
      registry.forceStatus = undefined;
    }
    const [a] = await d.decode(p.bytes);
    assert.equal(a.sourceId, p.expected[0].sourceId);
  });

  it('registry timeout is transient', async () => {
    const {createServer: http} = await import('node:http');
    const silent = http(() => {
      /* never answers */
    });
    await new Promise<void>(r => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as {port: number}).port;
    try {
      const src = createRegistrySchemaSource(`http://127.0.0.1:${port}`, {
        timeoutMs: 200,
      });
      const e = await rejection(src.getSchemaText(1101));
      assert.equal(e.kind, 'transient');
      assert.equal(e.code, 'registry-unavailable');
    } finally {
      silent.closeAllConnections();
      await new Promise<void>(r => silent.close(() => r()));
    }
  });

  it('no schema source configured is a clear permanent error', async () => {
    const e = await rejection(
      createDecoder().decode(generateLsstPacket({seed: 11}).bytes),
    );
    assert.equal(e.code, 'unknown-schema');
    assert.match(e.message, /SCHEMA_SOURCE/);
  });

  it('a directory source accepts the parent of lsst/', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'schemas-root-'));
    try {
      await writeLsstSchemaDir(path.join(parent, 'lsst'));
      const text =
        await createDirectorySchemaSource(parent).getSchemaText(1101);
      assert.equal(JSON.parse(text).name, 'alert');
    } finally {
      await rm(parent, {recursive: true, force: true});
    }
  });
});
