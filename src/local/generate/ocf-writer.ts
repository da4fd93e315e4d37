/** Writes Avro Object Container Files (for fixtures): header, blocks, sync markers, codecs null/deflate. */

import {deflateRawSync} from 'node:zlib';

import * as avro from 'avsc';

import {bigIntToVarint} from '../../alert/avro-types';

function varint(n: number): Buffer {
  return bigIntToVarint(BigInt(n));
}

function avroString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([varint(b.length), b]);
}

export interface OcfWriteOptions {
  codec?: 'null' | 'deflate';
  /** 16 bytes; default: all 0x5a. */
  sync?: Buffer;
  /** Records per block (default: all in one block). */
  recordsPerBlock?: number;
  /** Extra metadata entries. */
  meta?: Record<string, string | Buffer>;
}

/** The header bytes: magic, metadata map, sync marker. */
export function ocfHeader(
  schemaText: string,
  codec: string,
  sync: Buffer,
  meta: Record<string, string | Buffer> = {},
): Buffer {
  const entries: Array<[string, string | Buffer]> = [
    ['avro.codec', codec],
    ['avro.schema', schemaText],
    ...Object.entries(meta),
  ];
  const parts: Buffer[] = [
    Buffer.from('Obj\x01', 'latin1'),
    varint(entries.length),
  ];
  for (const [k, v] of entries) parts.push(avroString(k), avroString(v));
  parts.push(varint(0), sync);
  return Buffer.concat(parts);
}

export function writeOcf(
  type: avro.Type,
  schemaText: string,
  records: unknown[],
  opts: OcfWriteOptions = {},
): Buffer {
  const codec = opts.codec ?? 'null';
  const sync = opts.sync ?? Buffer.alloc(16, 0x5a);
  const per = Math.max(1, opts.recordsPerBlock ?? records.length);
  const parts: Buffer[] = [ocfHeader(schemaText, codec, sync, opts.meta)];
  for (let i = 0; i < records.length; i += per) {
    const chunk = records.slice(i, i + per);
    let data = Buffer.concat(chunk.map(r => type.toBuffer(r)));
    if (codec === 'deflate') data = deflateRawSync(data);
    parts.push(varint(chunk.length), varint(data.length), data, sync);
  }
  return Buffer.concat(parts);
}
