/**
 * Building avsc types from writer schemas, safely and once.
 *
 * - `long` decodes to `bigint` (ZTF `candid` and LSST ids exceed 2^53).
 * - Invalid union defaults (`["float","null"]` with `default: null`, as in
 *   real ZTF schemas) are dropped before building the type. Defaults do not
 *   matter when reading with the writer schema; union branches are never
 *   reordered (the branch index is in the data).
 * - Array and map reads are guarded: a hostile block count cannot make the
 *   decoder loop or allocate beyond what the remaining bytes could hold.
 * - Every avsc failure becomes a typed {@link PermanentError}.
 */

import {createHash} from 'node:crypto';

import * as avro from 'avsc';

import {errorMessage, PermanentError} from '../errors';

/** Largest number of array/map items accepted for item types that can encode in zero bytes. */
const MAX_ZERO_SIZE_ITEMS = 1_000_000;

/** Decodes an Avro zigzag varint (given as its raw bytes) to a bigint. */
export function varintToBigInt(buf: Buffer): bigint {
  const len = buf.length;
  if (len > 10) {
    // A 64-bit long takes at most 10 bytes: corrupt data (and past ~150
    // bytes the arithmetic below would no longer be finite).
    throw new PermanentError(
      'bad-avro',
      `malformed long: a varint of ${len} bytes (at most 10)`,
    );
  }
  if (len <= 7) {
    // Up to 49 bits: exact in a double.
    let n = 0;
    let f = 1;
    for (let i = 0; i < len; i++) {
      n += (buf[i] & 0x7f) * f;
      f *= 128;
    }
    return BigInt(n % 2 ? -(n + 1) / 2 : n / 2);
  }
  let lo = 0;
  let i = 0;
  for (; i < 4; i++) lo |= (buf[i] & 0x7f) << (7 * i);
  let hi = 0;
  let f = 1;
  for (; i < len; i++) {
    hi += (buf[i] & 0x7f) * f;
    f *= 128;
  }
  const zz = (BigInt(hi) << 28n) | BigInt(lo >>> 0);
  return (zz >> 1n) ^ -(zz & 1n);
}

/** Encodes a bigint as an Avro zigzag varint. */
export function bigIntToVarint(value: bigint): Buffer {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (zz >= 0x80n) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return Buffer.from(out);
}

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new TypeError(`not a 64-bit integer: ${String(v)}`);
}

/** avsc `long` that reads and writes `bigint` (accepts numbers and digit strings when writing JSON defaults). */
export const BIGINT_LONG: avro.Type = avro.types.LongType.__with(
  {
    fromBuffer: (buf: Buffer) => varintToBigInt(buf),
    toBuffer: (n: bigint) => bigIntToVarint(n),
    fromJSON: (v: unknown) => toBigInt(v),
    toJSON: (n: bigint) =>
      n >= BigInt(Number.MIN_SAFE_INTEGER) &&
      n <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(n)
        : n.toString(),
    isValid: (n: unknown) =>
      typeof n === 'bigint' && n === BigInt.asIntN(64, n),
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  },
  true,
);

type Json = unknown;

function typeName(t: Json): string | undefined {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && !Array.isArray(t)) {
    const n = (t as {type?: unknown}).type;
    return typeof n === 'string' ? n : undefined;
  }
  return undefined;
}

/**
 * Returns a copy of `schema` in which union field defaults that do not match
 * the union's first branch are removed. Branch order is kept.
 */
export function repairSchema(schema: Json): Json {
  const walk = (s: Json): Json => {
    if (Array.isArray(s)) return s.map(walk);
    if (!s || typeof s !== 'object') return s;
    const o = {...(s as Record<string, unknown>)};
    if (o.type === 'record' || o.type === 'error') {
      if (Array.isArray(o.fields)) {
        o.fields = o.fields.map((f: unknown) => {
          if (!f || typeof f !== 'object') return f;
          const field = {...(f as Record<string, unknown>)};
          field.type = walk(field.type);
          if ('default' in field && Array.isArray(field.type)) {
            const first = typeName(field.type[0]);
            const isNull = field.default === null;
            if (isNull !== (first === 'null')) delete field.default;
          }
          return field;
        });
      }
    } else if (o.type === 'array') {
      o.items = walk(o.items);
    } else if (o.type === 'map') {
      o.values = walk(o.values);
    } else if (o.type && typeof o.type === 'object') {
      o.type = walk(o.type);
    }
    return o;
  };
  return walk(schema);
}

/** Removes every field default (last resort when a schema still has invalid defaults). */
function stripDefaults(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema), (k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && 'default' in v
      ? (() => {
          const c = {...v};
          delete c.default;
          return c;
        })()
      : v,
  );
}

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}

interface InternalType {
  typeName: string;
  itemsType?: InternalType;
  valuesType?: InternalType;
  types?: InternalType[];
  fields?: {type: InternalType}[];
  size?: number;
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

function canBeEmpty(t: InternalType, seen = new Set<InternalType>()): boolean {
  if (seen.has(t)) return false;
  seen.add(t);
  switch (t.typeName) {
    case 'null':
      return true;
    case 'fixed':
      return t.size === 0;
    case 'record':
    case 'error':
      return (t.fields ?? []).every(f => canBeEmpty(f.type, seen));
    default:
      return false;
  }
}

/**
 * A block count that the remaining bytes cannot hold: the data is cut short
 * (or hostile). Reported as `truncated`; inside a complete OCF block the
 * container reader reports it as `bad-avro`.
 */
function tooMany(n: number, tap: Tap, what: string): never {
  throw new PermanentError(
    'truncated',
    `declared ${what} of ${n} items cannot fit in the ${Math.max(0, tap.buf.length - tap.pos)} bytes left`,
    {count: n},
  );
}

const ZERO_SIZE = new WeakMap<InternalType, boolean>();

type TypeCtor = new (schema: unknown, opts: unknown) => InternalType;

/** An array type whose reads refuse block counts that the remaining bytes cannot hold. */
class GuardedArrayType extends (avro.types.ArrayType as unknown as TypeCtor) {
  _read(tap: Tap): unknown {
    const items = this.itemsType!;
    // Computed lazily (a recursive item type is complete only after parsing)
    // and kept aside: avsc freezes its types.
    let zero = ZERO_SIZE.get(items);
    if (zero === undefined) ZERO_SIZE.set(items, (zero = canBeEmpty(items)));
    let val: unknown[] | undefined;
    let i = 0;
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        n = -n;
        tap.skipLong();
      }
      if (zero ? n > MAX_ZERO_SIZE_ITEMS : n > tap.buf.length - tap.pos) {
        tooMany(n, tap, 'array block');
      }
      val = val ?? new Array(n);
      while (n--) val[i++] = items._read(tap);
    }
    return val ?? [];
  }

  /** Skips (a field a reader schema leaves out) with the same guard. */
  _skip(tap: Tap): void {
    const items = this.itemsType!;
    let zero = ZERO_SIZE.get(items);
    if (zero === undefined) ZERO_SIZE.set(items, (zero = canBeEmpty(items)));
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        tap.pos += tap.readLong(); // a block with its size: jump over it
        continue;
      }
      if (zero ? n > MAX_ZERO_SIZE_ITEMS : n > tap.buf.length - tap.pos) {
        tooMany(n, tap, 'array block');
      }
      while (n--) items._skip(tap);
    }
  }
}

/** A map type whose reads refuse block counts that the remaining bytes cannot hold. */
class GuardedMapType extends (avro.types.MapType as unknown as TypeCtor) {
  _read(tap: Tap): unknown {
    const values = this.valuesType!;
    const val: Record<string, unknown> = {};
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        n = -n;
        tap.skipLong();
      }
      // Each entry holds at least its key's length byte.
      if (n > tap.buf.length - tap.pos) tooMany(n, tap, 'map block');
      while (n--) {
        const key = tap.readString();
        val[key] = values._read(tap);
      }
    }
    return val;
  }

  /** Skips (a field a reader schema leaves out) with the same guard. */
  _skip(tap: Tap): void {
    const values = this.valuesType!;
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        tap.pos += tap.readLong();
        continue;
      }
      if (n > tap.buf.length - tap.pos) tooMany(n, tap, 'map block');
      while (n--) {
        tap.skipString();
        values._skip(tap);
      }
    }
  }
}

/**
 * `bytes` read as a view into the decoded buffer instead of a copy (cutouts
 * are ~14 KB each: copying them was most of the allocation per alert). The
 * views share memory with the payload given to the decoder.
 */
class ZeroCopyBytesType extends (avro.types
  .BytesType as unknown as new () => InternalType) {
  _read(tap: Tap): unknown {
    const len = tap.readLong();
    const pos = tap.pos;
    if (len < 0) {
      throw new PermanentError(
        'bad-avro',
        `negative bytes length ${len} at byte ${pos}`,
      );
    }
    tap.pos += len;
    if (tap.pos > tap.buf.length) return undefined;
    return tap.buf.subarray(pos, tap.pos);
  }
}

const ZERO_COPY_BYTES = new ZeroCopyBytesType() as unknown as avro.Type;

function typeHook(schema: unknown, opts: unknown): avro.Type | undefined {
  if (schema === 'bytes') return ZERO_COPY_BYTES;
  if (schema && typeof schema === 'object' && !Array.isArray(schema)) {
    const t = (schema as {type?: unknown}).type;
    if (t === 'bytes' && !('logicalType' in schema)) return ZERO_COPY_BYTES;
    if (t === 'array') {
      return new GuardedArrayType(schema, opts) as unknown as avro.Type;
    }
    if (t === 'map') {
      return new GuardedMapType(schema, opts) as unknown as avro.Type;
    }
  }
  return undefined;
}

/**
 * Builds an avsc type (bigint longs, repaired defaults, guarded collections)
 * from a parsed writer schema. Throws PermanentError `bad-schema`.
 */
export function buildType(schema: Json): avro.Type {
  const opts = () => ({
    registry: {long: BIGINT_LONG} as unknown as {[name: string]: avro.Type},
    wrapUnions: 'never' as const,
    typeHook,
  });
  let type: avro.Type;
  try {
    try {
      type = avro.Type.forSchema(
        repairSchema(schema) as avro.Schema,
        opts() as Partial<avro.ForSchemaOptions>,
      );
    } catch (e) {
      if (!/default/i.test(errorMessage(e))) throw e;
      type = avro.Type.forSchema(
        stripDefaults(schema) as avro.Schema,
        opts() as Partial<avro.ForSchemaOptions>,
      );
    }
  } catch (e) {
    throw new PermanentError(
      'bad-schema',
      `invalid Avro writer schema: ${errorMessage(e)}`,
      {},
      {cause: e},
    );
  }
  SCHEMAS.set(type, schema);
  return type;
}

const SCHEMAS = new WeakMap<avro.Type, Json>();

/** The parsed schema a type was built from by {@link buildType}. */
export function schemaOf(type: avro.Type): Json | undefined {
  return SCHEMAS.get(type);
}

/** Parses schema JSON text and builds its type. Throws PermanentError `bad-schema`. */
export function buildTypeFromText(text: string): avro.Type {
  let schema: Json;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    throw new PermanentError(
      'bad-schema',
      `writer schema is not JSON: ${errorMessage(e)}`,
      {},
      {cause: e},
    );
  }
  return buildType(schema);
}

export function hashSchemaText(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Parsed types by the SHA-256 of their schema text, bounded (least recently
 * built is evicted first). Shared by default across decoders of a process.
 */
export class TypeCache {
  private readonly types = new Map<string, avro.Type>();
  constructor(readonly maxEntries = 256) {}

  /** Number of schemas parsed so far (misses). */
  parses = 0;

  get(schemaText: string | Uint8Array): avro.Type {
    const key = hashSchemaText(schemaText);
    let type = this.types.get(key);
    if (!type) {
      const text =
        typeof schemaText === 'string'
          ? schemaText
          : Buffer.from(schemaText).toString('utf8');
      type = buildTypeFromText(text);
      this.parses++;
      if (this.types.size >= this.maxEntries) {
        const oldest = this.types.keys().next().value;
        if (oldest !== undefined) this.types.delete(oldest);
      }
      this.types.set(key, type);
    }
    return type;
  }

  get size(): number {
    return this.types.size;
  }
}

export const sharedTypeCache = new TypeCache();

/**
 * Decodes one value of `type` from `buf` at `pos`; returns the value and the
 * next offset. Truncation → PermanentError `truncated`; anything else that
 * avsc throws → `bad-avro`.
 */
export function decodeValue(
  type: avro.Type,
  buf: Buffer,
  pos: number,
  what: string,
  resolver?: avro.Resolver,
): {value: unknown; offset: number} {
  let res: {value: unknown; offset: number};
  try {
    res = type.decode(buf, pos, resolver);
  } catch (e) {
    if (e instanceof PermanentError) throw e;
    throw new PermanentError(
      'bad-avro',
      `${what}: invalid Avro data: ${errorMessage(e)}`,
      {},
      {cause: e},
    );
  }
  if (res.offset < 0) {
    throw new PermanentError(
      'truncated',
      `${what}: data ends before the record does (${buf.length - pos} bytes)`,
    );
  }
  return res;
}
