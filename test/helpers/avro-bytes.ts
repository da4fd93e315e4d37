/**
 * Byte-level helpers to build hostile Avro packets in tests: zigzag varints,
 * where a record's encoding differs from another's, and varint replacement
 * at an offset (a huge or negative declared length where a real one was).
 */

import type * as avro from 'avsc';

import {readOcfHeader, readVarint} from '../../src/alert/avro-ocf';
import {bigIntToVarint} from '../../src/alert/avro-types';

/** The Avro zigzag varint of `n` (a long: up to 64 bits). */
export function zigzagVarint(n: number | bigint): Buffer {
  return bigIntToVarint(BigInt(n));
}

/** Index of the first byte where `a` and `b` differ (the shorter length if one is a prefix). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Length in bytes of the varint that starts at `pos`. */
export function varintLength(buf: Uint8Array, pos: number): number {
  let i = pos;
  while (i < buf.length && buf[i] & 0x80) i++;
  return i - pos + 1;
}

/** A copy of `buf` where the varint at `pos` is replaced by `value`'s encoding. */
export function replaceVarintAt(
  buf: Uint8Array,
  pos: number,
  value: number | bigint,
): Buffer {
  const b = Buffer.from(buf);
  return Buffer.concat([
    b.subarray(0, pos),
    zigzagVarint(value),
    b.subarray(pos + varintLength(b, pos)),
  ]);
}

/**
 * Offset, in `type.toBuffer(record)`, of the first byte that changes when
 * `change` is applied to a copy of the record: e.g. the length of a string
 * or the item count of an array.
 */
export function encodedOffsetOf<T extends Record<string, unknown>>(
  type: avro.Type,
  record: T,
  change: (copy: T) => T,
): number {
  return firstDifference(
    type.toBuffer(record),
    type.toBuffer(change({...record})),
  );
}

export interface OcfLayout {
  /** Offset of the first block's record count. */
  blockStart: number;
  /** Offset of the first block's size. */
  sizeAt: number;
  /** Offset of the first record of the first block. */
  recordStart: number;
  /** The sync marker. */
  sync: Buffer;
}

/** Where the first data block and record of an OCF packet start. */
export function ocfLayout(bytes: Buffer): OcfLayout {
  const h = readOcfHeader(bytes);
  const [, sizeAt] = readVarint(bytes, h.dataStart, 'block count');
  const [, recordStart] = readVarint(bytes, sizeAt, 'block size');
  return {
    blockStart: h.dataStart,
    sizeAt,
    recordStart,
    sync: Buffer.from(h.sync),
  };
}
