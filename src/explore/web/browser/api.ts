/**
 * The read API as the pages use it (shapes in docs/read-api.md). Answers
 * are data from outside: every field is checked where it is used (see
 * num()/str() in ./dom.ts), the interfaces only say what is expected.
 */

import type {Href} from './dom.js';
import {apiHref} from './routes.js';

export interface SubscriptionInfo {
  name: string;
  topic: string;
  filter: unknown;
  filterText: string;
  counts: {alerts: number | null; quarantined: number | null};
  newestAlertTime: string | null;
}

export interface AlertSummary {
  sourceId: string;
  objectId: string;
  survey: string;
  band: string | null;
  mag: number | null;
  magErr: number | null;
  ra: number | null;
  dec: number | null;
  jd: number | null;
  mjd: number | null;
  time: string | null;
  publishTime: string | null;
  ingestTime: string | null;
  scores: Record<string, unknown>;
  cutouts: string[];
}

export interface AlertDetail extends AlertSummary {
  record: Record<string, unknown>;
  histories: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

export interface Detection {
  mjd: number;
  band: string;
  mag: number;
  magErr: number | null;
  sourceId: string | null;
  origin: string;
}

export interface UpperLimit {
  mjd: number;
  band: string;
  limitMag: number;
}

export interface LightCurve {
  detections: Detection[];
  upperLimits: UpperLimit[];
}

export interface ObjectInfo {
  objectId: string;
  survey: string;
  alerts: Array<{
    subscription: string;
    sourceId: string;
    mjd: number | null;
    band: string | null;
    mag: number | null;
    magErr: number | null;
  }>;
  lightCurve: LightCurve;
}

export interface QuarantineItem {
  messageId: string;
  reason: string;
  message: string;
  time: string;
  sizeBytes: number;
  sha256: string;
  attributes: Record<string, unknown>;
}

/** An answer other than 2xx: the API's {error, detail, parameter}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly parameter: string | null,
  ) {
    super(detail);
  }
}

export async function getJson<T>(href: Href, signal?: AbortSignal): Promise<T> {
  const res = await fetch(href, {
    headers: {Accept: 'application/json'},
    signal,
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const b = (body ?? {}) as Record<string, unknown>;
    const detail =
      typeof b.detail === 'string' ? b.detail : `HTTP ${res.status}`;
    const parameter = typeof b.parameter === 'string' ? b.parameter : null;
    throw new ApiError(res.status, detail, parameter);
  }
  if (body === null || typeof body !== 'object') {
    throw new ApiError(res.status, 'the API answered no JSON object', null);
  }
  return body as T;
}

export type Query = Record<string, string | null | undefined>;

export const api = {
  subscriptions: () =>
    getJson<{subscriptions: SubscriptionInfo[]}>(apiHref(['subscriptions'])),
  alerts: (name: string, query: Query, signal?: AbortSignal) =>
    getJson<{alerts: AlertSummary[]; next: string | null}>(
      apiHref(['subscriptions', name, 'alerts'], query),
      signal,
    ),
  alert: (name: string, sourceId: string) =>
    getJson<{alert: AlertDetail}>(
      apiHref(['subscriptions', name, 'alerts', sourceId]),
    ),
  object: (objectId: string) =>
    getJson<ObjectInfo>(apiHref(['objects', objectId])),
  quarantine: (name: string, query: Query) =>
    getJson<{quarantine: QuarantineItem[]; next: string | null}>(
      apiHref(['subscriptions', name, 'quarantine'], query),
    ),
  stamp: (
    name: string,
    sourceId: string,
    kind: string,
    ext: 'png' | 'fits',
    query?: Query,
  ) =>
    apiHref(
      ['subscriptions', name, 'alerts', sourceId, 'cutouts', `${kind}.${ext}`],
      query,
    ),
};
