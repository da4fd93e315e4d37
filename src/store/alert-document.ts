/**
 * Pure: an {@link Alert} plus its Pub/Sub metadata → the Firestore document
 * stored at `{subscriptions}/{subscription}/{alerts}/{alertDocumentId(sourceId)}`
 * (./layout.ts: a scattered id derived from the exact source id).
 *
 * Top-level, queryable fields: objectId, sourceId (the exact decimal id),
 * shard (./layout.ts `alertShard(objectId)`), survey, format,
 * schemaVersion, ra, dec, mag, magErr, band, jd, mjd, classtar, nPrevious,
 * publishTime, ingestTime (Timestamps), subscription, messageId, attributes.
 * `record` is the decoded record without its histories, converted by
 * {@link toFirestoreValue} (bigint → exact decimal string, NaN → null, nested
 * arrays wrapped as `{values: [...]}`). Cutouts (`record.cutout*`) follow
 * `opts.cutouts` (./cutouts.ts): `separate` (default) puts them in a cutouts
 * document written beside the alert in the same commit (`cutouts` of the
 * result), `inline` keeps them as bytes in the record, `drop` removes them;
 * the alert lists the stamps stored (`cutouts`) and the mode
 * (`cutoutsStored`). Other byte fields are kept as bytes. `expireAt` is the
 * ingest time plus the subscription's `retentionDays` (a Timestamp: the
 * Firestore TTL policy deletes the document after it), or null: kept. `histories` holds each history field of the record
 * ({@link HISTORY_FIELDS}: prv_candidates, fp_hists, prvDiaSources, ...) as
 * one JSON text (`toJsonText`: ids as exact decimal strings), under the same
 * name: `JSON.parse(doc.histories.prv_candidates)` is the array. They are
 * ~1,300 of a ZTF alert's ~1,400 values; as separate Firestore fields they
 * cost most of the write's CPU (the client validates and encodes each field)
 * and are neither indexed nor queryable in an array anyway.
 * `tom` holds the injected TOM mapping (null when none is given).
 *
 * Size bound: a document stays under `maxBytes` (default 1 MiB minus a
 * 64 KiB margin) by Firestore's documented size rules. Above it, cutouts are
 * dropped first, then the histories (fp_hists, prvDiaForcedSources,
 * prvDiaNondetectionLimits, prv_candidates, prvDiaSources, prvSources), then
 * the largest remaining record fields, then `tom` and `attributes`.
 * `trimmed` lists what was dropped ('cutouts', 'histories.fp_hists',
 * 'record.candidate', ...): empty for a complete document.
 */

import {Alert} from '../alert/model';
import {toJsonText} from '../alert/serialize';
import {PermanentError} from '../errors';
import {
  documentSize,
  firestoreFieldName,
  safeStringMap,
  stringSize,
  toFirestoreValue,
  toFirestoreValueSized,
  toTimestamp,
} from './firestore-value';
import {Timestamp} from '@google-cloud/firestore';
import {CutoutsDocument, extractCutouts, toCutoutsDocument} from './cutouts';
import {
  alertShard,
  checkDocumentIds,
  CutoutKind,
  CutoutsStorage,
} from './layout';

/** Firestore's maximum document size. */
export const FIRESTORE_MAX_DOCUMENT_BYTES = 1_048_576;
/** Default bound on a stored alert: the limit minus a 64 KiB safety margin. */
export const DEFAULT_MAX_DOCUMENT_BYTES = FIRESTORE_MAX_DOCUMENT_BYTES - 65_536;

/**
 * The record's history fields, stored as JSON text under `histories` and
 * dropped in this order when a document is too large.
 */
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
  /** The subscription's retention (days); null or absent: kept forever. */
  retentionDays?: number | null;
}

export interface AlertDocumentOptions {
  /** Where the cutouts go. Default 'separate'. */
  cutouts?: CutoutsStorage;
  /** Ingest time; default: now. */
  now?: Date;
  /** TOM mapping of the alert (src/alert/tom.ts), stored under `tom`. */
  tom?: (alert: Alert) => Record<string, unknown>;
  /** Size bound in bytes (documented Firestore rules). */
  maxBytes?: number;
}

export interface AlertDocument {
  subscription: string;
  /** The exact decimal source id (also the `sourceId` field). */
  sourceId: string;
  /** The document id: `alertDocumentId(sourceId)` (./layout.ts). */
  documentId: string;
  /** Plain data for `DocumentReference.create()`. */
  data: Record<string, unknown>;
  /** Estimated stored size of the alert document (Firestore's documented rules). */
  sizeBytes: number;
  /**
   * The cutouts document to create beside it, in the same commit
   * (CUTOUTS=separate and the alert has stamps), else null.
   */
  cutouts: CutoutsDocument | null;
  /** What was dropped to respect the size bound (also in `data.trimmed`). */
  trimmed: string[];
}

/** Bytes of everything the alert's commit writes (alert and cutouts document), for batching. */
export function writeBytes(doc: AlertDocument): number {
  return doc.sizeBytes + (doc.cutouts?.sizeBytes ?? 0);
}

/** Documents the alert's commit writes (1 or 2). */
export function writeCount(doc: AlertDocument): number {
  return doc.cutouts ? 2 : 1;
}

const DAY_MS = 86_400_000;

/** The expiry of a document stored at `now` under a retention (null: never). */
export function expireAtFor(
  now: Date,
  retentionDays: number | null | undefined,
): Timestamp | null {
  if (retentionDays === null || retentionDays === undefined) return null;
  return Timestamp.fromMillis(now.getTime() + retentionDays * DAY_MS);
}

const isCutoutKey = (key: string) => /^cutout/i.test(key);
const HISTORY_KEYS: ReadonlySet<string> = new Set(HISTORY_FIELDS);
const isHistoryKey = (key: string) => HISTORY_KEYS.has(key);

// The id checks belong to the layout; re-exported for the stores.
export {checkDocumentIds, checkSubscriptionName} from './layout';

export function toAlertDocument(
  alert: Alert,
  meta: AlertDocumentMeta,
  opts: AlertDocumentOptions,
): AlertDocument {
  const {subscription} = meta;
  const sourceId = alert.sourceId;
  const documentId = checkDocumentIds(subscription, sourceId);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const mode = opts.cutouts ?? 'separate';
  const now = opts.now ?? new Date();
  const expireAt = expireAtFor(now, meta.retentionDays);

  // The record, converted field by field, its histories as JSON text
  // (top-level sizes, keyed by their path in the document, drive trimming).
  const record: Record<string, unknown> = {};
  const histories: Record<string, string> = {};
  const fieldSizes = new Map<string, number>();
  for (const [key, value] of Object.entries(alert.record)) {
    if (isHistoryKey(key)) {
      const text = toJsonText(value);
      histories[key] = text;
      fieldSizes.set(`histories.${key}`, stringSize(key) + stringSize(text));
      continue;
    }
    if (isCutoutKey(key) && mode !== 'inline') continue;
    const converted = toFirestoreValueSized(value);
    if (converted.value === undefined) continue;
    const name = firestoreFieldName(key);
    record[name] = converted.value;
    fieldSizes.set(`record.${name}`, stringSize(name) + converted.size);
  }

  const tom = opts.tom ? toFirestoreValue(opts.tom(alert)) : null;
  const trimmed: string[] = [];
  const stamps = mode === 'drop' ? {} : extractCutouts(alert.record);
  let stored: CutoutKind[] = [];
  let cutouts: CutoutsDocument | null = null;
  if (mode === 'separate') {
    const separate = toCutoutsDocument(
      {subscription, sourceId, objectId: alert.objectId},
      stamps,
      expireAt,
      maxBytes,
    );
    cutouts = separate.document;
    stored = separate.kinds;
    for (const k of separate.dropped) trimmed.push(`cutouts.${k}`);
  } else if (mode === 'inline') {
    stored = (Object.keys(stamps) as CutoutKind[]).filter(k => stamps[k]);
  }
  const data: Record<string, unknown> = {
    objectId: alert.objectId,
    sourceId,
    shard: alertShard(alert.objectId),
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
    publishTime: toMicroseconds(toTimestamp(meta.publishTime)),
    ingestTime: Timestamp.fromDate(now),
    expireAt,
    cutouts: stored,
    cutoutsStored: mode,
    subscription,
    messageId: meta.messageId ?? null,
    attributes: safeStringMap(meta.attributes),
    tom,
    trimmed,
    record,
    histories,
  };

  // Size of everything but `record`, `histories` and `trimmed`, plus the
  // fields of the first two.
  const path = [
    COLLECTION_ID_BOUND,
    subscription,
    COLLECTION_ID_BOUND,
    documentId,
  ];
  const baseSize = () =>
    documentSize(path, {...data, record: {}, histories: {}, trimmed: []}) -
    stringSize('record') -
    stringSize('histories') -
    stringSize('trimmed');
  let base = baseSize();
  let fieldBytes = 0;
  for (const n of fieldSizes.values()) fieldBytes += n;
  const markerBytes = () =>
    stringSize('trimmed') + trimmed.reduce((n, t) => n + stringSize(t), 0);
  const total = () =>
    base +
    stringSize('record') +
    stringSize('histories') +
    fieldBytes +
    markerBytes();
  /** Drops `record.<name>` or `histories.<name>`. */
  const drop = (field: string) => {
    fieldBytes -= fieldSizes.get(field) ?? 0;
    fieldSizes.delete(field);
    const dot = field.indexOf('.');
    const map = field.slice(0, dot) === 'record' ? record : histories;
    delete map[field.slice(dot + 1)];
  };

  if (total() > maxBytes) {
    // 1. cutouts
    const cutoutPaths = [...fieldSizes.keys()].filter(
      f => f.startsWith('record.') && isCutoutKey(f.slice('record.'.length)),
    );
    if (cutoutPaths.length) {
      cutoutPaths.forEach(drop);
      trimmed.push('cutouts');
      data.cutouts = stored = [];
      base = baseSize();
    }
    // 2. histories, in order
    for (const key of HISTORY_FIELDS) {
      if (total() <= maxBytes) break;
      if (fieldSizes.has(`histories.${key}`)) {
        drop(`histories.${key}`);
        trimmed.push(`histories.${key}`);
      }
    }
    // 3. the largest remaining fields
    while (total() > maxBytes && fieldSizes.size > 0) {
      const [largest] = [...fieldSizes.entries()].sort((a, b) => b[1] - a[1]);
      drop(largest[0]);
      trimmed.push(largest[0]);
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
  return {
    subscription,
    sourceId,
    documentId,
    data,
    sizeBytes: total(),
    cutouts,
    trimmed,
  };
}

/**
 * Truncated to the microsecond, as Firestore stores timestamps: the read
 * side's cursors (./alert-query.ts) carry microseconds and must meet the
 * stored value exactly, on the emulator too.
 */
function toMicroseconds(t: Timestamp | null): Timestamp | null {
  if (t === null) return null;
  return new Timestamp(t.seconds, t.nanoseconds - (t.nanoseconds % 1000));
}

function finite(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}
