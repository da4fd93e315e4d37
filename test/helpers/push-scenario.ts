/**
 * One stress scenario's plumbing on the emulators: a Pitt-Google-like topic
 * in project ardent-cycling-243415, a push subscription of the user's
 * project pointing at the ingest function (`?subscription=NAME`), the
 * subscription's stored filter in Firestore, and the checks made after the
 * run (the alert documents' ids, the quarantine, what is left unacked).
 */

import {FieldPath, Firestore} from '@google-cloud/firestore';
import type {PubSub, Subscription, Topic} from '@google-cloud/pubsub';

import type {Config} from '../../src/config';
import {validateFilter} from '../../src/filter';
import {sourceIdOfDocumentId} from '../../src/store/layout';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {UnackedMessage, unackedAfterPush} from './unacked';

export const PITT_PROJECT = 'ardent-cycling-243415';

/** A real stored filter that every generated ZTF and LSST alert passes. */
export const PASS_EVERY_ALERT = {field: 'sourceId', op: 'exists'};

export interface PushScenarioOptions {
  /** Pitt-Google's project (topics) and the user's (subscriptions). */
  pitt: PubSub;
  user: PubSub;
  /** The user's Firestore, as the function sees it (same project). */
  db: Firestore;
  config: Pick<
    Config,
    'subscriptionsCollection' | 'alertsCollection' | 'quarantineCollection'
  >;
  /** Topic and subscription name (Pub/Sub rules: a letter, then 2+ characters). */
  name: string;
  /** The ingest function's URL; the push endpoint adds `?subscription=NAME`. */
  functionUrl: string;
  ackDeadlineSeconds: number;
  /** Keep acked messages (needed to seek back in time). */
  retainAckedMessages?: boolean;
  /** Retry policy backoff bounds, seconds (default: none, Pub/Sub's immediate redelivery). */
  retryBackoffSeconds?: {min: number; max: number};
  filter?: unknown;
}

export interface PushScenario {
  readonly name: string;
  readonly topic: Topic;
  readonly subscription: Subscription;
  readonly ackDeadlineSeconds: number;
  /** Publishes every payload (at most `inFlight` at a time); resolves with the message ids, in order. */
  publish(payloads: readonly Buffer[], inFlight?: number): Promise<string[]>;
  /**
   * Source ids of the subscription's alert documents (from their document
   * ids, ../store/layout.ts), sorted; an id not made by the layout shows as
   * `?{id}` (and so is never an expected id).
   */
  storedIds(): Promise<string[]>;
  /** Ids of its quarantine documents. */
  quarantinedIds(): Promise<string[]>;
  /** Detaches the push endpoint and resolves, past the ack deadline, with what was never acked. */
  unacked(): Promise<UnackedMessage[]>;
  /** Documents against the expected source ids. */
  verify(expected: ReadonlySet<string>): Promise<ScenarioCheck>;
}

export interface ScenarioCheck {
  documents: number;
  /** Expected ids without a document. */
  lost: string[];
  /** Documents that were not expected. */
  unexpected: string[];
  quarantined: string[];
}

export async function createPushScenario(
  opts: PushScenarioOptions,
): Promise<PushScenario> {
  const {name, db, config} = opts;
  const topicPath = `projects/${PITT_PROJECT}/topics/${name}`;
  await createSubscriptionStore(db, config).put({
    name,
    topic: topicPath,
    filter: validateFilter(opts.filter ?? PASS_EVERY_ALERT),
    serverFilter: '',
    settings: {},
  });
  await opts.pitt.createTopic(name);
  // Publish in batches (as a busy publisher does); the client's default
  // waits up to 10 ms per batch.
  const topic = opts.pitt.topic(name, {
    batching: {maxMessages: 100, maxMilliseconds: 5},
  });
  const [subscription] = await opts.user.createSubscription(topicPath, name, {
    pushConfig: {pushEndpoint: `${opts.functionUrl}?subscription=${name}`},
    ackDeadlineSeconds: opts.ackDeadlineSeconds,
    retainAckedMessages: opts.retainAckedMessages ?? false,
    ...(opts.retryBackoffSeconds
      ? {
          retryPolicy: {
            minimumBackoff: {seconds: opts.retryBackoffSeconds.min},
            maximumBackoff: {seconds: opts.retryBackoffSeconds.max},
          },
        }
      : {}),
  });
  const subDoc = db.collection(config.subscriptionsCollection).doc(name);

  /** Every id of a collection, by pages (20,000 documents in one answer is a lot for the emulator). */
  const listIds = async (collection: string) => {
    const out: string[] = [];
    let last: string | undefined;
    for (;;) {
      let q = subDoc
        .collection(collection)
        .orderBy(FieldPath.documentId())
        .select()
        .limit(2000);
      if (last !== undefined) q = q.startAfter(last);
      const page = await q.get();
      for (const d of page.docs) out.push(d.id);
      if (page.size < 2000) return out;
      last = page.docs[page.size - 1].id;
    }
  };

  const scenario: PushScenario = {
    name,
    topic,
    subscription,
    ackDeadlineSeconds: opts.ackDeadlineSeconds,
    async publish(payloads, inFlight = 200) {
      const ids: string[] = new Array(payloads.length);
      for (let i = 0; i < payloads.length; i += inFlight) {
        const chunk = payloads.slice(i, i + inFlight);
        const got = await Promise.all(
          chunk.map(data => topic.publishMessage({data})),
        );
        got.forEach((id, k) => (ids[i + k] = id));
      }
      return ids;
    },
    storedIds: async () =>
      (await listIds(config.alertsCollection))
        .map(id => sourceIdOfDocumentId(id) ?? `?${id}`)
        .sort(),
    quarantinedIds: () => listIds(config.quarantineCollection),
    unacked: () => unackedAfterPush(subscription, opts.ackDeadlineSeconds),
    async verify(expected) {
      const stored = await scenario.storedIds();
      const have = new Set(stored);
      return {
        documents: stored.length,
        lost: [...expected].filter(id => !have.has(id)),
        unexpected: stored.filter(id => !expected.has(id)),
        quarantined: await scenario.quarantinedIds(),
      };
    },
  };
  return scenario;
}
