/**
 * The explore function's HTTP layer: every answer gets the security headers
 * (./security.ts); `/api/...` goes to the read API (./api.ts), everything
 * else to the pages (`serveWeb`, ./web/serve.ts), and what neither serves is
 * a 404 in JSON. Only GET and HEAD are answered (405 otherwise). JSON is
 * written with `<`, `>`, `&` and U+2028/2029 escaped (the same JSON once
 * parsed, and inert even if something ever served it as HTML).
 */

import type {IncomingMessage, ServerResponse} from 'node:http';

import type {Logger} from '../log';
import type {Api, ApiAnswer} from './api';
import {badParameter} from './params';
import {applySecurityHeaders} from './security';

export interface ExploreHandlerDeps {
  api: Api;
  serveWeb: (req: IncomingMessage, res: ServerResponse) => boolean;
  log: Logger;
}

const JSON_UNSAFE = /[<>&\u2028\u2029]/g;
const escapeChar = (c: string) =>
  `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON text safe to embed anywhere: `<` as \u003c and so on. */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, escapeChar);
}

/**
 * Pure: a request target → the raw path (not normalized: `..` stays a
 * segment, and is refused by the id rules) and the query.
 */
export function splitTarget(target: string): {
  path: string;
  query: URLSearchParams;
} {
  let t = target;
  if (!t.startsWith('/')) {
    // absolute-form (a proxy's request line)
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(t);
    t = m ? t.slice(m[0].length) || '/' : '/' + t;
  }
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return {
    path: q >= 0 ? t.slice(0, q) : t,
    query: new URLSearchParams(q >= 0 ? t.slice(q + 1) : ''),
  };
}

/** Pure: `/api/a/b%20c/` → ['a', 'b c'] (one trailing slash allowed); null when %-escapes are malformed. */
export function apiSegments(path: string): string[] | null {
  const parts = path.split('/').slice(2);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return null;
  }
}

export function sendAnswer(res: ServerResponse, a: ApiAnswer): void {
  res.statusCode = a.status;
  for (const [k, v] of Object.entries(a.headers ?? {})) res.setHeader(k, v);
  if ('bytes' in a) {
    res.setHeader('Content-Type', a.contentType);
    res.setHeader('Content-Length', a.bytes.length);
    res.end(a.bytes);
    return;
  }
  const body = Buffer.from(inertJson(a.json), 'utf8');
  if (!res.hasHeader('Cache-Control'))
    res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

export function createExploreHandler(deps: ExploreHandlerDeps) {
  return async function explore(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const started = Date.now();
    applySecurityHeaders(res);
    // Express (the functions framework) may rewrite req.url; originalUrl is the request's.
    const target =
      (req as {originalUrl?: string}).originalUrl ?? req.url ?? '/';
    const {path, query} = splitTarget(target);
    const logAnswer = (status: number) => {
      const fields = {
        method: req.method,
        path: path.slice(0, 300),
        status,
        latencyMs: Date.now() - started,
      };
      if (status >= 500) deps.log.error('explore answer', fields);
      else if (status >= 400) deps.log.info('explore answer', fields);
      else deps.log.debug('explore answer', fields);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendAnswer(res, {
        status: 405,
        json: {
          error: 'method-not-allowed',
          detail: 'the explorer and its API are read-only: GET and HEAD',
        },
      });
      logAnswer(405);
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      const segments = apiSegments(path);
      const answer: ApiAnswer = !segments
        ? {
            status: 400,
            json: badParameter('path', 'the path has a malformed %-escape'),
          }
        : segments.some(p => p === '.' || p === '..')
          ? {
              status: 400,
              json: badParameter(
                'path',
                'the path has a dot segment (. or ..)',
              ),
            }
          : await deps.api.answer(segments, query);
      sendAnswer(res, answer);
      logAnswer(answer.status);
      return;
    }
    if (deps.serveWeb(req, res)) {
      logAnswer(res.statusCode);
      return;
    }
    sendAnswer(res, {
      status: 404,
      json: {
        error: 'not-found',
        detail: `nothing is served at ${path.slice(0, 200)}`,
      },
    });
    logAnswer(404);
  };
}
