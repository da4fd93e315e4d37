/**
 * Avro Object Container File (the ZTF packet): header read by hand, writer
 * type cached, codecs `null` and `deflate`, every record of every block, each
 * block's 16-byte sync marker checked.
 *
 * Per message the fast path costs one comparison of the header's metadata
 * bytes with the cached ones (a memcmp of ~23 KB, no hashing, no parsing).
 */

import {inflateRawSync} from 'node:zlib';

import * as avro from 'avsc';

import {errorMessage, PermanentError, previewBytes} from '../errors';
import {decodeValue, sharedTypeCache, TypeCache} from './avro-types';
import {summaryReader} from './summary-reader';

export const OCF_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj\x01"

export type OcfCodec = 'null' | 'deflate';

/** More metadata entries than any real header has (ZTF: 2). */
const MAX_META_ENTRIES = 10_000;

/** Largest inflated block accepted (a ZTF block is ~70 KB). */
export const MAX_INFLATED_BLOCK = 64 * 1024 * 1024;

export interface OcfHeader {
  /** Offset just after the metadata map (where the sync marker starts). */
  metaEnd: number;
  /** Offset of the first block. */
  dataStart: number;
  codec: OcfCodec;
  sync: Buffer;
  schemaText: Buffer;
  meta: Map<string, Buffer>;
}

/** Reads a zigzag varint long as a JS number; throws truncated / bad-header. */
export function readVarint(
  buf: Buffer,
  pos: number,
  what: string,
): [number, number] {
  let n = 0;
  let f = 1;
  let b: number;
  let i = pos;
  do {
    if (i >= buf.length) {
      throw new PermanentError(
        'truncated',
        `${what}: data ends inside a length field at byte ${pos}`,
      );
    }
    b = buf[i++];
    n += (b & 0x7f) * f;
    f *= 128;
    if (i - pos > 10) {
      throw new PermanentError(
        'bad-avro',
        `${what}: malformed varint at byte ${pos}`,
      );
    }
  } while (b & 0x80);
  return [n % 2 ? -(n + 1) / 2 : n / 2, i];
}

/** Parses the OCF header. Throws PermanentError (`truncated`, `bad-header`, `unsupported-codec`). */
export function readOcfHeader(buf: Buffer): OcfHeader {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(OCF_MAGIC)) {
    throw new PermanentError(
      'unknown-format',
      `not an Avro container (no "Obj\\x01" magic): ${previewBytes(buf)}`,
    );
  }
  const meta = new Map<string, Buffer>();
  let pos = 4;
  for (;;) {
    let count: number;
    [count, pos] = readVarint(buf, pos, 'container header');
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      [, pos] = readVarint(buf, pos, 'container header');
    }
    if (count > MAX_META_ENTRIES) {
      throw headerError(buf, pos, `declares ${count} metadata entries`);
    }
    for (let i = 0; i < count; i++) {
      let klen: number;
      [klen, pos] = readVarint(buf, pos, 'container header');
      if (klen < 0) throw headerError(buf, pos, `negative key length ${klen}`);
      if (pos + klen > buf.length) throw truncated('container header', buf);
      const key = buf.toString('utf8', pos, pos + klen);
      pos += klen;
      let vlen: number;
      [vlen, pos] = readVarint(buf, pos, 'container header');
      if (vlen < 0) {
        throw headerError(buf, pos, `negative value length ${vlen}`);
      }
      if (pos + vlen > buf.length) throw truncated('container header', buf);
      meta.set(key, buf.subarray(pos, pos + vlen));
      pos += vlen;
    }
  }
  const metaEnd = pos;
  if (metaEnd + 16 > buf.length) throw truncated('container header', buf);
  const schemaText = meta.get('avro.schema');
  if (!schemaText) {
    throw headerError(buf, metaEnd, 'has no avro.schema entry');
  }
  const codecName = meta.get('avro.codec')?.toString('utf8') || 'null';
  if (codecName !== 'null' && codecName !== 'deflate') {
    throw new PermanentError(
      'unsupported-codec',
      `Avro container codec "${codecName}" is not supported (only null and deflate)`,
      {codec: codecName},
    );
  }
  return {
    metaEnd,
    dataStart: metaEnd + 16,
    codec: codecName,
    sync: buf.subarray(metaEnd, metaEnd + 16),
    schemaText,
    meta,
  };
}

function headerError(buf: Buffer, pos: number, why: string): PermanentError {
  return new PermanentError(
    'bad-header',
    `Avro container header ${why} (at byte ${pos}): ${previewBytes(buf)}`,
  );
}

function truncated(what: string, buf: Buffer): PermanentError {
  return new PermanentError(
    'truncated',
    `${what}: data ends early (${buf.length} bytes): ${previewBytes(buf)}`,
    {length: buf.length},
  );
}

interface CachedHeader {
  /** Bytes [0, metaEnd): magic and metadata map (the sync marker differs per file). */
  metaBytes: Buffer;
  codec: OcfCodec;
  type: avro.Type;
}

export interface OcfDecodeResult {
  type: avro.Type;
  records: unknown[];
}

/**
 * Decodes OCF packets. Keeps the last few distinct headers (metadata bytes)
 * so that a repeated writer schema costs one memcmp per message.
 */
export class OcfDecoder {
  private headers: CachedHeader[] = [];

  constructor(
    private readonly types: TypeCache = sharedTypeCache,
    private readonly maxHeaders = 16,
  ) {}

  decode(buf: Buffer): OcfDecodeResult {
    const {type, metaEnd, codec} = this.header(buf);
    return {type, records: readBlocks(buf, metaEnd, codec, type)};
  }

  /**
   * The records without their histories and cutouts (./summary-reader.ts),
   * or undefined when the writer schema has no summary reader.
   */
  decodeSummary(buf: Buffer): OcfDecodeResult | undefined {
    const {type, metaEnd, codec} = this.header(buf);
    const reader = summaryReader(type);
    if (!reader) return undefined;
    return {
      type,
      records: readBlocks(buf, metaEnd, codec, reader.type, reader.resolver),
    };
  }

  private header(buf: Buffer): {
    type: avro.Type;
    metaEnd: number;
    codec: OcfCodec;
  } {
    let metaEnd = -1;
    let codec: OcfCodec = 'null';
    let type: avro.Type | undefined;
    const hs = this.headers;
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      const n = h.metaBytes.length;
      if (buf.length >= n + 16 && buf.compare(h.metaBytes, 0, n, 0, n) === 0) {
        metaEnd = n;
        codec = h.codec;
        type = h.type;
        if (i > 0) {
          hs.splice(i, 1);
          hs.unshift(h);
        }
        break;
      }
    }
    if (!type) {
      const header = readOcfHeader(buf);
      type = this.types.get(header.schemaText);
      metaEnd = header.metaEnd;
      codec = header.codec;
      hs.unshift({
        metaBytes: Buffer.from(buf.subarray(0, metaEnd)),
        codec,
        type,
      });
      if (hs.length > this.maxHeaders) hs.pop();
    }
    return {type, metaEnd, codec};
  }
}

/**
 * Reads all data blocks after the header; checks each sync marker. With a
 * `resolver`, `type` is the reader type it resolves the writer's data into.
 */
export function readBlocks(
  buf: Buffer,
  metaEnd: number,
  codec: OcfCodec,
  type: avro.Type,
  resolver?: avro.Resolver,
): unknown[] {
  const sync = buf.subarray(metaEnd, metaEnd + 16);
  const records: unknown[] = [];
  let pos = metaEnd + 16;
  let block = 0;
  while (pos < buf.length) {
    const what = `container block ${block}`;
    let count: number;
    let size: number;
    [count, pos] = readVarint(buf, pos, what);
    [size, pos] = readVarint(buf, pos, what);
    if (count < 0 || size < 0) {
      throw new PermanentError(
        'bad-avro',
        `${what}: negative record count or size (${count}, ${size})`,
      );
    }
    if (pos + size + 16 > buf.length) {
      throw new PermanentError(
        'truncated',
        `${what}: declares ${size} bytes + sync marker, only ${buf.length - pos} left`,
        {length: buf.length},
      );
    }
    let data = buf.subarray(pos, pos + size);
    pos += size;
    if (buf.compare(sync, 0, 16, pos, pos + 16) !== 0) {
      throw new PermanentError(
        'bad-avro',
        `${what}: sync marker does not match the header's (corrupt or concatenated data)`,
      );
    }
    pos += 16;
    if (codec === 'deflate') data = inflate(data, what);
    if (count > data.length) {
      throw new PermanentError(
        'bad-avro',
        `${what}: declares ${count} records in ${data.length} bytes`,
      );
    }
    let off = 0;
    for (let i = 0; i < count; i++) {
      let r: {value: unknown; offset: number};
      try {
        r = decodeValue(type, data, off, `${what} record ${i}`, resolver);
      } catch (e) {
        // The whole block is present (its sync marker was read): a record
        // that runs past its end is corrupt, not truncated.
        if (e instanceof PermanentError && e.code === 'truncated') {
          throw new PermanentError(
            'bad-avro',
            `${what} record ${i} runs past the end of its block (corrupt data or wrong schema)`,
          );
        }
        throw e;
      }
      records.push(r.value);
      off = r.offset;
    }
    if (off !== data.length) {
      throw new PermanentError(
        'bad-avro',
        `${what}: ${data.length - off} bytes left after its ${count} records`,
      );
    }
    block++;
  }
  if (records.length === 0) {
    throw new PermanentError(
      'truncated',
      `Avro container holds no records (${buf.length} bytes; cut after the header?)`,
      {length: buf.length},
    );
  }
  return records;
}

function inflate(data: Buffer, what: string): Buffer {
  try {
    return inflateRawSync(data, {maxOutputLength: MAX_INFLATED_BLOCK});
  } catch (e) {
    const msg = errorMessage(e);
    const code = /unexpected end/i.test(msg) ? 'truncated' : 'bad-avro';
    throw new PermanentError(
      code,
      `${what}: deflate data is invalid: ${msg}`,
      {},
      {cause: e},
    );
  }
}
