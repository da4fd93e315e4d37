/**
 * Pure: stored documents → the read API's JSON answers (docs/read-api.md).
 * Stored values are converted to plain JSON: Firestore Timestamps to
 * ISO-8601 strings, bytes to base64, ids stay the exact decimal strings they
 * are stored as. Nothing here reads Firestore.
 */

import {Timestamp} from '@google-cloud/firestore';

import {
  GenericAlert,
  LightAlert,
  lighten,
  toGenericAlert,
  TomSource,
} from '../alert/tom';
import type {Histories, LightCurve} from '../alert/light-curve';
import {describeFilter} from '../filter/describe';
import {validateFilter} from '../filter/validate';
import {bandOf} from '../alert/normalize';
import {CUTOUT_KINDS, CutoutKind} from '../store/layout';
import type {StoredDoc, SubscriptionOverview} from './ports';

type Rec = Record<string, unknown>;

const MJD_UNIX_EPOCH = 40587;
const MS_PER_DAY = 86_400_000;

function obj(v: unknown): Rec | undefined {
  return v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array)
    ? (v as Rec)
    : undefined;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** ISO-8601 of a stored time (Timestamp, Date or RFC 3339 text); null otherwise. */
export function isoOf(v: unknown): string | null {
  let d: Date | undefined;
  if (v instanceof Timestamp) d = v.toDate();
  else if (v instanceof Date) d = v;
  else if (typeof v === 'string') d = new Date(v);
  return d && Number.isFinite(d.getTime()) ? d.toISOString() : null;
}

/** ISO-8601 UTC of a modified Julian date (ms precision); null when not finite. */
export function mjdToIso(mjd: unknown): string | null {
  const n = num(mjd);
  if (n === null) return null;
  const d = new Date(Math.round((n - MJD_UNIX_EPOCH) * MS_PER_DAY));
  return Number.isFinite(d.getTime()) ? d.toISOString() : null;
}

/**
 * A stored value as plain JSON: Timestamps → ISO-8601, bytes → base64,
 * bigint → decimal string, non-finite numbers → null, other class
 * instances (references, geo points) → their string form.
 */
export function jsonSafe(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Timestamp || v instanceof Date) return isoOf(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return String(v);
    const out: Rec = {};
    for (const [k, x] of Object.entries(v as Rec)) {
      if (x !== undefined) out[k] = jsonSafe(x);
    }
    return out;
  }
  return null;
}

export type Survey = 'ztf' | 'lsst';

export function surveyOf(data: Rec): Survey {
  return data.survey === 'lsst' ? 'lsst' : 'ztf';
}

/** The default item of the alerts list. */
export interface AlertSummary {
  sourceId: string;
  objectId: string;
  survey: Survey;
  band: string | null;
  mag: number | null;
  magErr: number | null;
  ra: number | null;
  dec: number | null;
  jd: number | null;
  mjd: number | null;
  /** The observation time, from mjd. */
  time: string | null;
  publishTime: string | null;
  ingestTime: string | null;
  /** Survey-specific scores: ZTF classtar, drb, rb, sgscore1; LSST reliability, snr, extendedness. */
  scores: Record<string, number | null>;
  /** The stamps stored for this alert. */
  cutouts: CutoutKind[];
}

function scoresOf(data: Rec): Record<string, number | null> {
  const record = obj(data.record) ?? {};
  if (surveyOf(data) === 'lsst') {
    const src = obj(record.diaSource) ?? {};
    return {
      reliability: num(src.reliability),
      snr: num(src.snr),
      extendedness: num(src.extendedness),
    };
  }
  // A lite JSON record has no `candidate`: its scores are top-level, or
  // under `source` (the older lite layout).
  const c = obj(record.candidate) ?? obj(record.source) ?? record;
  return {
    classtar: num(data.classtar) ?? num(c.classtar),
    drb: num(c.drb),
    rb: num(c.rb),
    sgscore1: num(c.sgscore1),
  };
}

function cutoutsOf(data: Rec): CutoutKind[] {
  const listed = Array.isArray(data.cutouts) ? data.cutouts : [];
  return CUTOUT_KINDS.filter(k => listed.includes(k));
}

export function alertSummary(doc: StoredDoc): AlertSummary {
  const d = doc.data;
  return {
    sourceId: String(d.sourceId ?? ''),
    objectId: String(d.objectId ?? ''),
    survey: surveyOf(d),
    band: str(d.band),
    mag: num(d.mag),
    magErr: num(d.magErr),
    ra: num(d.ra),
    dec: num(d.dec),
    jd: num(d.jd),
    mjd: num(d.mjd),
    time: mjdToIso(d.mjd),
    publishTime: isoOf(d.publishTime),
    ingestTime: isoOf(d.ingestTime),
    scores: scoresOf(d),
    cutouts: cutoutsOf(d),
  };
}

function tomSource(d: Rec): TomSource {
  return {
    survey: surveyOf(d),
    objectId: String(d.objectId ?? ''),
    sourceId: String(d.sourceId ?? ''),
    ra: num(d.ra),
    dec: num(d.dec),
    jd: num(d.jd),
    mag: num(d.mag),
    classtar: num(d.classtar),
  };
}

/** TOM Toolkit's GenericAlert (src/alert/tom.ts) of a stored alert. */
export function genericAlertOf(doc: StoredDoc): GenericAlert {
  return toGenericAlert(tomSource(doc.data));
}

/** tom_pittgoogle's flat "lite" dict (src/alert/tom.ts) of a stored alert. */
export function liteAlertOf(doc: StoredDoc): LightAlert {
  const d = doc.data;
  const attributes = obj(d.attributes) as Record<string, string> | undefined;
  return lighten(tomSource(d), {
    messageId: str(d.messageId) ?? undefined,
    publishTime: isoOf(d.publishTime) ?? undefined,
    attributes,
  });
}

/** Each stored history (JSON text) parsed; null for one that does not parse. */
export function parsedHistories(data: Rec): Record<string, unknown> {
  const out: Rec = {};
  for (const [name, text] of Object.entries(obj(data.histories) ?? {})) {
    if (typeof text !== 'string') continue;
    try {
      out[name] = JSON.parse(text);
    } catch {
      out[name] = null;
    }
  }
  return out;
}

export interface AlertDetail extends AlertSummary {
  record: unknown;
  histories: Record<string, unknown>;
  attributes: unknown;
}

/** `GET /api/subscriptions/{name}/alerts/{sourceId}` → `{alert: ...}`. */
export function alertDetail(doc: StoredDoc): AlertDetail {
  return {
    ...alertSummary(doc),
    record: jsonSafe(doc.data.record ?? {}),
    histories: parsedHistories(doc.data),
    attributes: jsonSafe(doc.data.attributes ?? {}),
  };
}

// --------------------------------------------------------------- objects

/** src/alert/light-curve.ts `lightCurve`, injected. */
export type LightCurveOf = (
  survey: Survey,
  record: Rec,
  histories: Histories,
) => LightCurve;

export interface ObjectAnswer {
  objectId: string;
  survey: Survey;
  alerts: Array<{
    subscription: string;
    sourceId: string;
    mjd: number | null;
    band: string | null;
    mag: number | null;
    magErr: number | null;
  }>;
  lightCurve: LightCurve;
}

function histories(data: Rec): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(parsedHistories(data))) {
    if (Array.isArray(v)) out[k] = v;
  }
  return out;
}

/** The alerts by observation time (stable: ties keep their order). */
function byObservation(docs: readonly StoredDoc[]): StoredDoc[] {
  return [...docs].sort(
    (a, b) => (num(a.data.mjd) ?? -Infinity) - (num(b.data.mjd) ?? -Infinity),
  );
}

/** The newest observed of an object's alerts; null for none. */
export function newestOf(docs: readonly StoredDoc[]): StoredDoc | null {
  return byObservation(docs).pop() ?? null;
}

/**
 * `GET /api/objects/{objectId}`: every stored alert of the object (`docs`,
 * across subscriptions; their summary fields suffice), and the light curve
 * of the newest one's record and histories (`newestDoc`: that alert's whole
 * document, default the one in `docs`), completed with the stored alerts it
 * does not already hold (by source id). Null when there is no stored alert.
 */
export function objectAnswer(
  objectId: string,
  docs: readonly StoredDoc[],
  lightCurveOf: LightCurveOf,
  newestDoc?: StoredDoc | null,
): ObjectAnswer | null {
  if (docs.length === 0) return null;
  const byTime = byObservation(docs);
  const newest = newestDoc ?? byTime[byTime.length - 1];
  const survey = surveyOf(newest.data);
  const curve = lightCurveOf(
    survey,
    obj(newest.data.record) ?? {},
    histories(newest.data),
  );
  const seen = new Set(
    curve.detections.map(d => d.sourceId).filter(s => s !== null),
  );
  const detections = [...curve.detections];
  for (const doc of byTime) {
    const d = doc.data;
    const sourceId = String(d.sourceId ?? '');
    const mjd = num(d.mjd);
    const mag = num(d.mag);
    if (seen.has(sourceId) || mjd === null || mag === null) continue;
    seen.add(sourceId);
    detections.push({
      mjd,
      band: bandOf(d.band),
      mag,
      magErr: num(d.magErr),
      sourceId,
      origin: 'alert',
    });
  }
  detections.sort((a, b) => a.mjd - b.mjd);
  return {
    objectId,
    survey,
    alerts: byTime.map(doc => ({
      subscription: doc.subscription,
      sourceId: String(doc.data.sourceId ?? ''),
      mjd: num(doc.data.mjd),
      band: str(doc.data.band),
      mag: num(doc.data.mag),
      magErr: num(doc.data.magErr),
    })),
    lightCurve: {detections, upperLimits: curve.upperLimits},
  };
}

// ------------------------------------------------- quarantine, subscriptions

export interface QuarantineItem {
  messageId: string | null;
  reason: string | null;
  message: string | null;
  time: string | null;
  /** The original message's size (the stored bytes may be truncated). */
  sizeBytes: number | null;
  sha256: string | null;
  attributes: unknown;
}

export function quarantineItem(doc: StoredDoc): QuarantineItem {
  const d = doc.data;
  return {
    messageId: str(d.messageId),
    reason: str(d.reason),
    message: str(d.message),
    time: isoOf(d.time),
    sizeBytes: num(d.dataLength),
    sha256: str(d.dataSha256),
    attributes: jsonSafe(d.attributes ?? {}),
  };
}

export interface SubscriptionItem {
  name: string;
  topic: string | null;
  filter: unknown;
  filterText: string;
  counts: {alerts: number | null; quarantined: number | null};
  newestAlertTime: string | null;
}

/** The stored filter in words, or why it cannot be (a stored filter that no longer validates). */
export function filterText(filter: unknown): string {
  try {
    return describeFilter(validateFilter(filter));
  } catch (e) {
    return `the stored filter does not validate: ${(e as Error).message}`;
  }
}

export function subscriptionItem(o: SubscriptionOverview): SubscriptionItem {
  return {
    name: o.name,
    topic: o.topic,
    filter: jsonSafe(o.filter),
    filterText: filterText(o.filter),
    counts: o.counts,
    newestAlertTime: o.newestAlertTime ? o.newestAlertTime.toISOString() : null,
  };
}
