import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import * as avro from 'avsc';

import {createDecoder, detectFormat, TypeCache} from '../../../src/alert';
import {buildType, repairSchema} from '../../../src/alert/avro-types';
import {
  generateZtfPacket,
  writeOcf,
  ztfLikeSchema,
  ztfLikeSchemaText,
  ztfLikeType,
} from '../../helpers';

describe('Avro OCF (ZTF-like packets)', () => {
  it('decodes a realistic packet with exact 64-bit ids and normalized fields', async () => {
    const p = generateZtfPacket({seed: 7});
    assert.ok(
      p.bytes.length > 65_000 && p.bytes.length < 76_000,
      `packet size ${p.bytes.length} should be like a real one (65-75 KB)`,
    );
    const e = p.expected[0];
    assert.ok(BigInt(e.sourceId) > 2n ** 53n, 'candid above 2^53');
    assert.equal(detectFormat(p.bytes), 'avro-ocf');
    const [a] = await createDecoder().decode(p.bytes);
    assert.equal(a.survey, 'ztf');
    assert.equal(a.format, 'avro-ocf');
    assert.equal(a.schemaVersion, '4.02');
    assert.equal(a.objectId, e.objectId);
    assert.equal(a.sourceId, e.sourceId);
    assert.equal(typeof (a.record as {candid: unknown}).candid, 'bigint');
    assert.equal(a.ra, e.ra);
    assert.equal(a.dec, e.dec);
    assert.equal(a.jd, e.jd);
    assert.equal(a.mjd, e.jd! - 2400000.5);
    assert.equal(a.mag, e.mag);
    assert.equal(a.band, e.band);
    assert.equal(a.classtar, e.classtar);
    assert.equal(a.nPrevious, e.nPrevious);
    assert.ok(a.cutouts.science && a.cutouts.template && a.cutouts.difference);
    assert.ok(a.cutouts.science.data.length >= 13_000);
    assert.equal(a.cutouts.science.data[0], 0x1f);
    assert.match(a.cutouts.science.fileName ?? '', /sci\.fits\.gz$/);
  });

  it('uses a schema that a strict Avro library rejects (["float","null"] with default null), repaired without reordering', () => {
    assert.throws(() => avro.Type.forSchema(ztfLikeSchema() as avro.Schema));
    const repaired = JSON.stringify(repairSchema(ztfLikeSchema()));
    assert.match(repaired, /"name":"classtar","type":\["float","null"\]/);
    // Data written with branch 0 = float must still read as a float.
    const [a] = createDecoder().tryDecodeSync(
      generateZtfPacket({seed: 3}).bytes,
    )!;
    assert.equal(typeof a.classtar, 'number');
  });

  it('handles null classtar, null and empty history', async () => {
    const d = createDecoder();
    const [nullHist] = await d.decode(
      generateZtfPacket({seed: 1, prvCandidates: 'null', nullClasstar: true})
        .bytes,
    );
    assert.equal(nullHist.classtar, null);
    assert.equal(nullHist.nPrevious, 0);
    assert.equal(
      (nullHist.record as {prv_candidates: unknown}).prv_candidates,
      null,
    );
    const [empty] = await d.decode(
      generateZtfPacket({seed: 2, prvCandidates: 'empty'}).bytes,
    );
    assert.equal(empty.nPrevious, 0);
    assert.deepEqual(
      (empty.record as {prv_candidates: unknown}).prv_candidates,
      [],
    );
  });

  it('counts only detections (non-null candid) as previous detections', async () => {
    const p = generateZtfPacket({seed: 4, prvCandidates: 9});
    const [a] = await createDecoder().decode(p.bytes);
    assert.equal(a.nPrevious, 6);
  });

  it('returns every record of a multi-block deflate container, in order', async () => {
    for (const codec of ['null', 'deflate'] as const) {
      const p = generateZtfPacket({
        seed: 11,
        count: 5,
        recordsPerBlock: 2,
        codec,
      });
      const alerts = await createDecoder().decode(p.bytes);
      assert.deepEqual(
        alerts.map(a => a.sourceId),
        p.expected.map(e => e.sourceId),
        codec,
      );
      assert.deepEqual(
        alerts.map(a => a.objectId),
        p.expected.map(e => e.objectId),
      );
    }
  });

  it('decodes schema 3.3 (no fp_hists) and 4.02 with one decoder, parsing each schema once', async () => {
    const cache = new TypeCache();
    const d = createDecoder({typeCache: cache});
    for (let seed = 1; seed <= 6; seed++) {
      const version = seed % 2 ? '3.3' : '4.02';
      const p = generateZtfPacket({seed, schemaVersion: version});
      const [a] = await d.decode(p.bytes);
      assert.equal(a.schemaVersion, version);
      assert.equal(a.sourceId, p.expected[0].sourceId);
    }
    assert.equal(cache.parses, 2);
  });

  it('shares parsed types by schema text across containers whose headers differ', async () => {
    const cache = new TypeCache();
    const d = createDecoder({typeCache: cache});
    const type = ztfLikeType();
    const rec = generateZtfPacket({seed: 9}).records[0];
    const text = ztfLikeSchemaText();
    const a = writeOcf(type, text, [rec], {sync: Buffer.alloc(16, 1)});
    const b = writeOcf(type, text, [rec], {
      sync: Buffer.alloc(16, 2),
      meta: {'x.origin': 'other'},
    });
    assert.equal(
      (await d.decode(a))[0].sourceId,
      (await d.decode(b))[0].sourceId,
    );
    assert.equal(cache.parses, 1);
  });

  it('keeps a fast synchronous path for OCF', () => {
    const p = generateZtfPacket({seed: 12});
    const alerts = createDecoder().tryDecodeSync(p.bytes);
    assert.equal(alerts?.[0].sourceId, p.expected[0].sourceId);
  });

  it('accepts a Uint8Array view into a larger buffer', async () => {
    const p = generateZtfPacket({seed: 13});
    const big = new Uint8Array(p.bytes.length + 20);
    big.set(p.bytes, 10);
    const view = big.subarray(10, 10 + p.bytes.length);
    const [a] = await createDecoder().decode(view);
    assert.equal(a.sourceId, p.expected[0].sourceId);
  });

  it('writes containers that the avsc stream reader accepts (fixture sanity)', async () => {
    const p = generateZtfPacket({
      seed: 14,
      count: 3,
      recordsPerBlock: 2,
      codec: 'deflate',
    });
    const values: Array<{candid: bigint}> = [];
    await new Promise<void>((resolve, reject) => {
      const dec = new avro.streams.BlockDecoder({
        parseHook: (schema: unknown) => buildType(schema),
      } as unknown as avro.DecoderOptions);
      dec.on('data', (v: {candid: bigint}) => values.push(v));
      dec.on('end', resolve);
      dec.on('error', reject);
      dec.end(p.bytes);
    });
    assert.deepEqual(
      values.map(v => v.candid.toString()),
      p.expected.map(e => e.sourceId),
    );
  });
});
