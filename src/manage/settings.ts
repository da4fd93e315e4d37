/**
 * Pure: the Pub/Sub settings of a managed push subscription, in a flat,
 * comparable form; conversion to and from Pub/Sub's subscription resource;
 * and the difference between what exists and what is wanted, split into what
 * Pub/Sub can update in place and what needs the subscription recreated.
 */

import type {protos, SubscriptionMetadata} from '@google-cloud/pubsub';

import type {Config} from '../config';
import {PermanentError} from '../errors';

export interface SubscriptionSettings {
  /** `{INGEST_URL}?subscription={name}`. */
  pushEndpoint: string;
  /** OIDC push authentication (null: none, local/emulator mode). */
  oidcServiceAccount: string | null;
  oidcAudience: string | null;
  ackDeadlineSeconds: number;
  /** Full topic path, null: no dead-letter policy. */
  deadLetterTopic: string | null;
  /** With a dead-letter topic only. */
  maxDeliveryAttempts: number | null;
  /** Retry policy (null: Pub/Sub's default, immediate redelivery). */
  minimumBackoffSeconds: number | null;
  maximumBackoffSeconds: number | null;
  /** Days of inactivity before expiry, null: never expires. */
  expirationDays: number | null;
  retainAckedMessages: boolean;
  messageRetentionSeconds: number;
  labels: Record<string, string>;
}

/** What a subscription is: its topic, its server-side filter, its settings. */
export interface SubscriptionState {
  /** Full topic path. */
  topic: string;
  /** Pub/Sub filter expression ('' = none). */
  filter: string;
  settings: SubscriptionSettings;
}

/** Per-request choices (touch / PATCH bodies); absent = the configured default. */
export interface SettingsOverrides {
  ackDeadlineSeconds?: number;
  maxDeliveryAttempts?: number;
  minimumBackoffSeconds?: number;
  maximumBackoffSeconds?: number;
  expirationDays?: number | null;
  retainAckedMessages?: boolean;
  messageRetentionSeconds?: number;
}

export type SettingsConfig = Pick<
  Config,
  | 'projectId'
  | 'ingestUrl'
  | 'pushServiceAccount'
  | 'deadLetterTopic'
  | 'maxDeliveryAttempts'
  | 'ackDeadlineSeconds'
  | 'retryMinBackoffSeconds'
  | 'retryMaxBackoffSeconds'
  | 'subscriptionExpirationDays'
  | 'retainAckedMessages'
  | 'messageRetentionSeconds'
>;

export const MANAGED_LABEL = {'managed-by': 'pittgoogle-functions'};

/** Fields Pub/Sub cannot change on an existing subscription. */
export const UNCHANGEABLE = ['topic', 'filter'] as const;

/** The push endpoint of a subscription. */
export function pushEndpointFor(ingestUrl: string, name: string): string {
  const u = new URL(ingestUrl);
  u.searchParams.set('subscription', name);
  return u.toString();
}

function requireIngestUrl(config: SettingsConfig): string {
  if (!config.ingestUrl) {
    throw new PermanentError(
      'bad-config',
      'INGEST_URL is not set: the manage function does not know where subscriptions push to',
    );
  }
  return config.ingestUrl;
}

/** The wanted settings of subscription `name`: configuration plus the request's overrides. */
export function desiredSettings(
  config: SettingsConfig,
  name: string,
  o: SettingsOverrides = {},
): SubscriptionSettings {
  const ingestUrl = requireIngestUrl(config);
  const dlt = config.deadLetterTopic ?? null;
  if (o.maxDeliveryAttempts !== undefined && !dlt) {
    throw new PermanentError(
      'bad-request',
      'maxDeliveryAttempts needs a dead-letter topic, and DEAD_LETTER_TOPIC is not configured',
      {field: 'maxDeliveryAttempts'},
    );
  }
  const min = o.minimumBackoffSeconds ?? config.retryMinBackoffSeconds;
  const max = o.maximumBackoffSeconds ?? config.retryMaxBackoffSeconds;
  if (min > max) {
    throw new PermanentError(
      'bad-request',
      `minimumBackoffSeconds (${min}) exceeds maximumBackoffSeconds (${max})`,
      {field: 'minimumBackoffSeconds'},
    );
  }
  const days =
    o.expirationDays !== undefined
      ? o.expirationDays
      : config.subscriptionExpirationDays || null;
  const sa = config.pushServiceAccount ?? null;
  return {
    pushEndpoint: pushEndpointFor(ingestUrl, name),
    oidcServiceAccount: sa,
    // The audience is the ingest URL without the query: what Cloud Run expects.
    oidcAudience: sa ? ingestUrl : null,
    ackDeadlineSeconds: o.ackDeadlineSeconds ?? config.ackDeadlineSeconds,
    deadLetterTopic: dlt,
    maxDeliveryAttempts: dlt
      ? (o.maxDeliveryAttempts ?? config.maxDeliveryAttempts)
      : null,
    minimumBackoffSeconds: min,
    maximumBackoffSeconds: max,
    expirationDays: days,
    retainAckedMessages: o.retainAckedMessages ?? config.retainAckedMessages,
    messageRetentionSeconds:
      o.messageRetentionSeconds ?? config.messageRetentionSeconds,
    labels: {...MANAGED_LABEL},
  };
}

/** Settings as they are, with the request's overrides applied (PATCH). */
export function withOverrides(
  current: SubscriptionSettings,
  o: SettingsOverrides,
  config: SettingsConfig,
): SubscriptionSettings {
  if (o.maxDeliveryAttempts !== undefined && !current.deadLetterTopic) {
    throw new PermanentError(
      'bad-request',
      'maxDeliveryAttempts needs a dead-letter topic, and this subscription has none',
      {field: 'maxDeliveryAttempts'},
    );
  }
  const min =
    o.minimumBackoffSeconds ??
    current.minimumBackoffSeconds ??
    config.retryMinBackoffSeconds;
  const max =
    o.maximumBackoffSeconds ??
    current.maximumBackoffSeconds ??
    config.retryMaxBackoffSeconds;
  const retry =
    o.minimumBackoffSeconds !== undefined ||
    o.maximumBackoffSeconds !== undefined;
  if (retry && min > max) {
    throw new PermanentError(
      'bad-request',
      `minimumBackoffSeconds (${min}) exceeds maximumBackoffSeconds (${max})`,
      {field: 'minimumBackoffSeconds'},
    );
  }
  return {
    ...current,
    ackDeadlineSeconds: o.ackDeadlineSeconds ?? current.ackDeadlineSeconds,
    maxDeliveryAttempts: o.maxDeliveryAttempts ?? current.maxDeliveryAttempts,
    minimumBackoffSeconds: retry ? min : current.minimumBackoffSeconds,
    maximumBackoffSeconds: retry ? max : current.maximumBackoffSeconds,
    expirationDays:
      o.expirationDays !== undefined
        ? o.expirationDays
        : current.expirationDays,
    retainAckedMessages: o.retainAckedMessages ?? current.retainAckedMessages,
    messageRetentionSeconds:
      o.messageRetentionSeconds ?? current.messageRetentionSeconds,
  };
}

function seconds(d: unknown): number | null {
  if (d === null || d === undefined) return null;
  if (typeof d === 'number') return d;
  const s = (d as {seconds?: unknown}).seconds;
  if (s === null || s === undefined) return null;
  const n = Number(typeof s === 'object' ? String(s) : s);
  return Number.isFinite(n) ? n : null;
}

/** Pub/Sub's subscription resource → our flat form. */
export function fromMetadata(
  m: protos.google.pubsub.v1.ISubscription,
): SubscriptionState {
  const push = m.pushConfig ?? {};
  const dlp = m.deadLetterPolicy;
  const retry = m.retryPolicy;
  const ttl = seconds(m.expirationPolicy?.ttl);
  return {
    topic: m.topic ?? '',
    filter: m.filter ?? '',
    settings: {
      pushEndpoint: push.pushEndpoint ?? '',
      oidcServiceAccount: push.oidcToken?.serviceAccountEmail || null,
      oidcAudience: push.oidcToken ? push.oidcToken.audience || null : null,
      ackDeadlineSeconds: m.ackDeadlineSeconds ?? 10,
      deadLetterTopic: dlp?.deadLetterTopic || null,
      maxDeliveryAttempts: dlp?.deadLetterTopic
        ? (dlp.maxDeliveryAttempts ?? 5)
        : null,
      minimumBackoffSeconds: retry
        ? (seconds(retry.minimumBackoff) ?? 10)
        : null,
      maximumBackoffSeconds: retry
        ? (seconds(retry.maximumBackoff) ?? 600)
        : null,
      expirationDays: ttl ? Math.round(ttl / 86400) : null,
      retainAckedMessages: m.retainAckedMessages ?? false,
      messageRetentionSeconds: seconds(m.messageRetentionDuration) ?? 604800,
      labels: {...(m.labels ?? {})},
    },
  };
}

/** Our flat form → the fields of Pub/Sub's subscription resource (create or update). */
export function toMetadata(
  s: SubscriptionSettings,
  fields?: readonly (keyof SubscriptionSettings)[],
): SubscriptionMetadata {
  const all: SubscriptionMetadata = {
    pushConfig: {
      pushEndpoint: s.pushEndpoint,
      ...(s.oidcServiceAccount
        ? {
            oidcToken: {
              serviceAccountEmail: s.oidcServiceAccount,
              audience: s.oidcAudience ?? '',
            },
          }
        : {}),
    },
    ackDeadlineSeconds: s.ackDeadlineSeconds,
    deadLetterPolicy: s.deadLetterTopic
      ? {
          deadLetterTopic: s.deadLetterTopic,
          maxDeliveryAttempts: s.maxDeliveryAttempts ?? 5,
        }
      : null,
    retryPolicy:
      s.minimumBackoffSeconds === null
        ? null
        : {
            minimumBackoff: {seconds: s.minimumBackoffSeconds},
            maximumBackoff: {seconds: s.maximumBackoffSeconds ?? 600},
          },
    expirationPolicy: s.expirationDays
      ? {ttl: {seconds: s.expirationDays * 86400}}
      : {},
    retainAckedMessages: s.retainAckedMessages,
    messageRetentionDuration: {seconds: s.messageRetentionSeconds},
    labels: {...s.labels},
  };
  if (!fields) return all;
  // Update masks name resource fields: map ours onto them.
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const key = RESOURCE_FIELD[f];
    out[key] = (all as Record<string, unknown>)[key];
  }
  return out as SubscriptionMetadata;
}

const RESOURCE_FIELD: Record<keyof SubscriptionSettings, string> = {
  pushEndpoint: 'pushConfig',
  oidcServiceAccount: 'pushConfig',
  oidcAudience: 'pushConfig',
  ackDeadlineSeconds: 'ackDeadlineSeconds',
  deadLetterTopic: 'deadLetterPolicy',
  maxDeliveryAttempts: 'deadLetterPolicy',
  minimumBackoffSeconds: 'retryPolicy',
  maximumBackoffSeconds: 'retryPolicy',
  expirationDays: 'expirationPolicy',
  retainAckedMessages: 'retainAckedMessages',
  messageRetentionSeconds: 'messageRetentionDuration',
  labels: 'labels',
};

export interface SettingsDiff {
  /** Settings that differ and that Pub/Sub updates in place. */
  changeable: (keyof SubscriptionSettings)[];
  /** Differences that need the subscription deleted and created again. */
  unchangeable: Array<{
    field: 'topic' | 'filter';
    current: string;
    wanted: string;
  }>;
}

function sameLabels(
  a: Record<string, string>,
  b: Record<string, string>,
): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return (
    ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k])
  );
}

/** What differs between the subscription as it is and as it is wanted. */
export function diffState(
  current: SubscriptionState,
  wanted: SubscriptionState,
): SettingsDiff {
  const unchangeable: SettingsDiff['unchangeable'] = [];
  if (current.topic !== wanted.topic) {
    unchangeable.push({
      field: 'topic',
      current: current.topic,
      wanted: wanted.topic,
    });
  }
  if (current.filter !== wanted.filter) {
    unchangeable.push({
      field: 'filter',
      current: current.filter,
      wanted: wanted.filter,
    });
  }
  const changeable: (keyof SubscriptionSettings)[] = [];
  for (const k of Object.keys(
    RESOURCE_FIELD,
  ) as (keyof SubscriptionSettings)[]) {
    const a = current.settings[k];
    const b = wanted.settings[k];
    const same =
      k === 'labels'
        ? sameLabels(a as Record<string, string>, b as Record<string, string>)
        : a === b;
    if (!same) changeable.push(k);
  }
  return {changeable, unchangeable};
}
