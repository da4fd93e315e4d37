/**
 * Quarantine of messages that failed permanently, at
 * `{subscriptionsCollection}/{subscription}/{quarantineCollection}/{id}`.
 * The id is the Pub/Sub message id (or a hash of it when it is not a valid
 * document id; a hash of the payload when there is none), and the write is a
 * create: a redelivered bad message is quarantined once ('duplicate' the
 * next times). The original bytes are kept up to `maxDataBytes` (256 KiB by
 * default) with their full length recorded. `expireAt` is the failure's time
 * plus `retentionDays` (QUARANTINE_RETENTION_DAYS, 30 by default): the
 * deploy's Firestore TTL policy deletes the document after it; null (a
 * retention of 0) keeps it.
 */

import {createHash} from 'node:crypto';

import {Firestore, Timestamp} from '@google-cloud/firestore';

import {Config} from '../config';
import {PermanentError} from '../errors';
import {expireAtFor} from './alert-document';
import {
  ALREADY_EXISTS,
  classifyFirestoreError,
  grpcCode,
  withTimeout,
} from './firestore-errors';
import {
  isValidDocumentId,
  safeStringMap,
  toFirestoreValue,
  valueSize,
} from './firestore-value';

export const DEFAULT_MAX_QUARANTINE_DATA = 256 * 1024;
const MAX_MESSAGE_CHARS = 8 * 1024;
const MAX_DETAILS_BYTES = 64 * 1024;

export interface QuarantineRecord {
  subscription: string;
  messageId?: string;
  /** The failure's reason code (e.g. 'bad-avro'). */
  reason: string;
  /** Human-readable failure message. */
  message: string;
  attributes?: Record<string, string>;
  /** The original message data. */
  data?: Uint8Array;
  /** When it failed; default now. */
  time?: Date;
  publishTime?: string;
  /** Extra structured details (bounded). */
  details?: Record<string, unknown>;
}

export type QuarantineOutcome = 'stored' | 'duplicate';

export interface QuarantineStore {
  quarantine(record: QuarantineRecord): Promise<QuarantineOutcome>;
  /** The quarantine document id for a message. */
  idFor(messageId: string | undefined, data: Uint8Array | undefined): string;
}

const sha256 = (bytes: Uint8Array | string) =>
  createHash('sha256').update(bytes).digest('hex');

/** Document id of a quarantined message (see the module comment). */
export function quarantineDocumentId(
  messageId: string | undefined,
  data: Uint8Array | undefined,
): string {
  if (messageId) {
    return isValidDocumentId(messageId)
      ? messageId
      : `msgid-sha256-${sha256(messageId)}`;
  }
  return `data-sha256-${sha256(data ?? new Uint8Array())}`;
}

export const DEFAULT_QUARANTINE_RETENTION_DAYS = 30;

/** Pure: the quarantine document's data. */
export function toQuarantineDocument(
  record: QuarantineRecord,
  maxDataBytes = DEFAULT_MAX_QUARANTINE_DATA,
  retentionDays = DEFAULT_QUARANTINE_RETENTION_DAYS,
): Record<string, unknown> {
  const time = record.time ?? new Date();
  const data = record.data ?? new Uint8Array();
  const kept = Buffer.from(
    data.buffer,
    data.byteOffset,
    Math.min(data.byteLength, maxDataBytes),
  );
  let details = record.details ? toFirestoreValue(record.details) : null;
  if (details !== null && valueSize(details) > MAX_DETAILS_BYTES) {
    details = {dropped: 'details exceeded 64 KiB'};
  }
  return {
    subscription: record.subscription,
    messageId: record.messageId ?? null,
    reason: record.reason,
    message: record.message.slice(0, MAX_MESSAGE_CHARS),
    attributes: safeStringMap(record.attributes),
    data: kept,
    dataLength: data.byteLength,
    dataTruncated: kept.byteLength < data.byteLength,
    dataSha256: sha256(data),
    publishTime: record.publishTime ?? null,
    time: Timestamp.fromDate(time),
    expireAt: expireAtFor(time, retentionDays > 0 ? retentionDays : null),
    details,
  };
}

export function createQuarantineStore(
  firestore: Firestore,
  config: Pick<Config, 'subscriptionsCollection' | 'quarantineCollection'>,
  options: {
    timeoutMs?: number;
    maxDataBytes?: number;
    /** Days before a quarantine document expires; 0: never. Default 30. */
    retentionDays?: number;
  } = {},
): QuarantineStore {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    idFor: quarantineDocumentId,
    async quarantine(record) {
      if (!isValidDocumentId(record.subscription)) {
        throw new PermanentError(
          'invalid-name',
          `subscription "${record.subscription.slice(0, 200)}" cannot be a Firestore document id`,
        );
      }
      const id = quarantineDocumentId(record.messageId, record.data);
      const ref = firestore
        .collection(config.subscriptionsCollection)
        .doc(record.subscription)
        .collection(config.quarantineCollection)
        .doc(id);
      try {
        await withTimeout(
          ref.create(
            toQuarantineDocument(
              record,
              options.maxDataBytes,
              options.retentionDays,
            ),
          ),
          timeoutMs,
          'a quarantine write',
        );
        return 'stored';
      } catch (e) {
        if (grpcCode(e) === ALREADY_EXISTS) return 'duplicate';
        throw classifyFirestoreError(e, {
          subscription: record.subscription,
          quarantineId: id,
        });
      }
    },
  };
}
