/**
 * Typed configuration, parsed once from the environment. Every module takes
 * the slice of config it needs as a parameter (injectable); only entry points
 * (functions/, cli/, local/) call {@link loadConfig}.
 */

import {PermanentError} from './errors';
import {parseSeverity, Severity} from './log';

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
  /** Keep cutouts (as bytes) in stored documents. */
  keepCutouts: boolean;
  /** Where Confluent-wire writer schemas come from: a directory or a registry URL. */
  schemaSource: string | undefined;
  /** How long an instance caches a subscription's stored filter. */
  filterCacheTtlMs: number;
  /** Bound on each Firestore call: past it the write is a transient failure (redelivered). */
  storeTimeoutMs: number;
  /** Minimum severity of log lines. */
  logLevel: Severity;
}

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

export function loadConfig(env: Env = process.env): Config {
  const level = env.LOG_LEVEL ? parseSeverity(env.LOG_LEVEL) : 'INFO';
  if (!level) {
    throw new PermanentError(
      'bad-config',
      `LOG_LEVEL is not a severity: "${env.LOG_LEVEL}"`,
    );
  }
  return {
    projectId:
      env.GOOGLE_CLOUD_PROJECT ||
      env.GCLOUD_PROJECT ||
      env.GCP_PROJECT ||
      'local-project',
    pittGoogleProject: env.PITTGOOGLE_PROJECT || 'ardent-cycling-243415',
    alertsCollection: name(env, 'ALERTS_COLLECTION', 'alerts'),
    quarantineCollection: name(env, 'QUARANTINE_COLLECTION', 'quarantine'),
    subscriptionsCollection: name(
      env,
      'SUBSCRIPTIONS_COLLECTION',
      'subscriptions',
    ),
    keepCutouts: bool(env, 'KEEP_CUTOUTS', false),
    schemaSource: env.SCHEMA_SOURCE || undefined,
    filterCacheTtlMs: int(env, 'FILTER_CACHE_TTL_MS', 5000, 0, 3_600_000),
    storeTimeoutMs: int(env, 'STORE_TIMEOUT_MS', 15_000, 100, 300_000),
    logLevel: level,
  };
}
