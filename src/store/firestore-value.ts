/**
 * Pure helpers: turn decoded alert data into values Firestore accepts, and
 * estimate a document's stored size with Firestore's documented rules.
 *
 * Conversion rules (see {@link toFirestoreValue}):
 * - `bigint` → exact decimal string (Avro longs: ids above 2^53).
 * - NaN / ±Infinity → null; `undefined` → dropped from maps, null in arrays.
 * - Buffer / Uint8Array → Firestore bytes (a Buffer).
 * - Nested arrays (Firestore rejects an array directly inside an array): an
 *   inner array becomes a map `{values: [...]}`, recursively. `[[1, 2], [3]]`
 *   is stored as `[{values: [1, 2]}, {values: [3]}]`.
 * - Objects of any prototype (avsc record instances) → plain maps.
 * - Date and Firestore Timestamp are kept; functions and symbols dropped.
 */

import {Timestamp} from '@google-cloud/firestore';

/** Field name of the map that wraps an array nested in an array. */
export const NESTED_ARRAY_FIELD = 'values';

/**
 * A map key as a Firestore field name: Firestore refuses empty names and
 * reserves `__.*__` (a message attribute or a lite JSON key such as `__x__`
 * or `__proto__` would make the whole write fail, forever). Those keys are
 * stored with a `~` prefix (`~__x__`, `~`); every other key is kept as is.
 */
export function firestoreFieldName(key: string): string {
  return key === '' || (key.startsWith('__') && /^__.*__$/s.test(key))
    ? `~${key}`
    : key;
}

/** A map of strings (message attributes) with Firestore-safe keys. */
export function safeStringMap(
  map: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!map) return out;
  for (const k of Object.keys(map)) {
    Object.defineProperty(out, firestoreFieldName(k), {
      value: map[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export function toFirestoreValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value;
  }
  if (value instanceof Timestamp) return value;
  if (Array.isArray(value)) return convertArray(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as object)) {
    const c = toFirestoreValue(v);
    if (c !== undefined) out[firestoreFieldName(k)] = c;
  }
  return out;
}

function convertArray(values: unknown[]): unknown[] {
  return values.map(v => {
    if (Array.isArray(v)) return {[NESTED_ARRAY_FIELD]: convertArray(v)};
    const c = toFirestoreValue(v);
    return c === undefined ? null : c;
  });
}

/** UTF-8 length of a string (what Firestore counts), + 1 per the size rules. */
export function stringSize(s: string): number {
  return Buffer.byteLength(s, 'utf8') + 1;
}

/** Sizes of map keys, which repeat from alert to alert (bounded). */
const keySizes = new Map<string, number>();
const KEY_SIZE_CACHE_LIMIT = 10_000;

function keySize(k: string): number {
  let n = keySizes.get(k);
  if (n === undefined) {
    n = stringSize(k);
    if (keySizes.size < KEY_SIZE_CACHE_LIMIT) keySizes.set(k, n);
  }
  return n;
}

/** The converted value and its {@link valueSize}. */
export interface SizedValue {
  value: unknown;
  size: number;
}

/**
 * `toFirestoreValue(value)` and `valueSize` of the result in one walk of
 * the value (what toAlertDocument needs for every record field: two walks
 * of a ZTF record's ~1,400 fields cost ~0.7 ms an alert, this one ~0.2 ms).
 * Same result as the two calls, exactly.
 */
export function toFirestoreValueSized(value: unknown): SizedValue {
  const acc = {size: 0};
  const converted = convertSized(value, acc);
  return {value: converted, size: converted === undefined ? 0 : acc.size};
}

function convertSized(value: unknown, acc: {size: number}): unknown {
  switch (typeof value) {
    case 'string':
      acc.size += stringSize(value);
      return value;
    case 'boolean':
      acc.size += 1;
      return value;
    case 'number':
      if (Number.isFinite(value)) {
        acc.size += 8;
        return value;
      }
      acc.size += 1;
      return null;
    case 'bigint': {
      const s = value.toString();
      acc.size += s.length + 1; // ASCII digits
      return s;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) {
    acc.size += 1;
    return null;
  }
  if (Array.isArray(value)) return convertArraySized(value, acc);
  if (Buffer.isBuffer(value)) {
    acc.size += value.byteLength;
    return value;
  }
  if (value instanceof Uint8Array) {
    acc.size += value.byteLength;
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      acc.size += 1;
      return null;
    }
    acc.size += 8;
    return value;
  }
  if (value instanceof Timestamp) {
    acc.size += 8;
    return value;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value as object);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const before = acc.size;
    const c = convertSized((value as Record<string, unknown>)[k], acc);
    if (c === undefined) {
      acc.size = before;
      continue;
    }
    const name = firestoreFieldName(k);
    out[name] = c;
    acc.size += keySize(name);
  }
  return out;
}

function convertArraySized(values: unknown[], acc: {size: number}): unknown[] {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    if (!(i in values)) continue; // a hole stays a hole, as with map()
    const v = values[i];
    if (Array.isArray(v)) {
      acc.size += keySize(NESTED_ARRAY_FIELD);
      out[i] = {[NESTED_ARRAY_FIELD]: convertArraySized(v, acc)};
      continue;
    }
    const c = convertSized(v, acc);
    if (c === undefined) {
      acc.size += 1; // null
      out[i] = null;
    } else {
      out[i] = c;
    }
  }
  return out;
}

/**
 * Stored size of a converted value, by Firestore's documented rules: string
 * = UTF-8 bytes + 1, number/integer/timestamp = 8, boolean/null = 1, bytes =
 * length, array = sum of its elements, map = sum of (key size + value size).
 */
export function valueSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringSize(value);
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'undefined':
      return 0;
  }
  if (value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Date || value instanceof Timestamp) return 8;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += valueSize(v);
    return n;
  }
  if (typeof value === 'object') return mapSize(value as object);
  return 0;
}

export function mapSize(map: object): number {
  let n = 0;
  for (const [k, v] of Object.entries(map)) {
    if (v !== undefined) n += stringSize(k) + valueSize(v);
  }
  return n;
}

/**
 * Size of a document name: each collection id and document id of the path
 * (as UTF-8 + 1) plus 16.
 */
export function documentNameSize(pathSegments: string[]): number {
  return pathSegments.reduce((n, s) => n + stringSize(s), 16);
}

/** Stored size of a whole document: name + fields + 32. */
export function documentSize(
  pathSegments: string[],
  data: Record<string, unknown>,
): number {
  return documentNameSize(pathSegments) + mapSize(data) + 32;
}

/**
 * Firestore's document id rules: non-empty, at most 1500 UTF-8 bytes, no
 * '/', not '.' or '..', not matching `__.*__`.
 */
export function isValidDocumentId(id: string): boolean {
  return (
    id.length > 0 &&
    Buffer.byteLength(id, 'utf8') <= 1500 &&
    !id.includes('/') &&
    id !== '.' &&
    id !== '..' &&
    !/^__.*__$/.test(id)
  );
}

const RFC3339 =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A Firestore Timestamp from an RFC 3339 time (Pub/Sub's publishTime, with
 * up to nanosecond precision) or a Date; null when absent or unparseable.
 */
export function toTimestamp(time: string | Date | undefined): Timestamp | null {
  if (time === undefined) return null;
  if (time instanceof Date) {
    return Number.isNaN(time.getTime()) ? null : Timestamp.fromDate(time);
  }
  const m = RFC3339.exec(time.trim());
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3].toUpperCase()}`);
  if (Number.isNaN(ms)) return null;
  const nanos = m[2] ? Number(m[2].padEnd(9, '0')) : 0;
  return new Timestamp(Math.floor(ms / 1000), nanos);
}
