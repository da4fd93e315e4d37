import {strict as assert} from 'node:assert';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {createDecoder} from '../../../src/alert';
import {AlertError, isAlertError} from '../../../src/errors';
import {
  generateLiteJson,
  generateLsstPacket,
  generateZtfPacket,
  ocfHeader,
  writeLsstSchemaDir,
  writeOcf,
  ztfLikeSchemaText,
  ztfLikeType,
} from '../../helpers';
import {zigzagVarint as varint} from '../../helpers/avro-bytes';

async function withSchemaDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'schemas-'));
  try {
    await writeLsstSchemaDir(dir);
    return await fn(dir);
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

async function failure(
  bytes: Uint8Array,
  schemaSource?: string,
): Promise<AlertError> {
  try {
    const alerts = await createDecoder({schemaSource}).decode(bytes);
    assert.fail(`expected a failure, got ${alerts.length} alerts`);
  } catch (e) {
    assert.ok(isAlertError(e), `untyped error: ${String(e)}`);
    return e as AlertError;
  }
}

describe('decode errors are typed, permanent and say why', () => {
  it('empty payload', async () => {
    const e = await failure(new Uint8Array(0));
    assert.equal(e.code, 'empty-payload');
    assert.equal(e.kind, 'permanent');
  });

  it('unknown format shows the first bytes', async () => {
    const e = await failure(Buffer.from('PK\x03\x04 a zip file', 'latin1'));
    assert.equal(e.code, 'unknown-format');
    assert.match(e.message, /50 4b 03 04/);
    assert.match(e.message, /\|PK\.\./);
  });

  it('wrong magic (Obj\\x02) is an unknown format', async () => {
    const bytes = Buffer.from(
      generateZtfPacket({seed: 1, cutoutBytes: 10}).bytes,
    );
    bytes[3] = 2;
    assert.equal((await failure(bytes)).code, 'unknown-format');
  });

  it('truncated ZTF packet at many cut points', async () => {
    const p = generateZtfPacket({seed: 2, codec: 'null'});
    const d = createDecoder();
    const cuts = [4, 5, 20, 100, 1_000, 10_000, 21_000];
    for (let c = 22_000; c < p.bytes.length; c += 997) cuts.push(c);
    cuts.push(p.bytes.length - 17, p.bytes.length - 16, p.bytes.length - 1);
    for (const cut of cuts) {
      try {
        await d.decode(p.bytes.subarray(0, cut));
        assert.fail(`cut at ${cut} decoded`);
      } catch (e) {
        assert.ok(isAlertError(e), `cut at ${cut}: untyped ${String(e)}`);
        assert.equal((e as AlertError).kind, 'permanent');
        assert.equal(
          (e as AlertError).code,
          'truncated',
          `cut at ${cut}: ${(e as Error).message}`,
        );
      }
    }
  });

  it('truncated deflate packet', async () => {
    const p = generateZtfPacket({seed: 3, codec: 'deflate'});
    for (const cut of [
      p.bytes.length - 1,
      p.bytes.length - 40,
      p.bytes.length - 5_000,
    ]) {
      const e = await failure(p.bytes.subarray(0, cut));
      assert.equal(e.code, 'truncated');
    }
  });

  it('truncated Confluent and JSON packets', async () => {
    const lsst = generateLsstPacket({seed: 1, cutoutBytes: 300});
    assert.equal((await failure(lsst.bytes.subarray(0, 3))).code, 'truncated');
    await withSchemaDir(async dir => {
      const d = createDecoder({schemaSource: dir});
      for (let cut = 5; cut < lsst.bytes.length; cut += 7) {
        try {
          await d.decode(lsst.bytes.subarray(0, cut));
          assert.fail(`cut at ${cut} decoded`);
        } catch (e) {
          assert.ok(isAlertError(e), `cut at ${cut}: untyped ${String(e)}`);
          assert.equal(
            (e as AlertError).code,
            'truncated',
            `cut at ${cut}: ${(e as Error).message}`,
          );
        }
      }
    });
    const json = generateLiteJson({seed: 1});
    assert.equal(
      (await failure(json.bytes.subarray(0, json.bytes.length - 3))).code,
      'bad-json',
    );
  });

  it('bad header: no schema, absurd entry count, huge declared lengths', async () => {
    const noSchema = Buffer.concat([
      Buffer.from('Obj\x01', 'latin1'),
      varint(1),
      varint(10),
      Buffer.from('avro.codec'),
      varint(4),
      Buffer.from('null'),
      varint(0),
      Buffer.alloc(16),
      varint(1),
      varint(1),
      Buffer.from([0]),
      Buffer.alloc(16),
    ]);
    assert.equal((await failure(noSchema)).code, 'bad-header');
    const manyEntries = Buffer.concat([
      Buffer.from('Obj\x01', 'latin1'),
      varint(2 ** 40),
      Buffer.alloc(64),
    ]);
    assert.equal((await failure(manyEntries)).code, 'bad-header');
    const hugeKey = Buffer.concat([
      Buffer.from('Obj\x01', 'latin1'),
      varint(1),
      varint(2 ** 50),
      Buffer.alloc(64),
    ]);
    assert.equal((await failure(hugeKey)).code, 'truncated');
    const badSchema = Buffer.concat([
      ocfHeader(
        '{"type": "record", "name": "x", "fields": [{"name": "a", "type": "nope"}]}',
        'null',
        Buffer.alloc(16),
      ),
      varint(1),
      varint(1),
      Buffer.from([0]),
      Buffer.alloc(16),
    ]);
    assert.equal((await failure(badSchema)).code, 'bad-schema');
    const notJson = Buffer.concat([
      ocfHeader('{not json', 'null', Buffer.alloc(16)),
      varint(1),
      varint(1),
      Buffer.from([0]),
      Buffer.alloc(16),
    ]);
    assert.equal((await failure(notJson)).code, 'bad-schema');
  });

  it('huge declared block size, record count and array length do not allocate or loop', async () => {
    const header = ocfHeader(ztfLikeSchemaText(), 'null', Buffer.alloc(16));
    const hugeBlock = Buffer.concat([
      header,
      varint(1),
      varint(2 ** 52),
      Buffer.alloc(100),
    ]);
    assert.equal((await failure(hugeBlock)).code, 'truncated');
    const hugeCount = Buffer.concat([
      header,
      varint(2 ** 40),
      varint(10),
      Buffer.alloc(10),
      Buffer.alloc(16),
    ]);
    assert.equal((await failure(hugeCount)).code, 'bad-avro');
    // A record whose prv_candidates array declares 2^40 items in a small block.
    const type = ztfLikeType();
    const rec = generateZtfPacket({seed: 5, prvCandidates: 1, cutoutBytes: 0})
      .records[0];
    const good = type.toBuffer(rec);
    const bad = Buffer.from(good);
    // Find the encoded array length (1 item → zigzag 2, after the union branch 1 → zigzag 2).
    const one = type.toBuffer({...rec, prv_candidates: []});
    let i = 0;
    while (i < one.length && one[i] === good[i]) i++;
    // At index i the encodings differ: the item count of the history.
    const hostile = Buffer.concat([
      bad.subarray(0, i),
      varint(2 ** 40),
      bad.subarray(i + 1),
    ]);
    const packet = Buffer.concat([
      header,
      varint(1),
      varint(hostile.length),
      hostile,
      Buffer.alloc(16),
    ]);
    const started = Date.now();
    const e = await failure(packet);
    assert.ok(['bad-avro', 'truncated'].includes(e.code), e.code);
    assert.ok(Date.now() - started < 2000);
  });

  it('unknown codec', async () => {
    const rec = generateZtfPacket({seed: 6, cutoutBytes: 10}).records[0];
    const bytes = writeOcf(ztfLikeType(), ztfLikeSchemaText(), [rec]);
    const header = ocfHeader(
      ztfLikeSchemaText(),
      'null',
      Buffer.alloc(16, 0x5a),
    );
    const snappy = Buffer.concat([
      ocfHeader(ztfLikeSchemaText(), 'snappy', Buffer.alloc(16, 0x5a)),
      bytes.subarray(header.length),
    ]);
    const e = await failure(snappy);
    assert.equal(e.code, 'unsupported-codec');
    assert.match(e.message, /snappy/);
  });

  it('garbage data, corrupt deflate and wrong sync marker are bad-avro', async () => {
    const p = generateZtfPacket({seed: 7, cutoutBytes: 100});
    const header = ocfHeader(
      ztfLikeSchemaText(),
      'null',
      Buffer.alloc(16, 0x5a),
    );
    const garbage = Buffer.concat([
      header,
      varint(1),
      varint(50),
      Buffer.alloc(50, 0xff),
      Buffer.alloc(16, 0x5a),
    ]);
    assert.equal((await failure(garbage)).code, 'bad-avro');
    const syncBroken = Buffer.from(p.bytes);
    syncBroken[syncBroken.length - 1] ^= 0xff;
    const e = await failure(syncBroken);
    assert.equal(e.code, 'bad-avro');
    assert.match(e.message, /sync marker/);
    const dh = ocfHeader(
      ztfLikeSchemaText(),
      'deflate',
      Buffer.alloc(16, 0x5a),
    );
    const corrupt = Buffer.concat([
      dh,
      varint(1),
      varint(20),
      Buffer.alloc(20, 0xee),
      Buffer.alloc(16, 0x5a),
    ]);
    assert.equal((await failure(corrupt)).code, 'bad-avro');
  });

  it('random byte flips never escape as untyped errors', async () => {
    const p = generateZtfPacket({seed: 8, cutoutBytes: 200, prvCandidates: 3});
    const d = createDecoder();
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 300; k++) {
      const b = Buffer.from(p.bytes);
      for (let j = 0; j < 3; j++)
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        await d.decode(b);
      } catch (e) {
        assert.ok(isAlertError(e), `flip ${k}: untyped ${String(e)}`);
      }
    }
  });

  it('an over-long varint in a long field is bad-avro, not an engine error', async () => {
    const p = generateLsstPacket({seed: 3});
    // diaSourceId (a long) starts at byte 5: 200 continuation bytes, then the end.
    const b = Buffer.concat([
      p.bytes.subarray(0, 5),
      Buffer.alloc(200, 0x80),
      Buffer.from([0x01]),
      p.bytes.subarray(6),
    ]);
    await withSchemaDir(async dir => {
      const e = await failure(b, dir);
      assert.equal(e.code, 'bad-avro');
      assert.match(e.message, /malformed long: a varint of 201 bytes/);
    });
  });

  it('trailing bytes after a Confluent record are bad-avro', async () => {
    const p = generateLsstPacket({seed: 2});
    const {mkdtemp} = await import('node:fs/promises');
    const {tmpdir} = await import('node:os');
    const {writeLsstSchemaDir} = await import('../../helpers');
    const dir = await mkdtemp(`${tmpdir()}/schemas-`);
    await writeLsstSchemaDir(dir);
    const e = await failure(
      Buffer.concat([p.bytes, Buffer.from([1, 2, 3])]),
      dir,
    );
    assert.equal(e.code, 'bad-avro');
  });
});
