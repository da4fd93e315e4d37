/**
 * The cases of test/stress/hostile.test.ts: damaged Avro payloads: truncated,
 * bit flips and wrong magic, huge declared lengths, schema ids.
 */

import {deflateRawSync} from 'node:zlib';

import {generateLsstPacket, ocfHeader, ztfLikeSchemaText} from '../../helpers';
import {zigzagVarint} from '../../helpers/avro-bytes';
import {scaled} from '../../helpers/stress-report';
import {
  GEN_ID,
  NO_SAMPLES,
  samples,
  Case,
  quarantine,
  retry,
  stored,
  filtered,
  push,
  payloadCase,
  memo,
  ztf,
  ztfDeflate,
  lsst,
  layout,
  withSchemaId,
  ztfRecordVarint,
  lsstRecordVarint,
} from './case';

/** Damaged ZTF (OCF) and LSST (Confluent wire) payloads. */
export function payloadCases(): Case[] {
  const out: Case[] = [];
  const add = (...c: Case[]) => out.push(...c);

  // --- payloads: truncated ---
  const cuts = [4, 5, 17, 100];
  const full = ztf().bytes.length;
  const l = () => layout();
  add(
    payloadCase(
      'ZTF OCF cut to 1 byte (no magic left)',
      () => ztf().bytes.subarray(0, 1),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'ZTF OCF cut to 3 bytes (no magic left)',
      () => ztf().bytes.subarray(0, 3),
      quarantine('unknown-format'),
    ),
  );
  for (const c of cuts) {
    add(
      payloadCase(
        `ZTF OCF truncated at byte ${c}`,
        () => ztf().bytes.subarray(0, c),
        quarantine('truncated'),
      ),
    );
  }
  const mid = [
    ['in the schema', 5000],
    ['just before the sync marker', -1],
    ['right after the header', 0],
    ['inside the record', 1],
    ['in the cutouts', 2],
    ['1 byte short', 3],
  ] as const;
  for (const [where, k] of mid) {
    const cut = () =>
      k === 5000
        ? 5000
        : k === -1
          ? l().blockStart - 1
          : k === 0
            ? l().blockStart
            : k === 1
              ? l().recordStart + 200
              : k === 2
                ? full - 600
                : full - 1;
    add(
      payloadCase(
        `ZTF OCF truncated ${where}`,
        () => ztf().bytes.subarray(0, cut()),
        quarantine('truncated'),
      ),
    );
  }
  for (let i = 0; i < scaled(0, 40); i++) {
    const c = Math.floor(((i + 1) * full) / 42);
    add(
      payloadCase(
        `ZTF OCF truncated at byte ${c} (full scale)`,
        () => ztf().bytes.subarray(0, c),
        quarantine('truncated'),
      ),
    );
  }
  add(
    payloadCase(
      'ZTF OCF deflate truncated',
      () => ztfDeflate().bytes.subarray(0, ztfDeflate().bytes.length - 40),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent truncated to its 3 first bytes',
      () => lsst().bytes.subarray(0, 3),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent truncated after the header',
      () => lsst().bytes.subarray(0, 5),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent truncated mid-record',
      () => lsst().bytes.subarray(0, 60),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent 1 byte short',
      () => lsst().bytes.subarray(0, lsst().bytes.length - 1),
      quarantine('truncated'),
    ),
  );
  for (const s of samples('ztf')) {
    add(
      payloadCase(
        `real ZTF ${s.name} truncated by half`,
        () => s.bytes.subarray(0, s.bytes.length >> 1),
        quarantine('truncated'),
      ),
    );
  }
  for (const s of samples('lsst')) {
    add(
      payloadCase(
        `real LSST ${s.name} truncated by 7 bytes`,
        () => s.bytes.subarray(0, s.bytes.length - 7),
        quarantine('truncated'),
      ),
    );
    // The samples share one source id: each is stored under its own subscription.
    const sub = `hostile-${s.name.split('.').slice(0, 2).join('-').replace('_', '-')}`;
    add(
      payloadCase(`real LSST ${s.name} stored`, () => s.bytes, stored(), {sub}),
    );
  }
  if (samples('ztf').length === 0) {
    add({
      name: 'real ZTF and LSST packets',
      skip: NO_SAMPLES,
      request: () => ({}),
      expect: filtered,
    });
  }

  // --- payloads: bit flips, wrong magic ---
  const flip =
    (bytes: () => Buffer, at: (b: Buffer) => number, mask = 0xff) =>
    () => {
      const b = Buffer.from(bytes());
      b[at(b)] ^= mask;
      return b;
    };
  add(
    payloadCase(
      'bit flip in the OCF magic (Obj\\x03)',
      flip(
        () => ztf().bytes,
        () => 3,
        0x02,
      ),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'bit flip in the sync marker after the block',
      flip(
        () => ztf().bytes,
        b => b.length - 1,
      ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'bit flip in the header sync marker',
      flip(
        () => ztf().bytes,
        () => l().blockStart - 3,
      ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'bit flip in the schema JSON',
      () => {
        const b = Buffer.from(ztf().bytes);
        b[b.indexOf('{', b.indexOf('avro.schema'))] = 0x58;
        return b;
      },
      quarantine('bad-schema'),
    ),
    payloadCase(
      'bit flip in the codec name (nulm)',
      () => {
        const b = Buffer.from(ztf().bytes);
        b[b.indexOf('null', 4) + 3] ^= 0x01;
        return b;
      },
      quarantine('unsupported-codec'),
    ),
    payloadCase(
      'wrong magic: ZIP',
      () => Buffer.from('PK\x03\x04 a zip file', 'latin1'),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'wrong magic: Confluent magic byte 0x01',
      () => {
        const b = Buffer.from(lsst().bytes);
        b[0] = 1;
        return b;
      },
      quarantine('unknown-format'),
    ),
    payloadCase(
      'wrong magic: a Confluent header on an OCF body',
      () => Buffer.concat([lsst().bytes.subarray(0, 5), ztf().bytes]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'wrong magic: an OCF magic on a Confluent body',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          lsst().bytes.subarray(5),
        ]),
      quarantine('bad-header'),
    ),
    payloadCase(
      'wrong magic: UTF-8 BOM then binary',
      () => Buffer.from([0xef, 0xbb, 0xbf, 0x00, 0x01]),
      quarantine('unknown-format'),
    ),
  );
  for (const s of samples('ztf').slice(0, 2)) {
    add(
      payloadCase(
        `real ZTF ${s.name} sync marker flipped`,
        flip(
          () => s.bytes,
          b => b.length - 5,
        ),
        quarantine('bad-avro'),
      ),
    );
  }

  // --- payloads: huge declared lengths (no allocation, no loop) ---
  const header = memo(() =>
    ocfHeader(ztfLikeSchemaText(), 'null', Buffer.alloc(16, 0x5a)),
  );
  add(
    payloadCase(
      'OCF header declares 2^40 metadata entries',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          zigzagVarint(2 ** 40),
          Buffer.alloc(64),
        ]),
      quarantine('bad-header'),
    ),
    payloadCase(
      'OCF header key length 2^50',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          zigzagVarint(1),
          zigzagVarint(2 ** 50),
          Buffer.alloc(64),
        ]),
      quarantine('truncated'),
    ),
    payloadCase(
      'OCF header value length -5',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          zigzagVarint(1),
          zigzagVarint(1),
          Buffer.from('a'),
          zigzagVarint(-5),
          Buffer.alloc(64),
        ]),
      quarantine('bad-header'),
    ),
    payloadCase(
      'OCF header varint of 11 bytes',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          Buffer.alloc(11, 0xff),
          Buffer.alloc(64),
        ]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF block declares 2^40 records',
      () =>
        Buffer.concat([
          header(),
          zigzagVarint(2 ** 40),
          zigzagVarint(10),
          Buffer.alloc(10),
          Buffer.alloc(16, 0x5a),
        ]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF block declares 2^52 bytes',
      () =>
        Buffer.concat([
          header(),
          zigzagVarint(1),
          zigzagVarint(2 ** 52),
          Buffer.alloc(100),
        ]),
      quarantine('truncated'),
    ),
    payloadCase(
      'OCF block declares -10 bytes',
      () =>
        Buffer.concat([
          header(),
          zigzagVarint(1),
          zigzagVarint(-10),
          Buffer.alloc(100),
        ]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record string length 2^40 (schemavsn)',
      () => ztfRecordVarint(r => ({...r, schemavsn: 'x'.repeat(200)}), 2 ** 40),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record string length -3',
      () => ztfRecordVarint(r => ({...r, schemavsn: 'x'.repeat(200)}), -3),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record array count 2^40 (prv_candidates)',
      () => ztfRecordVarint(r => ({...r, prv_candidates: []}), 2 ** 40),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record array count -2^62',
      () => ztfRecordVarint(r => ({...r, prv_candidates: []}), -(2n ** 62n)),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record bytes length 2^53 (cutout)',
      () =>
        ztfRecordVarint(
          r => ({
            ...r,
            cutoutScience: {
              ...(r.cutoutScience as object),
              stampData: Buffer.alloc(1),
            },
          }),
          2 ** 53,
        ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF deflate bomb (one block inflating past 64 MiB)',
      memo(() =>
        Buffer.concat([
          ocfHeader(ztfLikeSchemaText(), 'deflate', Buffer.alloc(16, 0x5a)),
          zigzagVarint(1),
          ...(() => {
            const z = deflateRawSync(Buffer.alloc(80 * 1024 * 1024));
            return [zigzagVarint(z.length), z];
          })(),
          Buffer.alloc(16, 0x5a),
        ]),
      ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'LSST string length 2^40 (band)',
      () =>
        lsstRecordVarint(
          r => ({
            ...r,
            diaSource: {...(r.diaSource as object), band: 'xyzxyz'},
          }),
          2 ** 40,
        ),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST array count 2^40 (prvDiaSources)',
      () => lsstRecordVarint(r => ({...r, prvDiaSources: []}), 2 ** 40),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST bytes length -7 (cutout)',
      () =>
        lsstRecordVarint(r => ({...r, cutoutDifference: Buffer.alloc(3)}), -7),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'LSST trailing bytes after the record',
      () => Buffer.concat([lsst().bytes, Buffer.from([1, 2, 3])]),
      quarantine('bad-avro'),
    ),
  );

  // --- payloads: schema ids ---
  add(
    payloadCase(
      'unknown Confluent schema id 4242 (directory)',
      () => withSchemaId(lsst().bytes, 4242),
      quarantine('unknown-schema'),
    ),
    payloadCase(
      'Confluent schema id -1 (directory)',
      () => withSchemaId(lsst().bytes, -1),
      quarantine('unknown-schema'),
    ),
    payloadCase(
      'Confluent schema id 0 (directory)',
      () => withSchemaId(lsst().bytes, 0),
      quarantine('unknown-schema'),
    ),
    payloadCase(
      'Confluent schema id 2^31-1 (directory)',
      () => withSchemaId(lsst().bytes, 2 ** 31 - 1),
      quarantine('unknown-schema'),
    ),
    {
      name: 'unknown Confluent schema id 4243 (registry 404)',
      payload: () => withSchemaId(lsst().bytes, 4243),
      request: push(() => withSchemaId(lsst().bytes, 4243), {
        server: 'registry',
      }),
      expect: quarantine('unknown-schema'),
    },
    {
      name: 'known Confluent schema id through the registry',
      payload: () => lsst().bytes,
      request: push(() => lsst().bytes, {server: 'registry'}),
      expect: stored(),
    },
    {
      name: 'registry down (503): retried, then stored once it is back',
      serial: true,
      setup: async ctx => {
        ctx.registry.forceStatus = 503;
      },
      request: push(
        () => generateLsstPacket({seed: 14, schemaId: GEN_ID + 1}).bytes,
        {server: 'registry'},
      ),
      expect: retry('registry-unavailable'),
      again: {
        setup: async ctx => {
          ctx.registry.forceStatus = undefined;
        },
        expect: stored(),
      },
    },
  );
  return out;
}
