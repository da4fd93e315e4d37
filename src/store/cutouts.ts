/**
 * The three stamps of an alert (science, template, difference), as the
 * packet carries them: ZTF `cutoutX.stampData` (gzipped FITS), LSST
 * `cutoutX` (bytes). Where they are stored is the deployment's choice
 * (config CUTOUTS, ./layout.ts): `separate` (the default), a cutouts
 * document beside the alert at
 * `{subscriptions}/{subscription}/{cutouts}/{alertDocumentId(sourceId)}`
 * with the fields `{sourceId, objectId, science, template, difference,
 * expireAt}`, written in the same commit as the alert; `inline`, in the
 * alert document's `record` as in the packet; `drop`, nowhere. The alert
 * document lists the stamps it has (`cutouts`) and says where they are
 * (`cutoutsStored`). {@link readCutout} finds the bytes wherever they are.
 */

import type {Firestore, Timestamp} from '@google-cloud/firestore';

import {PermanentError} from '../errors';
import {documentSize} from './firestore-value';
import {
  checkDocumentIds,
  CUTOUT_KINDS,
  CutoutKind,
  StoreLayoutConfig,
} from './layout';

/** The record field of each kind (the same name in ZTF and LSST packets). */
export const CUTOUT_FIELDS: Record<CutoutKind, string> = {
  science: 'cutoutScience',
  template: 'cutoutTemplate',
  difference: 'cutoutDifference',
};

function bytesOf(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) {
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return undefined;
}

/**
 * The stamps of a decoded record (or of a stored `record` map, which has the
 * same shape): ZTF `{fileName, stampData}` maps or LSST bytes. Absent or
 * null stamps are left out. The buffers are views, not copies.
 */
export function extractCutouts(
  record: Record<string, unknown>,
): Partial<Record<CutoutKind, Buffer>> {
  const out: Partial<Record<CutoutKind, Buffer>> = {};
  for (const kind of CUTOUT_KINDS) {
    const v = record[CUTOUT_FIELDS[kind]];
    const bytes =
      bytesOf(v) ??
      (v && typeof v === 'object'
        ? bytesOf((v as {stampData?: unknown}).stampData)
        : undefined);
    if (bytes !== undefined) out[kind] = bytes;
  }
  return out;
}

/** Collection ids are at most 100 characters (config): an upper bound. */
const COLLECTION_ID_BOUND = 'x'.repeat(100);

export interface CutoutsDocument {
  /** Plain data for `DocumentReference.create()`. */
  data: Record<string, unknown>;
  /** Estimated stored size (Firestore's documented rules). */
  sizeBytes: number;
}

export interface SeparateCutouts {
  /** The document to write beside the alert; null when no stamp is left. */
  document: CutoutsDocument | null;
  /** The kinds it holds. */
  kinds: CutoutKind[];
  /** Kinds dropped to stay under the size bound. */
  dropped: CutoutKind[];
}

/**
 * Pure: the cutouts document of an alert (none when it has no stamp).
 * Above `maxBytes` (a stamp can be large: the schemas do not bound it) the
 * largest stamps are left out until it fits, and listed in `dropped`.
 */
export function toCutoutsDocument(
  ids: {subscription: string; sourceId: string; objectId: string},
  stamps: Partial<Record<CutoutKind, Buffer>>,
  expireAt: Timestamp | null,
  maxBytes: number,
): SeparateCutouts {
  const documentId = checkDocumentIds(ids.subscription, ids.sourceId);
  const kinds = CUTOUT_KINDS.filter(k => stamps[k] !== undefined);
  if (kinds.length === 0) return {document: null, kinds: [], dropped: []};
  const data: Record<string, unknown> = {
    sourceId: ids.sourceId,
    objectId: ids.objectId,
    science: stamps.science ?? null,
    template: stamps.template ?? null,
    difference: stamps.difference ?? null,
    expireAt,
  };
  const path = [
    COLLECTION_ID_BOUND,
    ids.subscription,
    COLLECTION_ID_BOUND,
    documentId,
  ];
  const dropped: CutoutKind[] = [];
  let size = documentSize(path, data);
  while (size > maxBytes) {
    const largest = kinds
      .filter(k => data[k] !== null)
      .sort((a, b) => stamps[b]!.length - stamps[a]!.length)[0];
    if (largest === undefined) break;
    data[largest] = null;
    dropped.push(largest);
    size = documentSize(path, data);
  }
  const kept = kinds.filter(k => data[k] !== null);
  return {
    document: kept.length ? {data, sizeBytes: size} : null,
    kinds: kept,
    dropped,
  };
}

/**
 * The original bytes of one stamp of a stored alert, wherever the
 * deployment keeps them (a cutouts document, or inline in the alert's
 * record); null when the alert or the stamp is not stored. One read when the
 * cutouts document exists, two otherwise (the second reads only the
 * alert's `cutoutsStored` and cutout fields).
 */
export async function readCutout(
  firestore: Firestore,
  config: StoreLayoutConfig,
  subscription: string,
  sourceId: string,
  kind: CutoutKind,
): Promise<Buffer | null> {
  if (!(CUTOUT_KINDS as readonly string[]).includes(kind)) {
    throw new PermanentError(
      'bad-request',
      `unknown cutout "${String(kind).slice(0, 40)}" (one of ${CUTOUT_KINDS.join(', ')})`,
    );
  }
  const id = checkDocumentIds(subscription, sourceId);
  const sub = firestore
    .collection(config.subscriptionsCollection)
    .doc(subscription);
  const separate = await sub.collection(config.cutoutsCollection).doc(id).get();
  if (separate.exists) return bytesOf(separate.get(kind)) ?? null;
  const field = CUTOUT_FIELDS[kind];
  const [alert] = await firestore.getAll(
    sub.collection(config.alertsCollection).doc(id),
    {fieldMask: ['cutoutsStored', `record.${field}`]},
  );
  if (!alert.exists) return null;
  const record = (alert.get('record') ?? {}) as Record<string, unknown>;
  return extractCutouts(record)[kind] ?? null;
}
