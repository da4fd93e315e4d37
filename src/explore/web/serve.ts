/**
 * The explorer's web side: the HTML shells of the page routes (./pages.ts)
 * and the static assets under /static/ (./assets.ts). `serveWeb` answers
 * GET and HEAD of those paths and returns true; it returns false for
 * anything else (the router answers 404). The security headers (the strict
 * Content-Security-Policy of ../security.ts) are set here too, so that a
 * page is never sent without them whoever calls this.
 */

import type {IncomingMessage, ServerResponse} from 'node:http';

import {applySecurityHeaders} from '../security';
import {findAsset} from './assets';
import {matchPage, pageHtml} from './pages';

function pathnameOf(req: IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://explorer.invalid').pathname;
  } catch {
    return null;
  }
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): void {
  applySecurityHeaders(res);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.statusCode = status;
  res.setHeader('Content-Length', String(body.length));
  res.end(req.method === 'HEAD' ? undefined : body);
}

function acceptsGzip(req: IncomingMessage): boolean {
  const h = req.headers['accept-encoding'];
  return typeof h === 'string' && /\bgzip\b/.test(h);
}

/**
 * Answers a page or a static asset; false (nothing sent) when `req` is
 * neither.
 */
export function serveWeb(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const pathname = pathnameOf(req);
  if (pathname === null) return false;

  if (pathname.startsWith('/static/')) {
    const asset = findAsset(pathname.slice('/static/'.length));
    if (!asset) return false;
    const headers: Record<string, string> = {
      'Content-Type': asset.contentType,
      // Names are not content-hashed: revalidate, cheaply (304 by ETag).
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      Vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      send(req, res, 304, headers, Buffer.alloc(0));
      return true;
    }
    if (asset.gzipped && acceptsGzip(req)) {
      send(
        req,
        res,
        200,
        {...headers, 'Content-Encoding': 'gzip'},
        asset.gzipped,
      );
    } else {
      send(req, res, 200, headers, asset.body);
    }
    return true;
  }

  const kind = matchPage(pathname);
  if (!kind) return false;
  send(
    req,
    res,
    200,
    {'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache'},
    Buffer.from(pageHtml(kind, pathname)),
  );
  return true;
}
