/**
 * Pure: an alert's light curve (detections and upper limits) from its own
 * record and histories. Accepts the record as decoded by src/alert (Avro
 * longs as bigint, histories inside the record) and as read back from
 * Firestore (ids as decimal strings, histories in a separate map parsed
 * from the stored JSON text of `histories`): a history given in `histories`
 * wins over the record's field of the same name.
 *
 * Times are MJD (ZTF: jd − 2400000.5; LSST: midpointMjdTai). Entries without
 * a finite time, or without a magnitude and a limit, are left out (nothing
 * to draw). Ids are exact decimal strings. Both lists are sorted by time; a
 * detection whose source id was already seen (the alert's own source in its
 * history) is kept once.
 *
 * ZTF: the candidate (origin 'alert') and `prv_candidates` (origin
 * 'history'): an entry with a finite `magpsf` is a detection (magErr =
 * sigmapsf); one without (a non-detection: null candid and magpsf) is an
 * upper limit at `diffmaglim`. `magpsf` of a negative difference
 * (isdiffpos 'f') is the magnitude of the absolute difference flux, as ZTF
 * publishes it. `fp_hists` (schema 4.02 forced photometry, origin 'forced'):
 * entries with `procstatus` '0' (or none) and a finite flux, uncertainty and
 * zero point; with the difference flux F and its uncertainty σ in DN and
 * the zero point ZP (`magzpsci`): a detection when |F|/σ ≥ 3, mag = ZP −
 * 2.5 log10|F| (the |F| convention of magpsf, so forced and alert points of
 * the same epoch agree), magErr = 1.0857 σ/|F|; otherwise an upper limit at
 * ZP − 2.5 log10(5σ), added only when the history has no entry of the same
 * epoch and band (the history's limit at diffmaglim already stands there).
 * The null sentinel of ZTF forced photometry (flux −99999) is left out.
 *
 * LSST: `diaSource` (origin 'alert'), `prvDiaSources` ('history') and
 * `prvDiaForcedSources` ('forced'), fluxes `psfFlux` ± `psfFluxErr` in nJy →
 * AB magnitude −2.5 log10(F) + 31.4, magErr = 1.0857 σ/F. A DIA source with
 * F > 0 is a detection; with F ≤ 0 an upper limit at the 5σ flux −2.5
 * log10(5σ) + 31.4 (left out without σ). A forced source is a detection when
 * F > 0 and F/σ ≥ 3 (or σ is missing), else the same 5σ upper limit.
 * `prvDiaNondetectionLimits` (schemas 7.x: `diaNoise`, the 1σ noise in nJy)
 * are upper limits at −2.5 log10(5 diaNoise) + 31.4.
 */

import {Band} from './model';
import {bandOf, bandOfFid, idString, JD_MJD_OFFSET, num} from './normalize';

export type DetectionOrigin = 'alert' | 'history' | 'forced';

export interface Detection {
  mjd: number;
  band: Band | null;
  mag: number;
  /** null when the packet has no uncertainty. */
  magErr: number | null;
  /** candid / diaSourceId / diaForcedSourceId; null for ZTF forced photometry. */
  sourceId: string | null;
  origin: DetectionOrigin;
}

export interface UpperLimit {
  mjd: number;
  band: Band | null;
  limitMag: number;
}

export interface LightCurve {
  detections: Detection[];
  upperLimits: UpperLimit[];
}

/** Histories by field name, as parsed from the stored JSON text (null: none). */
export type Histories = Readonly<Record<string, readonly unknown[] | null>>;

type Rec = Record<string, unknown>;

/** 2.5 / ln 10: σ_mag = MAG_ERR_FACTOR σ_F / F. */
export const MAG_ERR_FACTOR = 2.5 / Math.LN10;
/** AB zero point of a flux in nJy. */
export const NJY_AB_ZERO_POINT = 31.4;
/** Forced photometry: a detection from this signal-to-noise ratio on. */
export const FORCED_DETECTION_SNR = 3;
/** Upper limits are at this many σ of the flux. */
export const LIMIT_SIGMA = 5;
/** ZTF forced photometry's null value of a flux. */
const ZTF_FP_NULL = -99999;

function obj(v: unknown): Rec | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Rec)
    : null;
}

/** The history `name`: from `histories` when present there, else the record's field. */
function history(record: Rec, histories: Histories, name: string): unknown[] {
  const v = Object.prototype.hasOwnProperty.call(histories, name)
    ? histories[name]
    : record[name];
  return Array.isArray(v) ? v : [];
}

const abMag = (fluxNjy: number) =>
  -2.5 * Math.log10(fluxNjy) + NJY_AB_ZERO_POINT;

class Builder {
  readonly detections: Detection[] = [];
  readonly upperLimits: UpperLimit[] = [];
  private readonly seen = new Set<string>();

  detection(d: Detection): void {
    if (!Number.isFinite(d.mag)) return;
    if (d.sourceId !== null) {
      if (this.seen.has(d.sourceId)) return;
      this.seen.add(d.sourceId);
    }
    this.detections.push(d);
  }

  limit(l: UpperLimit): void {
    if (Number.isFinite(l.limitMag)) this.upperLimits.push(l);
  }

  done(): LightCurve {
    this.detections.sort((a, b) => a.mjd - b.mjd);
    this.upperLimits.sort((a, b) => a.mjd - b.mjd);
    return {detections: this.detections, upperLimits: this.upperLimits};
  }
}

function ztfEntry(
  b: Builder,
  e: Rec,
  origin: DetectionOrigin,
  sourceId: string | null,
): void {
  const jd = num(e.jd);
  if (jd === null) return;
  const mjd = jd - JD_MJD_OFFSET;
  const band = bandOfFid(e.fid);
  const mag = num(e.magpsf);
  if (mag !== null) {
    b.detection({mjd, band, mag, magErr: num(e.sigmapsf), sourceId, origin});
    return;
  }
  const limitMag = num(e.diffmaglim);
  if (limitMag !== null) b.limit({mjd, band, limitMag});
}

const epochKey = (mjd: number, band: Band | null) =>
  `${Math.round(mjd * 1e6)}:${band}`;

function ztfForced(b: Builder, fp: unknown[], epochs: Set<string>): void {
  for (const item of fp) {
    const e = obj(item);
    if (!e) continue;
    const status = e.procstatus;
    if (status !== null && status !== undefined && String(status) !== '0') {
      continue;
    }
    const jd = num(e.jd);
    const flux = num(e.forcediffimflux);
    const sigma = num(e.forcediffimfluxunc);
    const zp = num(e.magzpsci);
    if (jd === null || flux === null || sigma === null || zp === null) continue;
    if (flux <= ZTF_FP_NULL || !(sigma > 0)) continue;
    const mjd = jd - JD_MJD_OFFSET;
    const band = bandOfFid(e.fid);
    const abs = Math.abs(flux);
    if (abs / sigma >= FORCED_DETECTION_SNR) {
      b.detection({
        mjd,
        band,
        mag: zp - 2.5 * Math.log10(abs),
        magErr: (MAG_ERR_FACTOR * sigma) / abs,
        sourceId: null,
        origin: 'forced',
      });
    } else if (!epochs.has(epochKey(mjd, band))) {
      b.limit({
        mjd,
        band,
        limitMag: zp - 2.5 * Math.log10(LIMIT_SIGMA * sigma),
      });
    }
  }
}

function ztfLightCurve(record: Rec, histories: Histories): LightCurve {
  const b = new Builder();
  const candidate = obj(record.candidate);
  if (candidate) {
    const id = idString(record.candid) ?? idString(candidate.candid);
    ztfEntry(b, candidate, 'alert', id);
  }
  const epochs = new Set<string>();
  for (const item of history(record, histories, 'prv_candidates')) {
    const e = obj(item);
    if (!e) continue;
    ztfEntry(b, e, 'history', idString(e.candid));
    const jd = num(e.jd);
    if (jd !== null) epochs.add(epochKey(jd - JD_MJD_OFFSET, bandOfFid(e.fid)));
  }
  ztfForced(b, history(record, histories, 'fp_hists'), epochs);
  return b.done();
}

function lsstTime(e: Rec): number | null {
  return num(e.midpointMjdTai) ?? num(e.midPointTai);
}

function lsstBand(e: Rec): Band | null {
  return bandOf(e.band) ?? bandOf(e.filterName);
}

function lsstFlux(
  b: Builder,
  e: Rec,
  origin: DetectionOrigin,
  sourceId: string | null,
): void {
  const mjd = lsstTime(e);
  const flux = num(e.psfFlux);
  if (mjd === null || flux === null) return;
  const sigma = num(e.psfFluxErr);
  const band = lsstBand(e);
  const enough =
    origin !== 'forced' ||
    sigma === null ||
    !(sigma > 0) ||
    flux / sigma >= FORCED_DETECTION_SNR;
  if (flux > 0 && enough) {
    b.detection({
      mjd,
      band,
      mag: abMag(flux),
      magErr: sigma === null ? null : (MAG_ERR_FACTOR * sigma) / flux,
      sourceId,
      origin,
    });
  } else if (sigma !== null && sigma > 0) {
    b.limit({mjd, band, limitMag: abMag(LIMIT_SIGMA * sigma)});
  }
}

function lsstLightCurve(record: Rec, histories: Histories): LightCurve {
  const b = new Builder();
  const src = obj(record.diaSource);
  if (src) {
    const id =
      idString(src.diaSourceId) ??
      idString(record.diaSourceId) ??
      idString(record.alertId);
    lsstFlux(b, src, 'alert', id);
  }
  for (const item of history(record, histories, 'prvDiaSources')) {
    const e = obj(item);
    if (e) lsstFlux(b, e, 'history', idString(e.diaSourceId));
  }
  for (const item of history(record, histories, 'prvDiaForcedSources')) {
    const e = obj(item);
    if (e) lsstFlux(b, e, 'forced', idString(e.diaForcedSourceId));
  }
  for (const item of history(record, histories, 'prvDiaNondetectionLimits')) {
    const e = obj(item);
    if (!e) continue;
    const mjd = lsstTime(e);
    const noise = num(e.diaNoise);
    if (mjd === null || noise === null || !(noise > 0)) continue;
    b.limit({mjd, band: lsstBand(e), limitMag: abMag(LIMIT_SIGMA * noise)});
  }
  return b.done();
}

/**
 * The light curve of one alert from its record and histories (see the
 * module comment for the rules). Pure; never throws on odd data (a field of
 * the wrong type is treated as absent).
 */
export function lightCurve(
  survey: 'ztf' | 'lsst',
  record: Record<string, unknown>,
  histories: Histories = {},
): LightCurve {
  return survey === 'ztf'
    ? ztfLightCurve(record, histories)
    : lsstLightCurve(record, histories);
}
