/**
 * Lite JSON alerts (`ztf-lite`, `ztf-tagged`, `ztf-SuperNNova`).
 *
 * Parsing: integers beyond 2^53 stay exact (`bigint`, via lossless-json);
 * bare `NaN`, `Infinity`, `-Infinity` tokens (written by Python) become null.
 *
 * Shapes (assumptions, documented because the lite schema is not published):
 * - older: `{"alertIds": {...}, "source": {...}, "prvSources": [...], "xmatch": {...}}`
 *   with ZTF names inside `source` (objectId, candid, jd, ra, dec, magpsf,
 *   sigmapsf, fid, classtar, ...) and ids in `alertIds` (objectId, candid or
 *   sourceId);
 * - newer: `{"alert_lite": {...}}` whose content is either the older shape or
 *   a flat dict with the same names;
 * - LSST-named lite alerts (diaObjectId / diaSourceId, midpointMjdTai,
 *   psfFlux, band) are recognized as survey `lsst`;
 * - a full ZTF alert serialized as JSON (objectId + candidate) is accepted too.
 * Each field is looked up in `alertIds`, then `source`, then the top level;
 * missing fields are null. No object id or no source id → `invalid-alert`.
 * `schemaVersion` is 'lite'.
 */

import {parse} from 'lossless-json';

import {errorMessage, PermanentError, previewBytes} from '../errors';
import {Alert} from './model';
import {
  bandOf,
  bandOfFid,
  idString,
  isZtfRecord,
  JD_MJD_OFFSET,
  magOfFlux,
  normalizeZtf,
  num,
} from './normalize';

type Rec = Record<string, unknown>;

/** Matches a JSON string (left alone) or a bare non-finite token (replaced by null). */
const NON_FINITE = /"(?:[^"\\]|\\.)*"|-?\bInfinity\b|\bNaN\b/g;

function parseNumber(s: string): unknown {
  if (/^-?\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : BigInt(s);
  }
  return Number(s);
}

/** Parses JSON text with exact 64-bit integers and NaN/Infinity → null. Throws PermanentError `bad-json`. */
export function parseLosslessJson(text: string): unknown {
  const clean =
    text.includes('NaN') || text.includes('Infinity')
      ? text.replace(NON_FINITE, m => (m[0] === '"' ? m : 'null'))
      : text;
  try {
    return parse(clean, null, parseNumber);
  } catch (e) {
    throw new PermanentError(
      'bad-json',
      `invalid JSON alert: ${errorMessage(e)}`,
      {},
      {cause: e},
    );
  }
}

function obj(v: unknown): Rec | undefined {
  return v && typeof v === 'object' && !Array.isArray(v)
    ? (v as Rec)
    : undefined;
}

export function decodeLiteJson(bytes: Buffer): Alert[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes);
  } catch (e) {
    throw new PermanentError(
      'bad-json',
      `JSON alert is not valid UTF-8: ${previewBytes(bytes)}`,
      {},
      {cause: e},
    );
  }
  const parsed = parseLosslessJson(text);
  const top = obj(parsed);
  if (!top) {
    throw new PermanentError(
      'bad-json',
      `JSON alert is not an object: ${previewBytes(bytes)}`,
    );
  }
  return [normalizeLite(top)];
}

/** Normalizes a parsed lite JSON alert (either shape). */
export function normalizeLite(top: Rec): Alert {
  const inner = obj(top.alert_lite) ?? top;
  if (isZtfRecord(inner) && obj(inner.candidate)) {
    return normalizeZtf(inner, 'json');
  }
  const ids = obj(inner.alertIds) ?? {};
  const source = obj(inner.source) ?? {};
  const scopes = [ids, source, inner];
  const get = (...names: string[]): unknown => {
    for (const n of names) {
      for (const s of scopes) {
        const v = s[n];
        if (v !== undefined && v !== null) return v;
      }
    }
    return null;
  };
  const lsst =
    get('diaSourceId', 'diaObjectId') !== null && get('candid') === null;
  const objectId = idString(
    lsst ? get('diaObjectId', 'ssObjectId', 'objectId') : get('objectId'),
  );
  const sourceId = idString(
    lsst ? get('diaSourceId', 'sourceId') : get('candid', 'sourceId'),
  );
  if (!objectId || !sourceId) {
    throw new PermanentError(
      'invalid-alert',
      `lite JSON alert without ${objectId ? 'a source id (candid)' : 'an objectId'}`,
      {objectId, sourceId, keys: Object.keys(inner).slice(0, 20)},
    );
  }
  let jd = num(get('jd'));
  let mjd = num(get('mjd', 'midpointMjdTai'));
  if (jd === null && mjd !== null) jd = mjd + JD_MJD_OFFSET;
  if (mjd === null && jd !== null) mjd = jd - JD_MJD_OFFSET;
  let mag = num(get('magpsf', 'mag'));
  let magErr = num(get('sigmapsf', 'magErr'));
  if (mag === null) {
    const flux = num(get('psfFlux'));
    const fluxErr = num(get('psfFluxErr'));
    mag = magOfFlux(flux);
    magErr =
      mag !== null && flux !== null && fluxErr !== null
        ? ((2.5 / Math.LN10) * fluxErr) / flux
        : null;
  }
  const prv = inner.prvSources ?? inner.prv_candidates ?? inner.prvDiaSources;
  let nPrevious: number | null = null;
  if (Array.isArray(prv)) {
    nPrevious = prv.filter(p => {
      const o = obj(p);
      return (
        !o || !('candid' in o) || (o.candid !== null && o.candid !== undefined)
      );
    }).length;
  }
  return {
    survey: lsst ? 'lsst' : 'ztf',
    format: 'json',
    schemaVersion: 'lite',
    objectId,
    sourceId,
    ra: num(get('ra')),
    dec: num(get('dec')),
    jd,
    mjd,
    mag,
    magErr,
    band: bandOfFid(get('fid')) ?? bandOf(get('band')),
    nPrevious,
    classtar: num(get('classtar')),
    cutouts: {},
    record: top,
  };
}
