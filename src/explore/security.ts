/**
 * The security headers of every answer of the explore function (API, pages,
 * static files, errors). Alerts, attributes, object ids and filters are data
 * from outside; the pages render them with DOM text APIs only, and this
 * policy makes sure that even an injected tag could not run or load
 * anything: scripts, styles, fonts and requests only from the function
 * itself, images also as data: URLs (none from elsewhere), no plugins, no
 * framing, no <base> and forms posting only to the function.
 */

import type {ServerResponse} from 'node:http';

/** The one Content-Security-Policy of the explore function. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers sent with every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Older browsers that ignore frame-ancestors.
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Sets {@link SECURITY_HEADERS} on a response (before anything is written). */
export function applySecurityHeaders(
  res: Pick<ServerResponse, 'setHeader'>,
): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}
