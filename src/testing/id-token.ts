/** Test ID tokens: RS256 JWTs signed with a test key, shaped like Google's. */

import {createSign, generateKeyPairSync, KeyObject} from 'node:crypto';

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
