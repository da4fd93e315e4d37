/**
 * The read API under `/api/` (docs/read-api.md): a route parser and one
 * function per route, over the injected {@link ExploreReader} and the pure
 * validation (./params.ts) and shaping (./shape.ts). Each returns an
 * {@link ApiAnswer}; ./router.ts writes it to HTTP.
 *
 * Answers: 200 with JSON (or PNG / FITS bytes); 400
 * `{"error":"bad-parameter","parameter","detail"}` for any bad input; 404
 * `{"error":"not-found","detail"}` for an unknown route, subscription,
 * alert, object or stamp; 422 for a stored stamp that cannot be rendered;
 * 503 when storage is unavailable (retry); 500 for anything unexpected.
 */

import {AlertError, errorMessage} from '../errors';
import type {Logger} from '../log';
import type {CutoutKind} from '../store/layout';
import {
  BadParameter,
  isBadParameter,
  parseAlertListParams,
  parseCutoutKind,
  parseNoParams,
  parseObjectId,
  parsePageParams,
  parseSourceId,
  parseStretch,
  parseSubscriptionName,
  Stretch,
} from './params';
import type {
  AlertCursor,
  ExploreReader,
  QuarantineCursor,
  StoredDoc,
} from './ports';
import {
  alertDetail,
  alertSummary,
  genericAlertOf,
  liteAlertOf,
  LightCurveOf,
  newestOf,
  objectAnswer,
  quarantineItem,
  subscriptionItem,
} from './shape';

export type ApiAnswer =
  | {status: number; json: unknown; headers?: Record<string, string>}
  | {
      status: number;
      bytes: Buffer;
      contentType: string;
      headers?: Record<string, string>;
    };

export interface CursorCodec<C> {
  encode(c: C): string;
  /** Throws on anything `encode` did not make. */
  decode(text: string): C;
}

export interface ApiDeps {
  reader: ExploreReader;
  alertCursors: CursorCodec<AlertCursor>;
  quarantineCursors: CursorCodec<QuarantineCursor>;
  /** src/cutouts/render.ts renderStampPng. */
  renderPng(bytes: Uint8Array, opts: {stretch: Stretch}): Buffer;
  /** src/alert/light-curve.ts lightCurve. */
  lightCurve: LightCurveOf;
  log: Logger;
}

/** Stamps never change once stored: cached for a year. */
export const STAMP_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export type ApiRoute =
  | {route: 'subscriptions'}
  | {route: 'alerts'; subscription: string}
  | {route: 'alert'; subscription: string; sourceId: string}
  | {
      route: 'cutout';
      subscription: string;
      sourceId: string;
      kind: CutoutKind;
      as: 'png' | 'fits';
    }
  | {route: 'object'; objectId: string}
  | {route: 'quarantine'; subscription: string};

/**
 * Pure: the route of a path's decoded segments after `/api` (`['subscriptions',
 * 'ztf-loop', 'alerts']`); a BadParameter for a malformed id; null for no route.
 */
export function parseApiRoute(
  segments: readonly string[],
): ApiRoute | BadParameter | null {
  const [head, ...rest] = segments;
  if (head === 'objects' && rest.length === 1) {
    const objectId = parseObjectId(rest[0]);
    return isBadParameter(objectId) ? objectId : {route: 'object', objectId};
  }
  if (head !== 'subscriptions') return null;
  if (rest.length === 0) return {route: 'subscriptions'};
  if (rest.length < 2) return null;
  const [name, what, id, cutouts, file, ...more] = rest;
  if (more.length) return null;
  if (what !== 'alerts' && what !== 'quarantine') return null;
  if (what === 'quarantine' && id !== undefined) return null;
  if (what === 'alerts' && cutouts !== undefined && cutouts !== 'cutouts') {
    return null;
  }
  let kind: CutoutKind | null = null;
  let as: 'png' | 'fits' = 'png';
  if (cutouts !== undefined) {
    const m = /^(.*)\.(png|fits)$/.exec(file ?? '');
    kind = m ? parseCutoutKind(m[1]) : null;
    if (!m || !kind) return null;
    as = m[2] as 'png' | 'fits';
  }
  const subscription = parseSubscriptionName(name);
  if (isBadParameter(subscription)) return subscription;
  if (what === 'quarantine') return {route: 'quarantine', subscription};
  if (id === undefined) return {route: 'alerts', subscription};
  const sourceId = parseSourceId(id);
  if (isBadParameter(sourceId)) return sourceId;
  if (kind) return {route: 'cutout', subscription, sourceId, kind, as};
  return {route: 'alert', subscription, sourceId};
}

const bad = (b: BadParameter): ApiAnswer => ({status: 400, json: b});
const notFound = (detail: string): ApiAnswer => ({
  status: 404,
  json: {error: 'not-found', detail},
});

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

export function createApi(deps: ApiDeps) {
  const {reader} = deps;

  async function subscriptionMissing(name: string): Promise<ApiAnswer | null> {
    return (await reader.subscriptionExists(name))
      ? null
      : notFound(`no subscription ${JSON.stringify(name)} is stored`);
  }

  async function alerts(
    subscription: string,
    query: URLSearchParams,
  ): Promise<ApiAnswer> {
    const p = parseAlertListParams(query, deps.alertCursors.decode);
    if (isBadParameter(p)) return bad(p);
    const page = await reader.alerts({
      subscription,
      limit: p.limit,
      after: p.cursor,
      band: p.band,
      magMin: p.magMin,
      magMax: p.magMax,
      since: p.since,
      until: p.until,
    });
    if (page.items.length === 0 && !p.cursor) {
      const missing = await subscriptionMissing(subscription);
      if (missing) return missing;
    }
    const shape: (doc: StoredDoc) => unknown =
      p.format === 'generic'
        ? genericAlertOf
        : p.format === 'lite'
          ? liteAlertOf
          : alertSummary;
    return {
      status: 200,
      json: {
        alerts: page.items.map(shape),
        next: page.next ? deps.alertCursors.encode(page.next) : null,
      },
    };
  }

  async function cutout(
    r: Extract<ApiRoute, {route: 'cutout'}>,
    query: URLSearchParams,
  ): Promise<ApiAnswer> {
    const stretch = r.as === 'png' ? parseStretch(query) : parseNoParams(query);
    if (isBadParameter(stretch)) return bad(stretch);
    const bytes = await reader.cutout(r.subscription, r.sourceId, r.kind);
    if (!bytes) {
      return notFound(
        `no ${r.kind} stamp is stored for alert ${r.sourceId} of subscription ${r.subscription}`,
      );
    }
    const headers = {'Cache-Control': STAMP_CACHE_CONTROL};
    if (r.as === 'fits') {
      const gz = isGzip(bytes);
      const fileName = `${r.sourceId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${r.kind}.fits${gz ? '.gz' : ''}`;
      return {
        status: 200,
        bytes,
        contentType: gz ? 'application/gzip' : 'application/fits',
        headers: {
          ...headers,
          'Content-Disposition': `attachment; filename="${fileName}"`,
        },
      };
    }
    let png: Buffer;
    try {
      png = deps.renderPng(bytes, {stretch: stretch as Stretch});
    } catch (e) {
      deps.log.warn('stamp not renderable', {
        subscription: r.subscription,
        sourceId: r.sourceId,
        kind: r.kind,
        error: errorMessage(e),
      });
      return {
        status: 422,
        json: {
          error: 'unrenderable-stamp',
          detail: `the stored ${r.kind} stamp is not a FITS image this API can render: ${errorMessage(e)}`,
        },
      };
    }
    return {status: 200, bytes: png, contentType: 'image/png', headers};
  }

  async function route(
    r: ApiRoute,
    query: URLSearchParams,
  ): Promise<ApiAnswer> {
    switch (r.route) {
      case 'subscriptions': {
        const none = parseNoParams(query);
        if (none) return bad(none);
        const all = await reader.subscriptions();
        return {status: 200, json: {subscriptions: all.map(subscriptionItem)}};
      }
      case 'alerts':
        return alerts(r.subscription, query);
      case 'alert': {
        const none = parseNoParams(query);
        if (none) return bad(none);
        const doc = await reader.alert(r.subscription, r.sourceId);
        if (!doc) {
          return notFound(
            `no alert ${r.sourceId} is stored for subscription ${r.subscription}`,
          );
        }
        return {status: 200, json: {alert: alertDetail(doc)}};
      }
      case 'cutout':
        return cutout(r, query);
      case 'object': {
        const none = parseNoParams(query);
        if (none) return bad(none);
        // The summary fields of every alert, then the newest one whole
        // (its record and histories make the light curve).
        const docs = await reader.objectAlerts(r.objectId);
        const newest = newestOf(docs);
        const full = newest
          ? await reader.alert(
              newest.subscription,
              String(newest.data.sourceId ?? ''),
            )
          : null;
        const answer = objectAnswer(r.objectId, docs, deps.lightCurve, full);
        return answer
          ? {status: 200, json: answer}
          : notFound(`no alert of object ${r.objectId} is stored`);
      }
      case 'quarantine': {
        const p = parsePageParams(query, deps.quarantineCursors.decode);
        if (isBadParameter(p)) return bad(p);
        const page = await reader.quarantine(r.subscription, p.limit, p.cursor);
        if (page.items.length === 0 && !p.cursor) {
          const missing = await subscriptionMissing(r.subscription);
          if (missing) return missing;
        }
        return {
          status: 200,
          json: {
            quarantine: page.items.map(quarantineItem),
            next: page.next ? deps.quarantineCursors.encode(page.next) : null,
          },
        };
      }
    }
  }

  /**
   * The answer to `GET /api/<segments>?<query>`; segments are the decoded
   * path segments after `/api`. Never throws.
   */
  async function answer(
    segments: readonly string[],
    query: URLSearchParams,
  ): Promise<ApiAnswer> {
    const r = parseApiRoute(segments);
    if (r === null) {
      return notFound(
        'no such API route (see docs/read-api.md: /api/subscriptions, /api/subscriptions/{name}/alerts, /api/objects/{objectId}, ...)',
      );
    }
    if (isBadParameter(r)) return bad(r);
    try {
      return await route(r, query);
    } catch (e) {
      const transient = e instanceof AlertError && e.kind === 'transient';
      deps.log.error('read API failure', {
        route: r.route,
        error: errorMessage(e),
        code: e instanceof AlertError ? e.code : undefined,
      });
      return transient
        ? {
            status: 503,
            json: {
              error: 'unavailable',
              detail: 'storage did not answer; retry shortly',
            },
            headers: {'Retry-After': '5'},
          }
        : {
            status: 500,
            json: {error: 'internal', detail: 'unexpected failure'},
          };
    }
  }

  return {answer};
}

export type Api = ReturnType<typeof createApi>;
