/**
 * The explorer's pages and static files (owner: the pages work). Until they
 * land, nothing is served here: the router answers 404 JSON.
 */

import type {IncomingMessage, ServerResponse} from 'node:http';

/** Serves a page or a static file; false when `req` is not one of them. */
export function serveWeb(req: IncomingMessage, res: ServerResponse): boolean {
  void req;
  void res;
  return false;
}
