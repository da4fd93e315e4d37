/**
 * The storage layout's keys, in one place: every writer and every reader
 * (ingest, pull harness, CLI `query`, read API, explorer) derives document
 * ids and shards through these functions, never from the source id directly.
 *
 * - Alert documents live at
 *   `{subscriptions}/{subscription}/{alerts}/{alertDocumentId(sourceId)}`.
 *   The id is deterministic (so `create()` stays the exactly-once
 *   precondition and a lookup by source id is one read) and scattered over
 *   the key space (Firestore's best practices: monotonically increasing ids
 *   hotspot; `candid` / `diaSourceId` grow with time and share long prefixes
 *   within an exposure). It is 16 hex digits of SHA-256 of the exact decimal
 *   source id, a `-`, then the source id itself: uniform in its leading
 *   characters, unique by construction, readable in the console.
 * - Each alert carries a small integer `shard` in [0, ALERT_SHARDS), derived
 *   from its object id, which leads the composite indexes of time-ordered
 *   queries: a monotonically increasing indexed value (publishTime, jd) then
 *   grows in ALERT_SHARDS separate key ranges, each under Firestore's ~500
 *   writes/s per sequential range. Deriving it from the object id keeps an
 *   object's light curve in one shard (one query); time-ordered queries over
 *   a subscription fan out over the shards and merge.
 * - The cutouts of an alert (when stored separately) live beside it, at
 *   `{subscriptions}/{subscription}/{cutouts}/{alertDocumentId(sourceId)}`.
 */

import {createHash} from 'node:crypto';

import type {Config} from '../config';
import {PermanentError} from '../errors';
import {isValidDocumentId} from './firestore-value';

/** The collection names a reader or writer of the layout needs. */
export type StoreLayoutConfig = Pick<
  Config,
  'subscriptionsCollection' | 'alertsCollection' | 'cutoutsCollection'
>;

/** Shards of the time-ordered indexes: 8 × ~500 writes/s of headroom. */
export const ALERT_SHARDS = 8;

/** The three stamps of an alert, by their names in the read API. */
export const CUTOUT_KINDS = ['science', 'template', 'difference'] as const;
export type CutoutKind = (typeof CUTOUT_KINDS)[number];

/** Where an alert's cutouts are stored (config CUTOUTS: separate, inline, drop). */
export {CUTOUTS_STORAGE} from '../config';
export type {CutoutsStorage} from '../config';

const HASH_HEX_DIGITS = 16;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The alert document id of an exact decimal source id. */
export function alertDocumentId(sourceId: string): string {
  return `${sha256Hex(sourceId).slice(0, HASH_HEX_DIGITS)}-${sourceId}`;
}

/**
 * The source id of an alert document id made by {@link alertDocumentId}, or
 * null when `id` is not one (e.g. a document stored under the old layout,
 * whose id was the source id itself).
 */
export function sourceIdOfDocumentId(id: string): string | null {
  const dash = HASH_HEX_DIGITS;
  if (id.length <= dash + 1 || id[dash] !== '-') return null;
  const sourceId = id.slice(dash + 1);
  return alertDocumentId(sourceId) === id ? sourceId : null;
}

/** The shard of an object id, in [0, ALERT_SHARDS). */
export function alertShard(objectId: string): number {
  return (
    parseInt(sha256Hex(`shard:${objectId}`).slice(0, 8), 16) % ALERT_SHARDS
  );
}

/** Throws `invalid-name` when a subscription name cannot be a document id. */
export function checkSubscriptionName(subscription: string): void {
  if (!isValidDocumentId(subscription)) {
    throw new PermanentError(
      'invalid-name',
      `subscription "${subscription.slice(0, 200)}" cannot be a Firestore document id`,
    );
  }
}

/**
 * Throws `invalid-name` / `invalid-alert` when the subscription or the
 * alert's document id (made from the source id) cannot be a document id;
 * returns the alert's document id.
 */
export function checkDocumentIds(
  subscription: string,
  sourceId: string,
): string {
  checkSubscriptionName(subscription);
  const documentId = alertDocumentId(sourceId);
  // The source id must be a valid id on its own too (no "__x__" form):
  // readers look alerts up by it, and it stays one path segment of the API.
  if (!isValidDocumentId(sourceId) || !isValidDocumentId(documentId)) {
    throw new PermanentError(
      'invalid-alert',
      `source id "${sourceId.slice(0, 200)}" cannot be part of a Firestore document id`,
      {sourceId: sourceId.slice(0, 200)},
    );
  }
  return documentId;
}
