import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  createDecoder,
  jdToIso,
  lighten,
  toGenericAlert,
  toTarget,
} from '../../../src/alert';
import {
  generateLsstPacket,
  generateZtfPacket,
  lsstLikeSchemaText,
  startSchemaRegistry,
} from '../../helpers';

describe('TOM mappings', () => {
  it('lighten gives the flat dict of tom_pittgoogle with exact candid and metadata', async () => {
    const p = generateZtfPacket({seed: 21});
    const [a] = await createDecoder().decode(p.bytes);
    const light = lighten(a, {
      messageId: '1234',
      publishTime: '2026-01-01T00:00:00.000Z',
      attributes: {'kafka.timestamp': '1735689600000', objectId: a.objectId},
    });
    assert.deepEqual(light, {
      objectId: p.expected[0].objectId,
      candid: p.expected[0].sourceId,
      jd: a.jd,
      ra: a.ra,
      dec: a.dec,
      magpsf: a.mag,
      classtar: a.classtar,
      message_id: '1234',
      publish_time: '2026-01-01T00:00:00.000Z',
      'kafka.timestamp': '1735689600000',
    });
    assert.deepEqual(Object.keys(lighten(a)), [
      'objectId',
      'candid',
      'jd',
      'ra',
      'dec',
      'magpsf',
      'classtar',
    ]);
  });

  it('toGenericAlert and toTarget follow TOM Toolkit', async () => {
    const p = generateZtfPacket({seed: 22, nullClasstar: true});
    const [a] = await createDecoder().decode(p.bytes);
    const g = toGenericAlert(a);
    assert.equal(g.id, p.expected[0].sourceId);
    assert.equal(typeof g.id, 'string');
    assert.equal(g.name, a.objectId);
    assert.equal(g.mag, a.mag);
    assert.equal(g.score, null);
    assert.equal(g.url, `https://alerce.online/object/${a.objectId}`);
    assert.match(g.timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(toTarget(a), {
      name: a.objectId,
      type: 'SIDEREAL',
      ra: a.ra,
      dec: a.dec,
    });
  });

  it('converts Julian dates to UTC', () => {
    assert.equal(jdToIso(2451545.0), '2000-01-01T12:00:00.000Z');
    assert.equal(jdToIso(2440587.5), '1970-01-01T00:00:00.000Z');
    assert.equal(jdToIso(null), null);
  });

  it('LSST alerts have no explorer url', async () => {
    const reg = await startSchemaRegistry({1101: lsstLikeSchemaText()});
    try {
      const [a] = await createDecoder({schemaSource: reg.url}).decode(
        generateLsstPacket({seed: 1}).bytes,
      );
      assert.equal(toGenericAlert(a).url, null);
      assert.equal(toGenericAlert(a).score, null);
    } finally {
      await reg.close();
    }
  });
});
