/**
 * Verification of Google-signed ID tokens (OIDC JWTs, RS256) with node:crypto
 * only: `Authorization: Bearer <token>` → the caller's verified email.
 *
 * Checks, in order: a Bearer token is present (401), it is a well-formed JWT
 * with `alg: RS256` and a `kid` (401), the signature verifies against the
 * key source's key of that `kid` (401), `iss` is Google's (401), `aud` is one
 * of the accepted audiences (401), `exp` / `iat` / `nbf` are valid with a
 * small clock skew (401), `email_verified` is true (403) and the email is in
 * the allow-list (403). Failures are PermanentError 'unauthenticated' (401)
 * or 'forbidden' (403) with a message that says which check failed; a key
 * source that cannot be fetched is a TransientError (503).
 *
 * Keys come from a {@link KeySource}: by default an HTTP(S) URL serving
 * either a JWKS (`{"keys": [{kid, kty: "RSA", n, e}, ...]}`, Google's v3
 * certs) or a PEM map (`{"kid": "-----BEGIN CERTIFICATE-----...", ...}`,
 * Google's v1 certs). Keys are cached for the `Cache-Control: max-age` of
 * the answer (default 1 h) and fetched again, at most every 30 s, when a
 * token names an unknown `kid` (Google rotates its keys).
 *
 * Reusable: the ingest function can verify Pub/Sub's push OIDC token with
 * the same verifier (audience = the ingest URL, allow-list = the push
 * service account).
 */

import {createPublicKey, createVerify, KeyObject} from 'node:crypto';

import {GOOGLE_CERTS_URL} from '../config';
import {errorMessage, PermanentError, TransientError} from '../errors';

export const GOOGLE_ISSUERS = [
  'https://accounts.google.com',
  'accounts.google.com',
] as const;

/** The Google Cloud CLI's OAuth client id: the `aud` of `gcloud auth print-identity-token` for user accounts. */
export const GCLOUD_CLIENT_ID = '32555940559.apps.googleusercontent.com';

export interface IdTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  email?: string;
  email_verified?: boolean;
  exp: number;
  iat: number;
  nbf?: number;
  [claim: string]: unknown;
}

export interface VerifiedCaller {
  email: string;
  claims: IdTokenClaims;
}

/** Public keys by `kid`. `refresh`: the caller met an unknown kid. */
export type KeySource = (refresh: boolean) => Promise<Map<string, KeyObject>>;

export interface IdTokenVerifierOptions {
  /** Accepted `aud` values; may be empty when every call passes its own. */
  audiences?: readonly string[];
  /** Accepted emails (lower case compared); empty = any verified email. */
  allowedEmails: readonly string[];
  /** Where the keys come from. Default: {@link httpKeySource} of Google's certs URL. */
  keySource?: KeySource;
  /** Accepted issuers. Default: Google's. */
  issuers?: readonly string[];
  /** Allowed clock difference, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Current time (ms), injectable for tests. */
  now?: () => number;
}

export interface IdTokenVerifier {
  /**
   * Verifies an `Authorization` header value (`Bearer <jwt>`). `audiences`
   * replaces the configured ones for this call.
   */
  verifyHeader(
    authorization: string | undefined,
    audiences?: readonly string[],
  ): Promise<VerifiedCaller>;
  /** Verifies a bare JWT. */
  verify(token: string, audiences?: readonly string[]): Promise<VerifiedCaller>;
}

const unauthenticated = (message: string, details = {}) =>
  new PermanentError('unauthenticated', message, details);

function b64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw unauthenticated(`the ID token's ${what} is not base64url JSON`);
}

/** Parses a JWKS or a PEM map (Google's v3 / v1 certs formats). */
export function parseKeys(json: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  if (!json || typeof json !== 'object') return keys;
  const jwks = (json as {keys?: unknown}).keys;
  if (Array.isArray(jwks)) {
    for (const k of jwks) {
      const jwk = k as {kid?: unknown; kty?: unknown};
      if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA') continue;
      try {
        keys.set(jwk.kid, createPublicKey({key: k, format: 'jwk'}));
      } catch {
        // skip a key we cannot read
      }
    }
    return keys;
  }
  for (const [kid, pem] of Object.entries(json)) {
    if (typeof pem !== 'string') continue;
    try {
      keys.set(kid, createPublicKey(pem));
    } catch {
      // skip
    }
  }
  return keys;
}

/**
 * Keys fetched from `url` (JWKS or PEM map), cached for the answer's
 * `max-age` (default `defaultTtlMs`), refetched on an unknown kid at most
 * every `minRefreshMs`.
 */
export function httpKeySource(
  url = GOOGLE_CERTS_URL,
  opts: {
    defaultTtlMs?: number;
    minRefreshMs?: number;
    timeoutMs?: number;
    now?: () => number;
  } = {},
): KeySource {
  const now = opts.now ?? Date.now;
  const minRefresh = opts.minRefreshMs ?? 30_000;
  let cached:
    {keys: Map<string, KeyObject>; until: number; at: number} | undefined;
  let inflight: Promise<Map<string, KeyObject>> | undefined;

  const fetchKeys = async () => {
    let res: Response;
    try {
      res = await fetch(url, {
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (e) {
      throw new TransientError(
        'internal',
        `could not fetch the ID-token signing keys from ${url}: ${errorMessage(e)}`,
      );
    }
    if (!res.ok) {
      throw new TransientError(
        'internal',
        `the ID-token signing keys at ${url} answered HTTP ${res.status}`,
      );
    }
    const keys = parseKeys(await res.json().catch(() => null));
    if (keys.size === 0) {
      throw new TransientError(
        'internal',
        `no RSA keys in the answer of ${url}`,
      );
    }
    const maxAge = /max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '');
    const ttl = maxAge
      ? Number(maxAge[1]) * 1000
      : (opts.defaultTtlMs ?? 3_600_000);
    cached = {keys, until: now() + ttl, at: now()};
    return keys;
  };

  return async refresh => {
    const t = now();
    const fresh = cached && t < cached.until;
    const mayRefresh = !cached || t - cached.at >= minRefresh;
    if (cached && fresh && !(refresh && mayRefresh)) return cached.keys;
    if (cached && refresh && !mayRefresh) return cached.keys;
    inflight ??= fetchKeys().finally(() => (inflight = undefined));
    return inflight;
  };
}

export function createIdTokenVerifier(
  opts: IdTokenVerifierOptions,
): IdTokenVerifier {
  const keySource = opts.keySource ?? httpKeySource();
  const issuers = opts.issuers ?? GOOGLE_ISSUERS;
  const skew = opts.clockSkewSeconds ?? 60;
  const now = opts.now ?? Date.now;
  const allowed = new Set(opts.allowedEmails.map(e => e.toLowerCase()));

  async function verify(
    token: string,
    audiences: readonly string[] = opts.audiences ?? [],
  ): Promise<VerifiedCaller> {
    if (audiences.length === 0) {
      throw new PermanentError(
        'bad-config',
        'the ID-token verifier has no audience to accept',
      );
    }
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p))) {
      throw unauthenticated('the bearer token is not a JWT');
    }
    const header = b64urlJson(parts[0], 'header');
    if (header.alg !== 'RS256') {
      throw unauthenticated(
        `the ID token's algorithm must be RS256, got ${JSON.stringify(header.alg)}`,
      );
    }
    if (typeof header.kid !== 'string') {
      throw unauthenticated('the ID token has no key id (kid)');
    }
    let keys = await keySource(false);
    let key = keys.get(header.kid);
    if (!key) {
      keys = await keySource(true);
      key = keys.get(header.kid);
    }
    if (!key) {
      throw unauthenticated(
        `the ID token is signed with an unknown key (kid ${header.kid.slice(0, 64)})`,
      );
    }
    const ok = createVerify('RSA-SHA256')
      .update(`${parts[0]}.${parts[1]}`)
      .verify(key, Buffer.from(parts[2], 'base64url'));
    if (!ok) throw unauthenticated('the ID token signature is invalid');

    const claims = b64urlJson(parts[1], 'payload') as IdTokenClaims;
    if (!issuers.includes(claims.iss)) {
      throw unauthenticated(
        `the ID token's issuer ${JSON.stringify(claims.iss)} is not Google`,
      );
    }
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!auds.some(a => audiences.includes(a))) {
      throw unauthenticated(
        `the ID token's audience ${JSON.stringify(claims.aud)} is not accepted here (expected ${audiences.join(' or ')})`,
      );
    }
    const t = now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp + skew < t) {
      throw unauthenticated('the ID token has expired');
    }
    if (typeof claims.iat !== 'number' || claims.iat - skew > t) {
      throw unauthenticated('the ID token is issued in the future');
    }
    if (typeof claims.nbf === 'number' && claims.nbf - skew > t) {
      throw unauthenticated('the ID token is not valid yet');
    }
    const email = typeof claims.email === 'string' ? claims.email : '';
    if (!email) {
      throw new PermanentError(
        'forbidden',
        'the ID token carries no email (request it with the email scope)',
      );
    }
    const verified =
      claims.email_verified === true ||
      (claims.email_verified as unknown) === 'true';
    if (!verified) {
      throw new PermanentError(
        'forbidden',
        `the email ${email} of the ID token is not verified`,
        {email},
      );
    }
    if (allowed.size > 0 && !allowed.has(email.toLowerCase())) {
      throw new PermanentError(
        'forbidden',
        `${email} is not allowed to use this API (AUTH_ALLOWED_EMAILS)`,
        {email},
      );
    }
    return {email, claims};
  }

  return {
    verify,
    async verifyHeader(authorization, audiences) {
      if (!authorization) {
        throw unauthenticated(
          'missing Authorization header: send "Authorization: Bearer <Google ID token>"',
        );
      }
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) {
        throw unauthenticated(
          'the Authorization header must be "Bearer <Google ID token>"',
        );
      }
      return verify(m[1], audiences);
    },
  };
}
