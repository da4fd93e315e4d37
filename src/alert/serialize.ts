/**
 * JSON-safe views of alerts: for the CLI, logs and anything that needs plain
 * JSON. bigints become exact decimal strings, bytes become base64 (or their
 * length), non-finite numbers become null.
 */

import {Alert, Band, PayloadFormat, Survey} from './model';

/** The normalized fields of an alert, without cutouts or the raw record. */
export interface AlertSummary {
  survey: Survey;
  format: PayloadFormat;
  schemaVersion: string;
  objectId: string;
  sourceId: string;
  ra: number | null;
  dec: number | null;
  jd: number | null;
  mjd: number | null;
  mag: number | null;
  magErr: number | null;
  band: Band | null;
  nPrevious: number | null;
  classtar: number | null;
}

export function alertSummary(a: Alert): AlertSummary {
  return {
    survey: a.survey,
    format: a.format,
    schemaVersion: a.schemaVersion,
    objectId: a.objectId,
    sourceId: a.sourceId,
    ra: a.ra,
    dec: a.dec,
    jd: a.jd,
    mjd: a.mjd,
    mag: a.mag,
    magErr: a.magErr,
    band: a.band,
    nPrevious: a.nPrevious,
    classtar: a.classtar,
  };
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
