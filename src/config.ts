/**
 * Typed configuration, parsed once from the environment. Every module takes
 * the slice of config it needs as a parameter (injectable); only entry points
 * (functions/, cli/, local/) call {@link loadConfig}.
 */

import {PermanentError} from './errors';
import {parseSeverity, Severity} from './log';
import {CUTOUTS_STORAGE, CutoutsStorage} from './store/layout';

export interface Config {
  /** The user's Google Cloud project (where subscriptions and Firestore live). */
  projectId: string;
  /** Project of the Pitt-Google topics. */
  pittGoogleProject: string;
  /** Firestore collection of stored alerts. */
  alertsCollection: string;
  /** Firestore collection of permanent failures. */
  quarantineCollection: string;
  /** Firestore collection of subscriptions and their stored filters. */
  subscriptionsCollection: string;
  /** Firestore subcollection of alert cutouts, beside the alerts (CUTOUTS=separate). */
  cutoutsCollection: string;
  /**
   * Where alert cutouts go (CUTOUTS): 'separate' (a cutouts document beside
   * the alert, same commit; default), 'inline' (in the alert's record),
   * 'drop'. The deprecated KEEP_CUTOUTS=true means 'inline'.
   */
  cutouts: CutoutsStorage;
  /** Days before a quarantine document expires (QUARANTINE_RETENTION_DAYS, default 30; 0: never). */
  quarantineRetentionDays: number;
  /** Where Confluent-wire writer schemas come from: a directory or a registry URL. */
  schemaSource: string | undefined;
  /** How long an instance caches a subscription's stored filter. */
  filterCacheTtlMs: number;
  /** Bound on each Firestore call: past it the write is a transient failure (redelivered). */
  storeTimeoutMs: number;
  /** Minimum severity of log lines. */
  logLevel: Severity;

  // --- the manage function (subscriptions it creates) ---
  /** URL of the ingest function (INGEST_URL); push endpoint = `{ingestUrl}?subscription={name}`. */
  ingestUrl: string | undefined;
  /** Service account of OIDC push authentication (PUSH_SERVICE_ACCOUNT); unset: push without OIDC (emulator). */
  pushServiceAccount: string | undefined;
  /** Full path of the dead-letter topic (DEAD_LETTER_TOPIC; a short name is taken in `projectId`). */
  deadLetterTopic: string | undefined;
  /** Deliveries before dead-lettering (MAX_DELIVERY_ATTEMPTS, 5..100, default 10). */
  maxDeliveryAttempts: number;
  /** Ack deadline of created subscriptions (ACK_DEADLINE_SECONDS, 10..600, default 600). */
  ackDeadlineSeconds: number;
  /** Retry policy backoff (RETRY_MIN_BACKOFF_SECONDS default 10, RETRY_MAX_BACKOFF_SECONDS default 600; 0..600). */
  retryMinBackoffSeconds: number;
  retryMaxBackoffSeconds: number;
  /** Days without activity before a subscription expires (SUBSCRIPTION_EXPIRATION_DAYS, 1..365, 0 = never; default 31 like tom_pittgoogle). */
  subscriptionExpirationDays: number;
  /** Keep acknowledged messages so that seek can replay them (RETAIN_ACKED_MESSAGES, default false). */
  retainAckedMessages: boolean;
  /** How long a subscription retains messages (MESSAGE_RETENTION_SECONDS, 600..604800, default 604800). */
  messageRetentionSeconds: number;
  /** Caller emails allowed by the manage function's own ID-token check (AUTH_ALLOWED_EMAILS, comma list; empty: check off). */
  authAllowedEmails: string[];
  /** Accepted ID-token audiences (AUTH_AUDIENCES, comma list; empty: the function's own URL and the gcloud CLI's client id). */
  authAudiences: string[];
  /** Where the token-signing certificates come from (AUTH_CERTS_URL: JWKS or PEM map JSON; default Google's). */
  authCertsUrl: string;
  /** Ingest: verify the push OIDC token against these emails (PUSH_AUTH_EMAILS; empty = off). */
  pushAuthEmails: string[];
  /** Ingest: accepted token audiences (PUSH_AUTH_AUDIENCES; default: https://<host of the request>). */
  pushAuthAudiences: string[];
}

/** Google's OAuth2 signing keys (JWKS). */
export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

type Env = Record<string, string | undefined>;

function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new PermanentError(
    'bad-config',
    `${name} must be true or false, got "${v}"`,
  );
}

function int(
  env: Env,
  name: string,
  dflt: number,
  min: number,
  max: number,
): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PermanentError(
      'bad-config',
      `${name} must be an integer in [${min}, ${max}], got "${v}"`,
    );
  }
  return n;
}

function name(env: Env, key: string, dflt: string): string {
  const v = env[key] || dflt;
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(v)) {
    throw new PermanentError(
      'bad-config',
      `${key} must be 1-100 letters, digits, '-' or '_', got "${v}"`,
    );
  }
  return v;
}

function list(env: Env, key: string): string[] {
  return (env[key] ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
}

function url(env: Env, key: string): string | undefined {
  const v = env[key];
  if (v === undefined || v === '') return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new PermanentError('bad-config', `${key} is not a URL: "${v}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new PermanentError(
      'bad-config',
      `${key} must be an http(s) URL, got "${v}"`,
    );
  }
  if (u.search || u.hash) {
    throw new PermanentError(
      'bad-config',
      `${key} must not have a query or fragment, got "${v}"`,
    );
  }
  return v;
}

const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

function emails(env: Env, key: string): string[] {
  const all = list(env, key).map(e => e.toLowerCase());
  const bad = all.find(e => !EMAIL.test(e));
  if (bad) {
    throw new PermanentError(
      'bad-config',
      `${key} must be a comma list of emails, got "${bad}"`,
    );
  }
  return all;
}

function topicPath(
  env: Env,
  key: string,
  projectId: string,
): string | undefined {
  const v = env[key];
  if (v === undefined || v === '') return undefined;
  const full = v.includes('/') ? v : `projects/${projectId}/topics/${v}`;
  if (
    !/^projects\/[a-z][a-z0-9.:-]{3,62}\/topics\/[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/.test(
      full,
    )
  ) {
    throw new PermanentError(
      'bad-config',
      `${key} must be a topic name or projects/P/topics/T, got "${v}"`,
    );
  }
  return full;
}

/** CUTOUTS, or the deprecated KEEP_CUTOUTS (true: inline; false: the default). */
function cutoutsStorage(env: Env): CutoutsStorage {
  const v = env.CUTOUTS;
  const keep = bool(env, 'KEEP_CUTOUTS', false);
  if (v === undefined || v === '') return keep ? 'inline' : 'separate';
  if (!(CUTOUTS_STORAGE as readonly string[]).includes(v)) {
    throw new PermanentError(
      'bad-config',
      `CUTOUTS must be one of ${CUTOUTS_STORAGE.join(', ')}, got "${v}"`,
    );
  }
  return v as CutoutsStorage;
}

export function loadConfig(env: Env = process.env): Config {
  const level = env.LOG_LEVEL ? parseSeverity(env.LOG_LEVEL) : 'INFO';
  if (!level) {
    throw new PermanentError(
      'bad-config',
      `LOG_LEVEL is not a severity: "${env.LOG_LEVEL}"`,
    );
  }
  const projectId =
    env.GOOGLE_CLOUD_PROJECT ||
    env.GCLOUD_PROJECT ||
    env.GCP_PROJECT ||
    'local-project';
  return {
    projectId,
    pittGoogleProject: env.PITTGOOGLE_PROJECT || 'ardent-cycling-243415',
    alertsCollection: name(env, 'ALERTS_COLLECTION', 'alerts'),
    quarantineCollection: name(env, 'QUARANTINE_COLLECTION', 'quarantine'),
    subscriptionsCollection: name(
      env,
      'SUBSCRIPTIONS_COLLECTION',
      'subscriptions',
    ),
    cutoutsCollection: name(env, 'CUTOUTS_COLLECTION', 'cutouts'),
    cutouts: cutoutsStorage(env),
    quarantineRetentionDays: int(env, 'QUARANTINE_RETENTION_DAYS', 30, 0, 3650),
    schemaSource: env.SCHEMA_SOURCE || undefined,
    filterCacheTtlMs: int(env, 'FILTER_CACHE_TTL_MS', 5000, 0, 3_600_000),
    storeTimeoutMs: int(env, 'STORE_TIMEOUT_MS', 15_000, 100, 300_000),
    logLevel: level,
    ingestUrl: url(env, 'INGEST_URL'),
    pushServiceAccount: env.PUSH_SERVICE_ACCOUNT || undefined,
    deadLetterTopic: topicPath(env, 'DEAD_LETTER_TOPIC', projectId),
    maxDeliveryAttempts: int(env, 'MAX_DELIVERY_ATTEMPTS', 10, 5, 100),
    ackDeadlineSeconds: int(env, 'ACK_DEADLINE_SECONDS', 600, 10, 600),
    retryMinBackoffSeconds: int(env, 'RETRY_MIN_BACKOFF_SECONDS', 10, 0, 600),
    retryMaxBackoffSeconds: int(env, 'RETRY_MAX_BACKOFF_SECONDS', 600, 0, 600),
    subscriptionExpirationDays: int(
      env,
      'SUBSCRIPTION_EXPIRATION_DAYS',
      31,
      0,
      365,
    ),
    retainAckedMessages: bool(env, 'RETAIN_ACKED_MESSAGES', false),
    messageRetentionSeconds: int(
      env,
      'MESSAGE_RETENTION_SECONDS',
      604800,
      600,
      604800,
    ),
    authAllowedEmails: emails(env, 'AUTH_ALLOWED_EMAILS'),
    authAudiences: list(env, 'AUTH_AUDIENCES'),
    authCertsUrl: url(env, 'AUTH_CERTS_URL') ?? GOOGLE_CERTS_URL,
    pushAuthEmails: emails(env, 'PUSH_AUTH_EMAILS'),
    pushAuthAudiences: list(env, 'PUSH_AUTH_AUDIENCES'),
  };
}
