/**
 * What the read API needs from storage, as a port: the handlers and the
 * shaping of answers are tested over plain data, and
 * ./firestore-reader.ts implements it with the store's query functions
 * (src/store/alert-query.ts, cutouts.ts, quarantine-query.ts). Documents
 * travel as `{id, subscription, data}` with Firestore's own value types
 * (Timestamps, Buffers) in `data`.
 */

import type {CutoutKind} from '../store/layout';
import type {MaybeFilter} from '../filter';
import type {
  AlertCursor,
  AlertListQuery as StoreAlertListQuery,
} from '../store/alert-query';
import type {QuarantineCursor} from '../store/quarantine-query';

/** A page position, and one page's query, of a subscription's alerts (the store's own types). */
export type {AlertCursor};
export type AlertListQuery = Omit<StoreAlertListQuery, 'select'>;

export type {QuarantineCursor};

export interface StoredDoc {
  /** Document id. */
  id: string;
  /** The subscription it is stored under (its parent document's id). */
  subscription: string;
  data: Record<string, unknown>;
}

export interface Page<T, C> {
  items: T[];
  next: C | null;
}

export interface SubscriptionOverview {
  name: string;
  /** Full topic path; null for alerts stored without a subscription record. */
  topic: string | null;
  filter: MaybeFilter;
  /** Null when the count could not be read. */
  counts: {alerts: number | null; quarantined: number | null};
  newestAlertTime: Date | null;
}

export interface ExploreReader {
  /** Every subscription with a record, or with stored alerts or quarantine. */
  subscriptions(): Promise<SubscriptionOverview[]>;
  /** A subscription record exists, or something is stored under the name. */
  subscriptionExists(name: string): Promise<boolean>;
  alerts(q: AlertListQuery): Promise<Page<StoredDoc, AlertCursor>>;
  alert(subscription: string, sourceId: string): Promise<StoredDoc | null>;
  /**
   * Every stored alert of an object across subscriptions, oldest first: the
   * summary fields (sourceId, survey, jd, mjd, band, mag, magErr) at least.
   */
  objectAlerts(objectId: string): Promise<StoredDoc[]>;
  /** The original stamp bytes, wherever they are stored; null when absent. */
  cutout(
    subscription: string,
    sourceId: string,
    kind: CutoutKind,
  ): Promise<Buffer | null>;
  quarantine(
    subscription: string,
    limit: number,
    after: QuarantineCursor | null,
  ): Promise<Page<StoredDoc, QuarantineCursor>>;
}
