/**
 * A client of the read API for tests: every JSON answer is checked for the
 * explorer's security headers and for escaped markup characters, and lists
 * are followed page by page through their cursors.
 */

import {strict as assert} from 'node:assert';

import {CONTENT_SECURITY_POLICY} from '../../src/explore/security';

export type Json = Record<string, unknown>;

export interface ExploreClient {
  /** GET of a path below the base URL. */
  get(path: string): Promise<Response>;
  /** GET of a JSON answer with the given status; asserts the headers and the escaping. */
  getJson(path: string, status?: number): Promise<Json>;
  /** Every item of a list under `key`, following `next`. */
  allPages(path: string, key?: string): Promise<Json[]>;
}

export function exploreClient(baseUrl: () => string): ExploreClient {
  const get = (p: string) => fetch(`${baseUrl().replace(/\/$/, '')}${p}`);

  async function getJson(p: string, status = 200): Promise<Json> {
    const res = await get(p);
    const text = await res.text();
    assert.equal(res.status, status, `${p}: ${text.slice(0, 300)}`);
    assert.equal(
      res.headers.get('content-type'),
      'application/json; charset=utf-8',
      p,
    );
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', p);
    assert.equal(
      res.headers.get('content-security-policy'),
      CONTENT_SECURITY_POLICY,
      p,
    );
    assert.doesNotMatch(text, /[<>]/, 'markup characters are escaped');
    return JSON.parse(text) as Json;
  }

  async function allPages(p: string, key = 'alerts'): Promise<Json[]> {
    const out: Json[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const sep = p.includes('?') ? '&' : '?';
      const body = await getJson(
        cursor ? `${p}${sep}cursor=${encodeURIComponent(cursor)}` : p,
      );
      out.push(...(body[key] as Json[]));
      cursor = body.next as string | null;
      if (cursor === null) return out;
      assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'cursors are URL-safe');
    }
    throw new Error('paging did not end');
  }

  return {get, getJson, allPages};
}
