/**
 * The one-walk conversion used by toAlertDocument gives exactly what the
 * two walks (toFirestoreValue, then valueSize) give, on generated real-size
 * alerts and on every edge of the conversion rules; and the base64 fast
 * path of the envelope parser decodes like the checked path.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Timestamp} from '@google-cloud/firestore';

import {createDecoder} from '../../../src/alert';
import {parsePushRequest} from '../../../src/ingest/envelope';
import {
  toFirestoreValue,
  toFirestoreValueSized,
  valueSize,
} from '../../../src/store/firestore-value';
import {generateZtfPacket} from '../../helpers';

function same(value: unknown) {
  const sized = toFirestoreValueSized(value);
  const converted = toFirestoreValue(value);
  assert.deepEqual(sized.value, converted);
  assert.equal(sized.size, valueSize(converted));
}

describe('toFirestoreValueSized', () => {
  it('equals toFirestoreValue + valueSize on generated ZTF alerts, field by field', async () => {
    const decoder = createDecoder();
    const packets = [
      generateZtfPacket({seed: 1}),
      generateZtfPacket({seed: 2, prvCandidates: 'null', nullClasstar: true}),
      generateZtfPacket({seed: 3, schemaVersion: '3.3', cutoutBytes: 0}),
      generateZtfPacket({seed: 4, prvCandidates: 'empty'}),
    ];
    for (const p of packets) {
      for (const alert of await decoder.decode(p.bytes)) {
        same(alert.record);
        for (const v of Object.values(alert.record)) same(v);
      }
    }
  });

  it('equals them on every conversion rule', () => {
    const sparse: unknown[] = [];
    sparse[2] = 1;
    const cases: unknown[] = [
      'x',
      'é✓',
      '',
      true,
      0,
      -1.5,
      NaN,
      Infinity,
      -123456789012345678901n,
      undefined,
      null,
      () => 1,
      Symbol('s'),
      new Date(0),
      new Date(NaN),
      new Timestamp(1, 2),
      Buffer.from([1, 2, 3]),
      new Uint8Array([4, 5]),
      new Float32Array([1, 2]).subarray(1),
      [1, [2, [3, []]], undefined, () => 1, NaN],
      sparse,
      {a: undefined, b: {c: [null, {d: 1n}]}, ü: 'v'},
      Object.create({inherited: 1}, {own: {value: 2, enumerable: true}}),
      new Map([['k', 1]]),
    ];
    for (const v of cases) same(v);
    same(cases);
    same({all: cases});
  });
});

describe('parsePushRequest base64', () => {
  it('decodes canonical, unpadded, url-safe and wrapped base64 alike', () => {
    const bytes = generateZtfPacket({seed: 5}).bytes;
    const b64 = bytes.toString('base64');
    const variants = [
      b64,
      b64.replace(/=+$/, ''),
      bytes.toString('base64url'),
      b64.replace(/(.{76})/g, '$1\n'),
    ];
    for (const data of variants) {
      const m = parsePushRequest({
        body: {message: {data, messageId: '1'}, subscription: 'ztf-loop'},
        headers: {},
      });
      assert.ok(m.data.equals(bytes));
    }
    for (const data of [`${b64.slice(0, -4)}!!!!`, `${b64}A`]) {
      assert.throws(
        () =>
          parsePushRequest({
            body: {message: {data, messageId: '1'}, subscription: 'ztf-loop'},
            headers: {},
          }),
        /base64/,
      );
    }
  });
});
