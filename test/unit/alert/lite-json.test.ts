import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  createDecoder,
  detectFormat,
  parseLosslessJson,
} from '../../../src/alert';
import {AlertError} from '../../../src/errors';
import {generateLiteJson} from '../../helpers';

describe('lite JSON alerts', () => {
  it('parses big integers exactly and NaN/Infinity tokens as null, leaving strings alone', () => {
    const v = parseLosslessJson(
      '{"a": 2982177112815010003, "b": NaN, "c": -Infinity, "d": Infinity, "e": "NaN Infinity", "f": 1.5, "g": 7}',
    ) as Record<string, unknown>;
    assert.equal(v.a, 2982177112815010003n);
    assert.equal(v.b, null);
    assert.equal(v.c, null);
    assert.equal(v.d, null);
    assert.equal(v.e, 'NaN Infinity');
    assert.equal(v.f, 1.5);
    assert.equal(v.g, 7);
  });

  for (const shape of ['old', 'new'] as const) {
    it(`decodes the ${shape} shape with exact ids`, async () => {
      const p = generateLiteJson({seed: 3, shape});
      const text = p.bytes.toString();
      assert.match(text, /NaN/);
      assert.match(text, /-Infinity/);
      assert.equal(detectFormat(p.bytes), 'json');
      const [a] = await createDecoder().decode(p.bytes);
      const e = p.expected[0];
      assert.equal(a.survey, 'ztf');
      assert.equal(a.format, 'json');
      assert.equal(a.schemaVersion, 'lite');
      assert.equal(a.objectId, e.objectId);
      assert.equal(a.sourceId, e.sourceId);
      assert.ok(BigInt(a.sourceId) > 2n ** 53n);
      assert.equal(a.ra, e.ra);
      assert.equal(a.dec, e.dec);
      assert.equal(a.jd, e.jd);
      assert.equal(a.mag, e.mag);
      assert.equal(a.band, e.band);
      assert.equal(a.classtar, e.classtar);
      assert.equal(a.nPrevious, e.nPrevious);
    });
  }

  it('a NaN classtar becomes null', async () => {
    const [a] = await createDecoder().decode(
      generateLiteJson({seed: 4, nanClasstar: true}).bytes,
    );
    assert.equal(a.classtar, null);
  });

  it('tolerates missing fields, but not a missing objectId', async () => {
    const [a] = await createDecoder().decode(
      Buffer.from(
        '{"alertIds": {"objectId": "ZTF20abc", "candid": 1234567890123456789}}',
      ),
    );
    assert.equal(a.objectId, 'ZTF20abc');
    assert.equal(a.sourceId, '1234567890123456789');
    assert.equal(a.ra, null);
    assert.equal(a.mag, null);
    assert.equal(a.band, null);
    await assert.rejects(
      createDecoder().decode(
        generateLiteJson({seed: 5, omitObjectId: true}).bytes,
      ),
      (e: AlertError) => e.code === 'invalid-alert' && e.kind === 'permanent',
    );
    await assert.rejects(
      createDecoder().decode(
        Buffer.from('{"source": {"objectId": "ZTF20abc"}}'),
      ),
      (e: AlertError) =>
        e.code === 'invalid-alert' && /source id/.test(e.message),
    );
  });

  it('recognizes LSST names in lite JSON', async () => {
    const [a] = await createDecoder().decode(
      Buffer.from(
        '{"alert_lite": {"diaObjectId": 313853998174584900, "diaSourceId": 313853998174584901, "midpointMjdTai": 60900.5, "psfFlux": 1000, "band": "g", "ra": 1, "dec": 2}}',
      ),
    );
    assert.equal(a.survey, 'lsst');
    assert.equal(a.objectId, '313853998174584900');
    assert.equal(a.sourceId, '313853998174584901');
    assert.equal(a.jd, 60900.5 + 2400000.5);
    assert.ok(Math.abs(a.mag! - 23.9) < 1e-9);
    assert.equal(a.band, 'g');
  });

  it('bad JSON, non-object JSON and invalid UTF-8 are bad-json', async () => {
    for (const t of ['{"a": ', '{"a": tru}', '{} {}']) {
      await assert.rejects(
        createDecoder().decode(Buffer.from(t)),
        (e: AlertError) => e.code === 'bad-json',
      );
    }
    await assert.rejects(
      createDecoder().decode(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
      (e: AlertError) => e.code === 'bad-json',
    );
    await assert.rejects(
      createDecoder().decode(Buffer.from('[1, 2]')),
      (e: AlertError) => e.code === 'unknown-format',
    );
  });
});
