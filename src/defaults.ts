/**
 * Every default of the project in one place, each with why it has its value.
 * The environment (src/config.ts), the CLI options and the deploy options
 * override them; the modules that use a default import it from here rather
 * than writing the number again. This module imports nothing, so any layer
 * may read it.
 */

/**
 * Pitt-Google's Google Cloud project, which holds the ZTF topics (`ztf-loop`,
 * `ztf-alerts`, `ztf-lite`, …). Its LSST topics live in `pitt-alert-broker`.
 */
export const PITTGOOGLE_PROJECT = 'ardent-cycling-243415';

/**
 * The project of an unconfigured instance and of the local tooling (the
 * emulators accept any project id).
 */
export const LOCAL_PROJECT = 'local-project';

/** Firestore layout: subscriptions/{name}/alerts/{id} and …/quarantine/{messageId}. */
export const COLLECTIONS = {
  subscriptions: 'subscriptions',
  alerts: 'alerts',
  quarantine: 'quarantine',
} as const;

/** The ingest side: decoding, filtering and storing one pushed alert. */
export const INGEST_DEFAULTS = {
  /**
   * How long an instance caches a stored filter: a changed filter takes
   * effect within seconds, without a redeploy, and a push costs no filter
   * read.
   */
  filterCacheTtlMs: 5000,
  /**
   * Bound on one Firestore call. Pub/Sub's push deadline is the ack deadline
   * (600 s by default), but a hung call must not hold the push open: after
   * this the message is answered 503 and redelivered.
   */
  storeTimeoutMs: 15_000,
  /** Largest push body accepted (a real alert is ~70 KB; a Pub/Sub message at most 10 MB, base64 in JSON). */
  maxBodyBytes: 16 * 1024 * 1024,
  /** Alert writes of concurrent requests committed together, at the most, in one Firestore commit. */
  coalesceCount: 20,
  /** Bytes of an undecodable message kept in its quarantine document (with its length and SHA-256). */
  maxQuarantineDataBytes: 256 * 1024,
} as const;

/** LSST writer schemas fetched from a Confluent-compatible registry. */
export const REGISTRY_DEFAULTS = {
  /** Per-request timeout. */
  timeoutMs: 5000,
  /**
   * How long a 404 (unknown schema id) is remembered, so that a stream of
   * packets with an unknown id does not send one request each. Transient
   * failures are never remembered.
   */
  notFoundTtlMs: 60_000,
} as const;

/**
 * The push subscriptions the manage function creates (Pub/Sub's own limits
 * in brackets, enforced by src/config.ts).
 */
export const SUBSCRIPTION_DEFAULTS = {
  /** Deliveries before a message goes to the dead-letter topic [5, 100]. */
  maxDeliveryAttempts: 10,
  /** The push deadline, in seconds: Pub/Sub's maximum [10, 600]. */
  ackDeadlineSeconds: 600,
  /** Retry policy: exponential backoff between these bounds, in seconds [0, 600]. */
  retryMinBackoffSeconds: 10,
  retryMaxBackoffSeconds: 600,
  /** An idle subscription is deleted after this many days, like tom_pittgoogle's (0: never) [0, 365]. */
  expirationDays: 31,
  /** Unacknowledged messages are kept 7 days, Pub/Sub's maximum [600 s, 7 days]. */
  messageRetentionSeconds: 604_800,
} as const;

/** The bounded pull consumer (tom_pittgoogle's `stream_alerts` defaults). */
export const PULL_DEFAULTS = {
  /** Alerts delivered to the callback before the run stops. */
  maxResults: 10,
  /** Seconds without a message before the run stops. */
  timeoutSeconds: 30,
  /** Most messages held unacknowledged at once (flow control; by default min(this, maxResults)). */
  maxBacklog: 1000,
  /**
   * Bytes per commit of the consumer's batched alert writes. The documents'
   * estimated sizes (Firestore's size rules) are ~0.6 of what goes on the
   * wire; the Firestore emulator gives no answer to a commit above ~4 MiB,
   * and 3 MiB estimated (~5 MiB on the wire) hung in the benchmark. 1 MiB
   * (~55 alert documents) is safe.
   */
  batchBytes: 1024 * 1024,
} as const;
