/**
 * Decoded records (ZTF, LSST) → the normalized {@link Alert}. The survey is
 * recognized from the record's shape, not from the payload format.
 *
 * ZTF: objectId, candid → sourceId, candidate.{ra,dec,jd,magpsf,sigmapsf,
 * fid,classtar}, schemavsn; nPrevious = entries of prv_candidates that are
 * detections (non-null candid), 0 when the history is null or empty.
 *
 * LSST: objectId = diaObject.diaObjectId, else diaSource.diaObjectId, else
 * diaSource.ssObjectId / ssSource.ssObjectId / ssObject.ssObjectId (0 counts
 * as absent); sourceId = diaSource.diaSourceId (else the top-level
 * diaSourceId / alertId); time from diaSource.midpointMjdTai (jd = mjd +
 * 2400000.5); mag = -2.5 log10(psfFlux [nJy]) + 31.4 (null when flux <= 0),
 * magErr = 2.5/ln(10) * psfFluxErr/psfFlux; band = diaSource.band (or
 * filterName); nPrevious = prvDiaSources.length, else diaObject.nDiaSources - 1,
 * else null.
 */

import {PermanentError} from '../errors';
import {Alert, Band, Cutout, Cutouts, PayloadFormat} from './model';

type Rec = Record<string, unknown>;

const BANDS = new Set<string>(['u', 'g', 'r', 'i', 'z', 'y']);
const ZTF_FID: Record<number, Band> = {1: 'g', 2: 'r', 3: 'i'};
export const JD_MJD_OFFSET = 2400000.5;
const MAG_ERR_FACTOR = 2.5 / Math.LN10;

/** A finite number, or null (NaN, ±Infinity, null, non-numbers). */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

/** An exact id string from a bigint / integer / non-empty string; null otherwise. */
export function idString(v: unknown): string | null {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : null;
  if (typeof v === 'string' && v !== '') return v;
  return null;
}

function obj(v: unknown): Rec | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
    ? (v as Rec)
    : undefined;
}

export function bandOfFid(fid: unknown): Band | null {
  return typeof fid === 'number' ? (ZTF_FID[fid] ?? null) : null;
}

export function bandOf(v: unknown): Band | null {
  return typeof v === 'string' && BANDS.has(v) ? (v as Band) : null;
}

/** AB magnitude of a flux in nJy; null when the flux is not positive. */
export function magOfFlux(flux: number | null): number | null {
  return flux !== null && flux > 0 ? -2.5 * Math.log10(flux) + 31.4 : null;
}

function ztfCutout(v: unknown): Cutout | undefined {
  const c = obj(v);
  if (!c || !Buffer.isBuffer(c.stampData)) return undefined;
  return {
    fileName: typeof c.fileName === 'string' ? c.fileName : null,
    data: c.stampData,
  };
}

function invalid(why: string, details: Rec = {}): PermanentError {
  return new PermanentError('invalid-alert', why, details);
}

export function isZtfRecord(r: Rec): boolean {
  return 'candidate' in r && 'objectId' in r;
}

export function isLsstRecord(r: Rec): boolean {
  return 'diaSource' in r;
}

export function normalizeZtf(r: Rec, format: PayloadFormat): Alert {
  const c = obj(r.candidate) ?? {};
  const objectId = idString(r.objectId);
  const sourceId = idString(r.candid) ?? idString(c.candid);
  if (!objectId || !sourceId) {
    throw invalid(`ZTF alert without ${objectId ? 'candid' : 'objectId'}`, {
      objectId,
      sourceId,
    });
  }
  const jd = num(c.jd);
  let nPrevious = 0;
  const prv = r.prv_candidates;
  if (Array.isArray(prv)) {
    for (const p of prv) {
      const pc = obj(p);
      if (pc && pc.candid !== null && pc.candid !== undefined) nPrevious++;
    }
  }
  const cutouts: Cutouts = {};
  const sci = ztfCutout(r.cutoutScience);
  if (sci) cutouts.science = sci;
  const tpl = ztfCutout(r.cutoutTemplate);
  if (tpl) cutouts.template = tpl;
  const dif = ztfCutout(r.cutoutDifference);
  if (dif) cutouts.difference = dif;
  return {
    survey: 'ztf',
    format,
    schemaVersion: typeof r.schemavsn === 'string' ? r.schemavsn : 'unknown',
    objectId,
    sourceId,
    ra: num(c.ra),
    dec: num(c.dec),
    jd,
    mjd: jd === null ? null : jd - JD_MJD_OFFSET,
    mag: num(c.magpsf),
    magErr: num(c.sigmapsf),
    band: bandOfFid(c.fid),
    nPrevious,
    classtar: num(c.classtar),
    cutouts,
    record: r,
  };
}

function nonZeroId(v: unknown): string | null {
  const s = idString(v);
  return s === null || s === '0' ? null : s;
}

export function normalizeLsst(
  r: Rec,
  format: PayloadFormat,
  schemaVersion: string,
): Alert {
  const src = obj(r.diaSource) ?? {};
  const dobj = obj(r.diaObject);
  const objectId =
    nonZeroId(dobj?.diaObjectId) ??
    nonZeroId(src.diaObjectId) ??
    nonZeroId(src.ssObjectId) ??
    nonZeroId(obj(r.ssSource)?.ssObjectId) ??
    nonZeroId(obj(r.ssObject)?.ssObjectId);
  const sourceId =
    idString(src.diaSourceId) ?? idString(r.diaSourceId) ?? idString(r.alertId);
  if (!objectId || !sourceId) {
    throw invalid(
      `LSST alert without ${objectId ? 'diaSourceId' : 'diaObjectId or ssObjectId'}`,
      {objectId, sourceId},
    );
  }
  const mjd = num(src.midpointMjdTai) ?? num(src.midPointTai);
  const flux = num(src.psfFlux);
  const fluxErr = num(src.psfFluxErr);
  const mag = magOfFlux(flux);
  let nPrevious: number | null = null;
  if (Array.isArray(r.prvDiaSources)) nPrevious = r.prvDiaSources.length;
  else if (dobj && typeof dobj.nDiaSources === 'number') {
    nPrevious = Math.max(0, dobj.nDiaSources - 1);
  }
  const cutouts: Cutouts = {};
  if (Buffer.isBuffer(r.cutoutScience)) {
    cutouts.science = {fileName: null, data: r.cutoutScience};
  }
  if (Buffer.isBuffer(r.cutoutTemplate)) {
    cutouts.template = {fileName: null, data: r.cutoutTemplate};
  }
  if (Buffer.isBuffer(r.cutoutDifference)) {
    cutouts.difference = {fileName: null, data: r.cutoutDifference};
  }
  return {
    survey: 'lsst',
    format,
    schemaVersion,
    objectId,
    sourceId,
    ra: num(src.ra),
    dec: num(src.dec) ?? num(src.decl),
    jd: mjd === null ? null : mjd + JD_MJD_OFFSET,
    mjd,
    mag,
    magErr:
      mag !== null && fluxErr !== null && flux !== null
        ? (MAG_ERR_FACTOR * fluxErr) / flux
        : null,
    band: bandOf(src.band) ?? bandOf(src.filterName),
    nPrevious,
    classtar: null,
    cutouts,
    record: r,
  };
}

/** Normalizes an Avro record of either survey (recognized by its shape). */
export function normalizeRecord(
  value: unknown,
  format: PayloadFormat,
  lsstVersion?: string,
): Alert {
  const r = obj(value);
  if (r && isZtfRecord(r)) return normalizeZtf(r, format);
  if (r && isLsstRecord(r)) {
    return normalizeLsst(r, format, lsstVersion ?? 'unknown');
  }
  throw invalid(
    'record is neither a ZTF alert (objectId + candidate) nor an LSST alert (diaSource)',
    {fields: r ? Object.keys(r).slice(0, 20) : typeof value},
  );
}
