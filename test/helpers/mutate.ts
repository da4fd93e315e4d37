/**
 * Deterministic mutations of packets for fuzzing (same seed, same
 * mutations): bit flips, byte replacements with interesting values,
 * varint extremes, truncations, insertions, deletions and block splices
 * (a range of the same or another packet copied over a range). Offsets are
 * biased towards `hotspots` (where the structure is: a header's end, a
 * record's start) so that mutations do not all land in cutout bytes.
 */

import {zigzagVarint} from './avro-bytes';
import {Random} from '../../src/local/generate/random';

export const MUTATION_KINDS = [
  'bit-flip',
  'byte-replace',
  'varint-extreme',
  'truncate',
  'insert',
  'delete',
  'block-splice',
] as const;

export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  offset: number;
  bytes: Buffer;
  /** e.g. "byte-replace 0xff at 4711". */
  description: string;
}

/** Byte values at the edges of signedness, varint continuation and ASCII. */
export const INTERESTING_BYTES = [
  0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x81, 0x7b, 0x22,
];

/** Varints at the extremes: int32/int53/int64 bounds, -1, an over-long one. */
export const VARINT_EXTREMES: readonly Buffer[] = [
  zigzagVarint(2 ** 31 - 1),
  zigzagVarint(-(2 ** 31)),
  zigzagVarint(2 ** 53),
  zigzagVarint((1n << 63n) - 1n),
  zigzagVarint(-(1n << 63n)),
  zigzagVarint(-1),
  zigzagVarint(2 ** 40),
  Buffer.from([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
  ]),
  Buffer.from([
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
  ]),
];

export interface MutateOptions {
  /** Offsets near which a third of the mutations land (±256 bytes). */
  hotspots?: readonly number[];
  /** Other packets to splice ranges from (default: the input itself). */
  donors?: readonly Buffer[];
  kinds?: readonly MutationKind[];
}

function offset(rng: Random, length: number, hotspots: readonly number[]) {
  if (length === 0) return 0;
  const r = rng.next();
  if (hotspots.length && r < 1 / 3) {
    const h = rng.pick(hotspots) + rng.int(-256, 256);
    return Math.min(length - 1, Math.max(0, h));
  }
  if (r < 0.5) return rng.int(0, Math.min(length - 1, 63)); // the head
  if (r < 0.6) return Math.max(0, length - 1 - rng.int(0, 63)); // the tail
  return rng.int(0, length - 1);
}

/** One mutation of `input` (never modified). */
export function mutate(
  input: Buffer,
  rng: Random,
  opts: MutateOptions = {},
): Mutation {
  const kind = rng.pick(opts.kinds ?? MUTATION_KINDS);
  const hot = opts.hotspots ?? [];
  const at = offset(rng, input.length, hot);
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
  const done = (bytes: Buffer, what: string): Mutation => ({
    kind,
    offset: at,
    bytes,
    description: `${kind} ${what} at ${at}`,
  });
  switch (kind) {
    case 'bit-flip': {
      const b = Buffer.from(input);
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips && b.length; i++) {
        const p = i === 0 ? at : offset(rng, b.length, hot);
        b[p] ^= 1 << rng.int(0, 7);
      }
      return done(b, `${flips} bit(s)`);
    }
    case 'byte-replace': {
      const b = Buffer.from(input);
      const v = rng.bool(0.8) ? rng.pick(INTERESTING_BYTES) : rng.int(0, 255);
      const n = rng.pick([1, 1, 1, 2, 4, 8]);
      b.fill(v, at, Math.min(b.length, at + n));
      return done(b, `${n}x ${hex(v)}`);
    }
    case 'varint-extreme': {
      const v = rng.pick(VARINT_EXTREMES);
      // Overwrite the bytes there (keeps the length unless the varint is longer).
      const b = Buffer.concat([
        input.subarray(0, at),
        v,
        input.subarray(Math.min(input.length, at + rng.int(1, v.length))),
      ]);
      return done(b, `varint ${v.toString('hex')}`);
    }
    case 'truncate':
      return done(Buffer.from(input.subarray(0, at)), `to ${at} bytes`);
    case 'insert': {
      const n = rng.pick([1, 1, 2, 8, 100, 4096]);
      const fill = rng.bool(0.5)
        ? Buffer.alloc(n, rng.pick(INTERESTING_BYTES))
        : rng.bytes(n);
      return done(
        Buffer.concat([input.subarray(0, at), fill, input.subarray(at)]),
        `${n} bytes`,
      );
    }
    case 'delete': {
      const n = rng.pick([1, 1, 2, 8, 100, 4096]);
      return done(
        Buffer.concat([input.subarray(0, at), input.subarray(at + n)]),
        `${n} bytes`,
      );
    }
    case 'block-splice': {
      const donor = rng.pick(opts.donors?.length ? opts.donors : [input]);
      const n = rng.int(1, Math.max(1, Math.min(2048, donor.length)));
      const from = rng.int(0, Math.max(0, donor.length - n));
      const replace = rng.bool(0.5) ? n : rng.int(0, 2 * n);
      return done(
        Buffer.concat([
          input.subarray(0, at),
          donor.subarray(from, from + n),
          input.subarray(Math.min(input.length, at + replace)),
        ]),
        `${n} bytes from ${from} over ${replace}`,
      );
    }
  }
}
