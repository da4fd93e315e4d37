/** Test ID tokens: RS256 JWTs signed with a test key, shaped like Google's. */

import {createSign, generateKeyPairSync, KeyObject} from 'node:crypto';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';

export function testKeyPair() {
  return generateKeyPairSync('rsa', {modulusLength: 2048});
}

export function signIdToken(
  key: KeyObject,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {alg: 'RS256', kid: 'k1', typ: 'JWT'},
): string {
  const enc = (o: unknown) =>
    Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(claims)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${sig.toString('base64url')}`;
}

/** Google-like claims for `email` and `aud`, valid for an hour. */
export function idTokenClaims(
  aud: string,
  email: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://accounts.google.com',
    aud,
    sub: '1234',
    email,
    email_verified: true,
    iat: now - 10,
    exp: now + 3600,
    ...over,
  };
}

/** A JWKS (Google's v3 certs format) of public keys by kid. */
export function jwksOf(keys: Record<string, KeyObject>): {keys: unknown[]} {
  return {
    keys: Object.entries(keys).map(([kid, k]) => ({
      ...k.export({format: 'jwk'}),
      kid,
      alg: 'RS256',
      use: 'sig',
    })),
  };
}

export interface CertsServer {
  /** `http://127.0.0.1:PORT/certs` */
  readonly url: string;
  /** What the server answers (JWKS or PEM map); may be replaced (key rotation). */
  served: unknown;
  /** Requests received. */
  readonly fetches: number;
  close(): Promise<void>;
}

/** A local stand-in for Google's certs endpoint (cacheable for an hour). */
export async function startCertsServer(served: unknown): Promise<CertsServer> {
  let fetches = 0;
  const state = {served};
  const server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'public, max-age=3600');
    res.end(JSON.stringify(state.served));
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  return {
    url,
    get served() {
      return state.served;
    },
    set served(v: unknown) {
      state.served = v;
    },
    get fetches() {
      return fetches;
    },
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
