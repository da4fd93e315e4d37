/**
 * Reading a subscription's quarantine
 * (`{subscriptionsCollection}/{subscription}/{quarantineCollection}`),
 * newest first by `time`, ties by document id descending, in pages with an
 * opaque cursor. Only the listed fields are read: a quarantine document
 * keeps up to 256 KiB of the original bytes, which a list never needs.
 *
 * The query (`orderBy time desc, __name__ desc`) is served by the automatic
 * single-field index on `time`.
 */

import {
  FieldPath,
  Firestore,
  QueryDocumentSnapshot,
  Timestamp,
} from '@google-cloud/firestore';

import type {Config} from '../config';
import {classifyFirestoreError, withTimeout} from './firestore-errors';
import {isValidDocumentId} from './firestore-value';

/** A page position: the last item's time (ns since the epoch) and id. */
export interface QuarantineCursor {
  timeNanos: string;
  id: string;
}

export class InvalidQuarantineCursorError extends Error {
  constructor() {
    super('not a quarantine cursor');
    this.name = 'InvalidQuarantineCursorError';
  }
}

/** The fields a quarantine list reads (not `data`, the original bytes). */
export const QUARANTINE_LIST_FIELDS = [
  'messageId',
  'reason',
  'message',
  'time',
  'dataLength',
  'dataSha256',
  'attributes',
] as const;

const CURSOR_VERSION = 'q1';

export function encodeQuarantineCursor(c: QuarantineCursor): string {
  return Buffer.from(
    JSON.stringify([CURSOR_VERSION, c.timeNanos, c.id]),
    'utf8',
  ).toString('base64url');
}

/** Throws {@link InvalidQuarantineCursorError} on anything encode did not make. */
export function decodeQuarantineCursor(text: string): QuarantineCursor {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(text)) {
    throw new InvalidQuarantineCursorError();
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidQuarantineCursorError();
  }
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    v[0] !== CURSOR_VERSION ||
    typeof v[1] !== 'string' ||
    !/^(0|[1-9][0-9]{0,20})$/.test(v[1]) ||
    typeof v[2] !== 'string' ||
    !isValidDocumentId(v[2])
  ) {
    throw new InvalidQuarantineCursorError();
  }
  return {timeNanos: v[1], id: v[2]};
}

const NS_PER_S = 1_000_000_000n;

function timestampOfNanos(nanos: string): Timestamp {
  const n = BigInt(nanos);
  return new Timestamp(Number(n / NS_PER_S), Number(n % NS_PER_S));
}

function nanosOf(t: unknown): string | null {
  if (!(t instanceof Timestamp)) return null;
  return (BigInt(t.seconds) * NS_PER_S + BigInt(t.nanoseconds)).toString();
}

export interface QuarantineListQuery {
  subscription: string;
  /** 1..500, validated by the caller. */
  limit: number;
  after?: QuarantineCursor | null;
}

export async function listQuarantine(
  firestore: Firestore,
  config: Pick<Config, 'subscriptionsCollection' | 'quarantineCollection'>,
  q: QuarantineListQuery,
  opts: {timeoutMs?: number} = {},
): Promise<{docs: QueryDocumentSnapshot[]; next: QuarantineCursor | null}> {
  let query = firestore
    .collection(config.subscriptionsCollection)
    .doc(q.subscription)
    .collection(config.quarantineCollection)
    .select(...QUARANTINE_LIST_FIELDS)
    .orderBy('time', 'desc')
    .orderBy(FieldPath.documentId(), 'desc');
  if (q.after) {
    query = query.startAfter(timestampOfNanos(q.after.timeNanos), q.after.id);
  }
  let snap;
  try {
    snap = await withTimeout(
      query.limit(q.limit + 1).get(),
      opts.timeoutMs ?? 15_000,
      'a quarantine list',
    );
  } catch (e) {
    throw classifyFirestoreError(e, {subscription: q.subscription});
  }
  const docs = snap.docs.slice(0, q.limit);
  const last = docs[docs.length - 1];
  const timeNanos = last ? nanosOf(last.get('time')) : null;
  const next =
    snap.docs.length > q.limit && last && timeNanos !== null
      ? {timeNanos, id: last.id}
      : null;
  return {docs, next};
}
