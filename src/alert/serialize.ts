/**
 * JSON-safe views of alerts: for the CLI, logs and anything that needs plain
 * JSON. bigints become exact decimal strings, bytes become base64 (or their
 * length), non-finite numbers become null.
 */

import {Alert} from './model';

/** The normalized fields of an alert, without cutouts or the raw record. */
export type AlertSummary = Omit<Alert, 'cutouts' | 'record'>;

export function alertSummary(a: Alert): AlertSummary {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const {cutouts, record, ...summary} = a;
  return summary;
}

export interface JsonSafeOptions {
  /** How to write bytes: base64 text (default) or their length in bytes. */
  bytes?: 'base64' | 'length';
}

/** A deep copy of `value` that JSON.stringify writes without loss or error. */
export function toJsonSafe(
  value: unknown,
  opts: JsonSafeOptions = {},
): unknown {
  const asLength = opts.bytes === 'length';
  const walk = (v: unknown): unknown => {
    if (v === null || v === undefined) return null;
    switch (typeof v) {
      case 'bigint':
        return v.toString();
      case 'number':
        return Number.isFinite(v) ? v : null;
      case 'string':
      case 'boolean':
        return v;
      case 'object':
        if (v instanceof Uint8Array) {
          return asLength
            ? v.length
            : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString(
                'base64',
              );
        }
        if (Array.isArray(v)) return v.map(walk);
        {
          const out: Record<string, unknown> = {};
          for (const k of Object.keys(v))
            out[k] = walk((v as Record<string, unknown>)[k]);
          return out;
        }
      default:
        return null;
    }
  };
  return walk(value);
}

/**
 * `value` as JSON text, exactly: bigints as decimal strings, bytes as
 * base64, non-finite numbers and `undefined` in arrays as null. The same
 * JSON as `JSON.stringify(toJsonSafe(value))` in one pass, without the copy.
 */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value ?? null, jsonSafeReplacer);
}

function jsonSafeReplacer(this: unknown, key: string, value: unknown): unknown {
  // Most values are numbers and strings: one typeof for them (ingest writes
  // the histories, thousands of values per ZTF alert, through here).
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (value instanceof Uint8Array) return base64(value);
  // A Buffer reaches a replacer already turned into {type, data} by toJSON.
  if ((value as {type?: unknown}).type === 'Buffer') {
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) return base64(raw);
  }
  return value;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'base64',
  );
}
