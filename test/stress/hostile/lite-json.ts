/**
 * The cases of test/stress/hostile.test.ts: lite JSON payloads and duplicated
 * source ids.
 */

import {
  generateLiteJson,
  generateZtfPacket,
  writeOcf,
  ztfLikeSchemaText,
  ztfLikeType,
} from '../../helpers';
import {
  Case,
  quarantine,
  stored,
  push,
  payloadCase,
  memo,
  lite,
  nested,
} from './case';

/** Lite JSON payloads, and one alert sent twice. */
export function liteJsonCases(): Case[] {
  const out: Case[] = [];
  const add = (...c: Case[]) => out.push(...c);

  // --- payloads: lite JSON ---
  const liteBase = {
    objectId: 'ZTF24hostile',
    candid: 2n ** 60n + 7n,
    ra: 10.5,
    dec: -5.25,
    magpsf: 18.1,
    jd: 2460000.5,
    fid: 1,
  };
  add(
    payloadCase(
      'lite JSON truncated',
      () => generateLiteJson({seed: 3}).bytes.subarray(0, 30),
      quarantine('bad-json'),
    ),
    payloadCase(
      'lite JSON not UTF-8',
      () => Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      quarantine('bad-json'),
    ),
    payloadCase(
      'lite JSON nested 100,000 levels',
      () => Buffer.from(`{"a": ${nested(100_000)}}`),
      quarantine('bad-json'),
    ),
    payloadCase(
      'lite JSON top-level array',
      () => Buffer.from('[{"objectId": "x"}]'),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'lite JSON candid is a float',
      lite({...liteBase, candid: 1.5}),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON objectId is an object',
      lite({...liteBase, objectId: {a: 1}}),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON candid is "../x" (not a document id)',
      lite({...liteBase, candid: '../x'}),
      quarantine('invalid-alert', null),
    ),
    payloadCase(
      'lite JSON candid is "__x__"',
      lite({...liteBase, candid: '__x__'}),
      quarantine('invalid-alert', null),
    ),
    payloadCase(
      'lite JSON candid of 2 KB',
      lite({...liteBase, candid: '9'.repeat(2048)}),
      quarantine('invalid-alert', null),
    ),
    payloadCase(
      'lite JSON alert_lite is a number',
      lite({alert_lite: 5}),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON __proto__ carrying the ids',
      () =>
        Buffer.from(
          '{"__proto__": {"objectId": "ZTF24proto", "candid": 123456789}, "ra": 1}',
        ),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON ra, dec, magpsf are strings (stored with nulls)',
      lite({
        ...liteBase,
        candid: 2n ** 60n + 8n,
        ra: 'east',
        dec: [],
        magpsf: {},
      }),
      stored(),
    ),
  );

  // --- duplicated source ids ---
  add(
    {
      name: 'duplicated source id: two messages, one alert',
      request: push(memo(() => generateLiteJson({seed: 40}).bytes)),
      payload: memo(() => generateLiteJson({seed: 40}).bytes),
      expect: stored(),
      again: {
        expect: {status: 204, quarantined: 0, stored: 0},
        newMessage: true,
      },
    },
    payloadCase(
      'duplicated source id: two records of one container',
      memo(() => {
        const rec = generateZtfPacket({seed: 41, cutoutBytes: 0}).records[0];
        return writeOcf(ztfLikeType(), ztfLikeSchemaText(), [rec, rec]);
      }),
      stored(1),
    ),
  );
  return out;
}
