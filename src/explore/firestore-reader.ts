/**
 * The {@link ExploreReader} over Firestore, through the store's query
 * functions (the storage layout lives there: document ids, shards, where
 * the cutouts are). Every call is bounded by `timeoutMs` and its failures
 * are typed (a transient one answers 503). It only reads.
 *
 * List answers read only the fields they show (`select`): the record's few
 * score fields, not the record, its histories or the stamps.
 */

import type {
  DocumentSnapshot,
  Firestore,
  QueryDocumentSnapshot,
} from '@google-cloud/firestore';

import type {MaybeFilter} from '../filter';
import type {Config} from '../config';
import type {Logger} from '../log';
import {errorMessage} from '../errors';
import {
  getAlert,
  listAlerts,
  objectAlerts,
  StoreLayoutConfig,
} from '../store/alert-query';
import {readCutout} from '../store/cutouts';
import {classifyFirestoreError, withTimeout} from '../store/firestore-errors';
import {listQuarantine} from '../store/quarantine-query';
import {createSubscriptionStore} from '../store/subscription-store';
import type {ExploreReader, StoredDoc, SubscriptionOverview} from './ports';

export type ExploreReaderConfig = StoreLayoutConfig &
  Pick<Config, 'quarantineCollection'>;

/** The fields of the alert list's answers (summary, generic, lite). */
export const ALERT_LIST_FIELDS = [
  'objectId',
  'sourceId',
  'survey',
  'band',
  'mag',
  'magErr',
  'ra',
  'dec',
  'jd',
  'mjd',
  'classtar',
  'publishTime',
  'ingestTime',
  'messageId',
  'attributes',
  'cutouts',
  'record.candidate.classtar',
  'record.candidate.drb',
  'record.candidate.rb',
  'record.candidate.sgscore1',
  'record.source.classtar',
  'record.source.drb',
  'record.source.rb',
  'record.source.sgscore1',
  'record.diaSource.reliability',
  'record.diaSource.snr',
  'record.diaSource.extendedness',
];

/** What an object's answer reads of each of its alerts (the newest is read whole). */
export const OBJECT_FIELDS = [
  'objectId',
  'sourceId',
  'survey',
  'band',
  'mag',
  'magErr',
  'jd',
  'mjd',
];

/** The subscription a stored document is under: `{subs}/{name}/{coll}/{id}`. */
function subscriptionOf(snap: DocumentSnapshot): string {
  return snap.ref.parent.parent?.id ?? '';
}

function stored(snap: DocumentSnapshot | QueryDocumentSnapshot): StoredDoc {
  return {
    id: snap.id,
    subscription: subscriptionOf(snap),
    data: snap.data() ?? {},
  };
}

export function createFirestoreReader(
  firestore: Firestore,
  config: ExploreReaderConfig,
  opts: {timeoutMs: number; log: Logger},
): ExploreReader {
  const records = createSubscriptionStore(firestore, {
    subscriptionsCollection: config.subscriptionsCollection,
    timeoutMs: opts.timeoutMs,
  });
  const subscriptionDoc = (name: string) =>
    firestore.collection(config.subscriptionsCollection).doc(name);

  async function call<T>(
    what: string,
    details: Record<string, unknown>,
    op: () => Promise<T>,
  ): Promise<T> {
    try {
      return await withTimeout(op(), opts.timeoutMs, what);
    } catch (e) {
      throw classifyFirestoreError(e, details);
    }
  }

  /** A count, or null (logged) when it cannot be read. */
  async function count(name: string, collection: string) {
    try {
      const snap = await call('a count', {subscription: name}, () =>
        subscriptionDoc(name).collection(collection).count().get(),
      );
      return snap.data().count;
    } catch (e) {
      opts.log.warn('count unavailable', {
        subscription: name,
        collection,
        error: errorMessage(e),
      });
      return null;
    }
  }

  async function newest(name: string): Promise<Date | null> {
    try {
      const page = await call('the newest alert', {subscription: name}, () =>
        listAlerts(firestore, config, {
          subscription: name,
          limit: 1,
          select: ['publishTime'],
        }),
      );
      const t = page.docs[0]?.get('publishTime');
      return t && typeof t.toDate === 'function' ? t.toDate() : null;
    } catch (e) {
      opts.log.warn('newest alert time unavailable', {
        subscription: name,
        error: errorMessage(e),
      });
      return null;
    }
  }

  return {
    async subscriptions() {
      // Records (written by manage), and names with only stored documents
      // (listDocuments lists "missing" parents of subcollections too).
      const [list, refs] = await Promise.all([
        records.list(),
        call('a subscription list', {}, () =>
          firestore.collection(config.subscriptionsCollection).listDocuments(),
        ),
      ]);
      const byName = new Map(list.map(r => [r.name, r]));
      const names = [
        ...new Set([...list.map(r => r.name), ...refs.map(r => r.id)]),
      ].sort();
      return Promise.all(
        names.map(async (name): Promise<SubscriptionOverview> => {
          const r = byName.get(name);
          const [alerts, quarantined, newestAlertTime] = await Promise.all([
            count(name, config.alertsCollection),
            count(name, config.quarantineCollection),
            newest(name),
          ]);
          return {
            name,
            topic: r?.topic || null,
            filter: (r?.filter ?? null) as MaybeFilter, // validated when stored
            counts: {alerts, quarantined},
            newestAlertTime,
          };
        }),
      );
    },

    async subscriptionExists(name) {
      const doc = subscriptionDoc(name);
      const [record, alerts, quarantine] = await call(
        'a subscription lookup',
        {subscription: name},
        () =>
          Promise.all([
            doc.get(),
            doc.collection(config.alertsCollection).select().limit(1).get(),
            doc.collection(config.quarantineCollection).select().limit(1).get(),
          ]),
      );
      return record.exists || !alerts.empty || !quarantine.empty;
    },

    async alerts(q) {
      const page = await call(
        'an alert list',
        {subscription: q.subscription},
        () => listAlerts(firestore, config, {...q, select: ALERT_LIST_FIELDS}),
      );
      return {items: page.docs.map(stored), next: page.next};
    },

    async alert(subscription, sourceId) {
      const snap = await call('an alert read', {subscription, sourceId}, () =>
        getAlert(firestore, config, subscription, sourceId),
      );
      return snap ? stored(snap) : null;
    },

    async objectAlerts(objectId) {
      const docs = await call('an object query', {objectId}, () =>
        objectAlerts(firestore, config, objectId, {select: OBJECT_FIELDS}),
      );
      return docs.map(stored);
    },

    cutout(subscription, sourceId, kind) {
      return call('a cutout read', {subscription, sourceId, kind}, () =>
        readCutout(firestore, config, subscription, sourceId, kind),
      );
    },

    async quarantine(subscription, limit, after) {
      const page = await listQuarantine(
        firestore,
        config,
        {subscription, limit, after},
        {timeoutMs: opts.timeoutMs},
      );
      return {items: page.docs.map(stored), next: page.next};
    },
  };
}
