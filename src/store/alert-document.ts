/**
 * Pure: an {@link Alert} plus its Pub/Sub metadata → the Firestore document
 * stored at `{subscriptions}/{subscription}/{alerts}/{sourceId}`.
 *
 * Top-level, queryable fields: objectId, sourceId, survey, format,
 * schemaVersion, ra, dec, mag, magErr, band, jd, mjd, classtar, nPrevious,
 * publishTime, ingestTime (Timestamps), subscription, messageId, attributes.
 * `record` is the full decoded record converted by {@link toFirestoreValue}
 * (bigint → exact decimal string, NaN → null, nested arrays wrapped as
 * `{values: [...]}`); cutouts (`record.cutout*`) are kept as bytes only with
 * `keepCutouts`, otherwise removed. Other byte fields are kept as bytes.
 * `tom` holds the injected TOM mapping (null when none is given).
 *
 * Size bound: a document stays under `maxBytes` (default 1 MiB minus a
 * 64 KiB margin) by Firestore's documented size rules. Above it, cutouts are
 * dropped first, then the histories (fp_hists, prvDiaForcedSources,
 * prvDiaNondetectionLimits, prv_candidates, prvDiaSources, prvSources), then
 * the largest remaining record fields, then `record`, `tom` and `attributes`
 * entirely. `trimmed` lists what was dropped ('cutouts', 'record.fp_hists',
 * ...): empty for a complete document.
 */

import {Alert} from '../alert/model';
import {PermanentError} from '../errors';
import {
  documentSize,
  firestoreFieldName,
  isValidDocumentId,
  safeStringMap,
  stringSize,
  toFirestoreValue,
  toFirestoreValueSized,
  toTimestamp,
} from './firestore-value';
import {Timestamp} from '@google-cloud/firestore';

/** Firestore's maximum document size. */
export const FIRESTORE_MAX_DOCUMENT_BYTES = 1_048_576;
/** Default bound on a stored alert: the limit minus a 64 KiB safety margin. */
export const DEFAULT_MAX_DOCUMENT_BYTES = FIRESTORE_MAX_DOCUMENT_BYTES - 65_536;

/** History fields dropped (in this order) when a document is too large. */
export const HISTORY_FIELDS = [
  'fp_hists',
  'prvDiaForcedSources',
  'prvDiaNondetectionLimits',
  'prv_candidates',
  'prvDiaSources',
  'prvSources',
] as const;

/** Collection ids are at most 100 characters (config): an upper bound. */
const COLLECTION_ID_BOUND = 'x'.repeat(100);

export interface AlertDocumentMeta {
  subscription: string;
  messageId?: string;
  /** RFC 3339 (Pub/Sub `publishTime`) or a Date. */
  publishTime?: string | Date;
  attributes?: Record<string, string>;
}

export interface AlertDocumentOptions {
  keepCutouts: boolean;
  /** Ingest time; default: now. */
  now?: Date;
  /** TOM mapping of the alert (src/alert/tom.ts), stored under `tom`. */
  tom?: (alert: Alert) => Record<string, unknown>;
  /** Size bound in bytes (documented Firestore rules). */
  maxBytes?: number;
}

export interface AlertDocument {
  subscription: string;
  /** The document id: the exact source id. */
  sourceId: string;
  /** Plain data for `DocumentReference.create()`. */
  data: Record<string, unknown>;
  /** Estimated stored size (Firestore's documented rules), for batching. */
  sizeBytes: number;
  /** What was dropped to respect the size bound (also in `data.trimmed`). */
  trimmed: string[];
}

const isCutoutKey = (key: string) => /^cutout/i.test(key);

/** Throws `invalid-name` / `invalid-alert` when an id cannot be a document id. */
export function checkDocumentIds(subscription: string, sourceId: string): void {
  if (!isValidDocumentId(subscription)) {
    throw new PermanentError(
      'invalid-name',
      `subscription "${subscription.slice(0, 200)}" cannot be a Firestore document id`,
    );
  }
  if (!isValidDocumentId(sourceId)) {
    throw new PermanentError(
      'invalid-alert',
      `source id "${sourceId.slice(0, 200)}" cannot be a Firestore document id`,
      {sourceId: sourceId.slice(0, 200)},
    );
  }
}

export function toAlertDocument(
  alert: Alert,
  meta: AlertDocumentMeta,
  opts: AlertDocumentOptions,
): AlertDocument {
  const {subscription} = meta;
  const sourceId = alert.sourceId;
  checkDocumentIds(subscription, sourceId);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;

  // The record, converted field by field (top-level sizes drive trimming).
  const record: Record<string, unknown> = {};
  const fieldSizes = new Map<string, number>();
  for (const [key, value] of Object.entries(alert.record)) {
    if (isCutoutKey(key) && !opts.keepCutouts) continue;
    const converted = toFirestoreValueSized(value);
    if (converted.value === undefined) continue;
    const name = firestoreFieldName(key);
    record[name] = converted.value;
    fieldSizes.set(name, stringSize(name) + converted.size);
  }

  const tom = opts.tom ? toFirestoreValue(opts.tom(alert)) : null;
  const trimmed: string[] = [];
  const data: Record<string, unknown> = {
    objectId: alert.objectId,
    sourceId,
    survey: alert.survey,
    format: alert.format,
    schemaVersion: alert.schemaVersion,
    ra: finite(alert.ra),
    dec: finite(alert.dec),
    mag: finite(alert.mag),
    magErr: finite(alert.magErr),
    band: alert.band,
    jd: finite(alert.jd),
    mjd: finite(alert.mjd),
    classtar: finite(alert.classtar),
    nPrevious: finite(alert.nPrevious),
    publishTime: toTimestamp(meta.publishTime),
    ingestTime: Timestamp.fromDate(opts.now ?? new Date()),
    subscription,
    messageId: meta.messageId ?? null,
    attributes: safeStringMap(meta.attributes),
    tom,
    trimmed,
    record,
  };

  // Size of everything but `record` and `trimmed`, plus the record's fields.
  const path = [
    COLLECTION_ID_BOUND,
    subscription,
    COLLECTION_ID_BOUND,
    sourceId,
  ];
  const baseSize = () =>
    documentSize(path, {...data, record: {}, trimmed: []}) -
    stringSize('record') -
    stringSize('trimmed');
  let base = baseSize();
  let recordBytes = 0;
  for (const n of fieldSizes.values()) recordBytes += n;
  const markerBytes = () =>
    stringSize('trimmed') + trimmed.reduce((n, t) => n + stringSize(t), 0);
  const total = () => base + stringSize('record') + recordBytes + markerBytes();
  const drop = (key: string) => {
    recordBytes -= fieldSizes.get(key) ?? 0;
    fieldSizes.delete(key);
    delete record[key];
  };

  if (total() > maxBytes) {
    // 1. cutouts
    const cutoutKeys = [...fieldSizes.keys()].filter(isCutoutKey);
    if (cutoutKeys.length) {
      cutoutKeys.forEach(drop);
      trimmed.push('cutouts');
    }
    // 2. histories, in order
    for (const key of HISTORY_FIELDS) {
      if (total() <= maxBytes) break;
      if (fieldSizes.has(key)) {
        drop(key);
        trimmed.push(`record.${key}`);
      }
    }
    // 3. the largest remaining record fields
    while (total() > maxBytes && fieldSizes.size > 0) {
      const [largest] = [...fieldSizes.entries()].sort((a, b) => b[1] - a[1]);
      drop(largest[0]);
      trimmed.push(`record.${largest[0]}`);
    }
    // 4. tom, then attributes
    for (const key of ['tom', 'attributes'] as const) {
      if (total() <= maxBytes) break;
      data[key] = key === 'tom' ? null : {};
      trimmed.push(key);
      base = baseSize();
    }
    if (total() > maxBytes) {
      throw new PermanentError(
        'too-large',
        `alert ${sourceId} exceeds ${maxBytes} bytes even without its record`,
        {sourceId, sizeBytes: total()},
      );
    }
  }
  return {subscription, sourceId, data, sizeBytes: total(), trimmed};
}

function finite(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}
