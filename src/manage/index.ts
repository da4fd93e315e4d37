/** The manage function's logic (subscriptions over Pub/Sub and Firestore): public API (see docs/manage.md). */

export {
  createSubscriptionManager,
  type ChangeResult,
  type DeleteResult,
  type ManagerDeps,
  type SeekResult,
  type SubscriptionManager,
  type SubscriptionResource,
} from './manager';
export {
  createPubSubPort,
  classifyPubSubError,
  type PubSubPort,
} from './pubsub-port';
export {
  createAlertCounts,
  type AlertCounts,
  type AlertCountsPort,
  type PurgeResult,
} from './alert-counts';
export * from './request';
export * from './settings';
