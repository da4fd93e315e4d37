/**
 * The explorer's addresses, relative to its root (which may sit below a
 * path prefix: the root is found from this module's own URL,
 * ROOT/static/js/routes.js). Every path segment taken from data is
 * percent-encoded; nothing else of data becomes part of a URL.
 */

import {Href, trustedHref} from './dom.js';

export const ROOT = new URL('../../', import.meta.url);

function join(segments: string[]): string {
  return segments.map(s => encodeURIComponent(s)).join('/');
}

function withQuery(
  url: URL,
  query?: Record<string, string | null | undefined>,
): URL {
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== null && v !== undefined && v !== '') url.searchParams.set(k, v);
  }
  return url;
}

/** A page of the explorer: appHref('s', name, 'a', sourceId). */
export function appHref(
  segments: string[],
  query?: Record<string, string | null | undefined>,
): Href {
  return trustedHref(withQuery(new URL(join(segments), ROOT), query));
}

/** An API address: apiHref(['subscriptions', name, 'alerts'], {limit: '50'}). */
export function apiHref(
  segments: string[],
  query?: Record<string, string | null | undefined>,
): Href {
  return trustedHref(withQuery(new URL(`api/${join(segments)}`, ROOT), query));
}

export const pages = {
  subscriptions: () => appHref([]),
  alerts: (subscription: string, query?: Record<string, string | null>) =>
    appHref(['s', subscription], query),
  alert: (subscription: string, sourceId: string) =>
    appHref(['s', subscription, 'a', sourceId]),
  object: (objectId: string) => appHref(['o', objectId]),
  quarantine: (subscription: string) =>
    appHref(['s', subscription, 'quarantine']),
};

/** The decoded path segments of the current page below the root. */
export function currentSegments(): string[] {
  const path = location.pathname;
  const rest = path.startsWith(ROOT.pathname)
    ? path.slice(ROOT.pathname.length)
    : path;
  return rest
    .split('/')
    .filter(s => s !== '')
    .map(s => decodeURIComponent(s));
}
