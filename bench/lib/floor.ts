/**
 * bench:push F: the floors the ingest function is measured against — what
 * an ingest handler cannot avoid doing, with nothing of ours in between.
 *
 * - Stored alert: read the push body (the caller's server parses the JSON),
 *   base64 → bytes, a bare avsc decode with the type parsed once, and a bare
 *   Firestore client write of the PREBUILT documents of the same alert (the
 *   function's own document mapping, built at start: the alert and, with
 *   CUTOUTS=separate as deployed, its cutouts document in the same commit),
 *   in the batch shape of the function's write coalescer: the creates queued in one turn of the
 *   event loop go out in one WriteBatch commit of at most 20.
 * - Rejected alert: read the body, base64 → bytes; nothing else.
 *
 * Configured from the environment as a function process is: the Firestore
 * emulator (FIRESTORE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT), FLOOR_N (the
 * bench's N generated packets, seeds 1..N, rebuilt here), FLOOR_SUBSCRIPTION
 * and FLOOR_ROUNDS (the bench posts each alert once per round; the k-th post
 * of an alert is written to subscription `FLOOR_SUBSCRIPTION-k`, with
 * references built here, so that every write is a new document).
 */

import '../../src/store/firestore-require-cache';

import {DocumentReference, Firestore} from '@google-cloud/firestore';
import * as avro from 'avsc';

import {createDecoder} from '../../src/alert';
import {readOcfHeader, readVarint} from '../../src/alert/avro-ocf';
import {sharedTypeCache} from '../../src/alert/avro-types';
import {loadConfig} from '../../src/config';
import {INGEST_DEFAULTS} from '../../src/defaults';
import {createFirestore} from '../../src/functions/context';
import {tuneHeap} from '../../src/functions/heap-tuning';
import {alertDocumentMapper} from '../../src/ingest/firestore-pipeline';
import {generateZtfPacket} from '../../src/local/generate';

tuneHeap(); // the function's V8 flags

export interface PushBody {
  message?: {data?: string};
}

interface Target {
  ref: DocumentReference;
  data: Record<string, unknown>;
  /** The cutouts document beside it (CUTOUTS=separate, the default). */
  cutouts: {ref: DocumentReference; data: Record<string, unknown>} | null;
}

/** One alert's document, with its references in each round's subscription. */
interface Prebuilt {
  byRound: Target[];
  /** Times it was posted: the next post goes to byRound[posted]. */
  posted: number;
}

const config = loadConfig();
const db: Firestore = createFirestore(config);
const subscription = process.env.FLOOR_SUBSCRIPTION ?? 'bench-floor';
/** Rounds posting the same alerts: round k writes to `${subscription}-k`. */
const rounds = Math.max(1, Number(process.env.FLOOR_ROUNDS ?? 1));
const prebuilt = new Map<string, Prebuilt>();
let type: avro.Type | undefined;
let dataStart = 0;

/** Rebuilds the bench's packets and the function's documents of them. */
export async function prepareFloor(): Promise<void> {
  const n = Number(process.env.FLOOR_N ?? 0);
  const decoder = createDecoder();
  const toDocument = alertDocumentMapper(config);
  const collections = Array.from({length: rounds}, (_, k) => {
    const sub = db
      .collection(config.subscriptionsCollection)
      .doc(`${subscription}-${k}`);
    return {
      alerts: sub.collection(config.alertsCollection),
      cutouts: sub.collection(config.cutoutsCollection),
    };
  });
  for (let i = 0; i < n; i++) {
    const bytes = generateZtfPacket({seed: i + 1}).bytes;
    if (!type) {
      const header = readOcfHeader(bytes);
      type = sharedTypeCache.get(header.schemaText);
      dataStart = header.metaEnd + 16;
    }
    for (const alert of await decoder.decode(bytes)) {
      const doc = toDocument(alert, {
        subscription,
        messageId: String(i + 1),
        publishTime: new Date().toISOString(),
        attributes: {},
      });
      const id = doc.documentId;
      prebuilt.set(alert.sourceId, {
        posted: 0,
        byRound: collections.map(c => ({
          ref: c.alerts.doc(id),
          data: doc.data,
          cutouts: doc.cutouts && {
            ref: c.cutouts.doc(id),
            data: doc.cutouts.data,
          },
        })),
      });
    }
  }
}

/** Bare decode: the block's two varints, then the record with the cached type. */
function bareDecode(bytes: Buffer): {candid: bigint} {
  let pos = dataStart;
  [, pos] = readVarint(bytes, pos, 'block');
  [, pos] = readVarint(bytes, pos, 'block');
  return type!.decode(bytes, pos).value as {candid: bigint};
}

let queue: {doc: Target; done: (ok: boolean) => void}[] = [];
let scheduled = false;

function flush() {
  scheduled = false;
  while (queue.length) {
    const items = queue.splice(0, INGEST_DEFAULTS.coalesceCount);
    const batch = db.batch();
    for (const {doc} of items) {
      batch.create(doc.ref, doc.data);
      if (doc.cutouts) batch.create(doc.cutouts.ref, doc.cutouts.data);
    }
    batch.commit().then(
      () => items.forEach(it => it.done(true)),
      () => items.forEach(it => it.done(false)),
    );
  }
  queue = [];
}

/** The stored-alert floor: resolves true when the write committed. */
export function floorStored(body: PushBody | undefined): Promise<boolean> {
  const bytes = Buffer.from(body?.message?.data ?? '', 'base64');
  if (bytes.length === 0) return Promise.resolve(false);
  const record = bareDecode(bytes);
  const alert = prebuilt.get(record.candid.toString());
  const doc = alert?.byRound[alert.posted++];
  if (!doc) return Promise.resolve(false);
  return new Promise(done => {
    queue.push({doc, done});
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}

/** The rejected-alert floor: the bytes of the message, dropped. */
export function floorRejected(body: PushBody | undefined): number {
  return Buffer.from(body?.message?.data ?? '', 'base64').length;
}
