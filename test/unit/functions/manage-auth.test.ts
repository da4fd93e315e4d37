/**
 * ID-token verification (src/auth/id-token.ts) with tokens signed by test RSA
 * keys whose certificates a local HTTP server serves (JWKS and PEM map), and
 * the manage handler served in-process by the functions framework with the
 * check on and off (a fake manager: no emulator needed for auth).
 */

import {strict as assert} from 'node:assert';
import type {Server} from 'node:http';
import {AddressInfo} from 'node:net';
import {after, before, describe, it} from 'node:test';

import * as ff from '@google-cloud/functions-framework';
import {getTestServer} from '@google-cloud/functions-framework/testing';

import {
  createIdTokenVerifier,
  GCLOUD_CLIENT_ID,
  httpKeySource,
} from '../../../src/auth/id-token';
import {AlertError} from '../../../src/errors';
import {createManageHandler} from '../../../src/functions/manage';
import {createLogger} from '../../../src/log';
import type {SubscriptionManager} from '../../../src/subscriptions';
import {
  CertsServer,
  idTokenClaims,
  jwksOf,
  signIdToken,
  startCertsServer,
  testKeyPair,
} from '../../helpers/id-token';

const AUD = 'https://manage.example.run.app';
const ALICE = 'alice@example.org';

const keyPair = testKeyPair;
const sign = signIdToken;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return idTokenClaims(AUD, ALICE, over);
}

describe('ID-token verification', () => {
  const k1 = keyPair();
  const k2 = keyPair(); // rotated in later
  const wrong = keyPair();
  let certs: CertsServer;
  let certsUrl = '';

  before(async () => {
    certs = await startCertsServer(jwksOf({k1: k1.publicKey}));
    certsUrl = certs.url;
  });
  after(() => certs.close());

  const verifier = () =>
    createIdTokenVerifier({
      audiences: [AUD],
      allowedEmails: ['Alice@Example.org', 'bob@example.org'],
      keySource: httpKeySource(certsUrl, {minRefreshMs: 0}),
    });

  const rejects = async (
    header: string | undefined,
    code: string,
    message: RegExp,
    v = verifier(),
  ) =>
    assert.rejects(v.verifyHeader(header), (e: AlertError) => {
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });

  it('accepts a valid token of an allowed, verified email (case-insensitive)', async () => {
    const c = await verifier().verifyHeader(
      `Bearer ${sign(k1.privateKey, claims())}`,
    );
    assert.equal(c.email, ALICE);
    assert.equal(c.claims.aud, AUD);
  });

  it('refuses missing, malformed, expired, wrongly signed, wrong-audience and wrong-issuer tokens (401)', async () => {
    await rejects(undefined, 'unauthenticated', /missing Authorization/);
    await rejects('Basic abc', 'unauthenticated', /Bearer/);
    await rejects('Bearer not-a-jwt', 'unauthenticated', /not a JWT/);
    await rejects(
      `Bearer ${sign(k1.privateKey, claims({exp: Math.floor(Date.now() / 1000) - 3600}))}`,
      'unauthenticated',
      /expired/,
    );
    await rejects(
      `Bearer ${sign(wrong.privateKey, claims())}`,
      'unauthenticated',
      /signature is invalid/,
    );
    await rejects(
      `Bearer ${sign(k1.privateKey, claims({aud: 'https://other.run.app'}))}`,
      'unauthenticated',
      /audience "https:\/\/other.run.app" is not accepted/,
    );
    await rejects(
      `Bearer ${sign(k1.privateKey, claims({iss: 'https://evil.example'}))}`,
      'unauthenticated',
      /issuer/,
    );
    await rejects(
      `Bearer ${sign(k1.privateKey, claims(), {alg: 'HS256', kid: 'k1'})}`,
      'unauthenticated',
      /RS256/,
    );
    await rejects(
      `Bearer ${sign(k1.privateKey, claims(), {alg: 'RS256', kid: 'nope'})}`,
      'unauthenticated',
      /unknown key/,
    );
  });

  it('refuses callers not on the allow-list or without a verified email (403)', async () => {
    await rejects(
      `Bearer ${sign(k1.privateKey, claims({email: 'mallory@example.org'}))}`,
      'forbidden',
      /mallory@example.org is not allowed/,
    );
    await rejects(
      `Bearer ${sign(k1.privateKey, claims({email_verified: false}))}`,
      'forbidden',
      /not verified/,
    );
  });

  it('fetches keys again when a token names an unknown kid (rotation), from a JWKS or a PEM map', async () => {
    const v = verifier();
    await v.verifyHeader(`Bearer ${sign(k1.privateKey, claims())}`);
    const before = certs.fetches;
    await v.verifyHeader(`Bearer ${sign(k1.privateKey, claims())}`);
    assert.equal(certs.fetches, before, 'cached');
    certs.served = {
      k1: k1.publicKey.export({format: 'pem', type: 'spki'}),
      k2: k2.publicKey.export({format: 'pem', type: 'spki'}),
    };
    const c = await v.verifyHeader(
      `Bearer ${sign(k2.privateKey, claims({email: 'bob@example.org'}), {alg: 'RS256', kid: 'k2'})}`,
    );
    assert.equal(c.email, 'bob@example.org');
    assert.equal(certs.fetches, before + 1);
  });

  describe('the manage handler in the functions framework', () => {
    const calls: string[] = [];
    const fake: SubscriptionManager = {
      list: async () => {
        calls.push('list');
        return [];
      },
      get: async () => {
        throw new Error('not used');
      },
      touch: async () => {
        throw new Error('not used');
      },
      patch: async () => {
        throw new Error('not used');
      },
      delete: async () => {
        throw new Error('not used');
      },
      seek: async () => {
        throw new Error('not used');
      },
    };
    const log = createLogger({sink: () => undefined});
    let on: Server;
    let off: Server;
    const base = (s: Server) =>
      `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

    before(async () => {
      ff.http(
        'manage-auth-on',
        createManageHandler({
          manager: fake,
          pittGoogleProject: 'p',
          log,
          auth: {
            verifier: createIdTokenVerifier({
              allowedEmails: [ALICE],
              keySource: httpKeySource(certsUrl),
            }),
            audiences: [], // default: this function's URL, gcloud's client id
          },
        }),
      );
      ff.http(
        'manage-auth-off',
        createManageHandler({manager: fake, pittGoogleProject: 'p', log}),
      );
      on = getTestServer('manage-auth-on');
      off = getTestServer('manage-auth-off');
      await Promise.all(
        [on, off].map(s => new Promise<void>(r => s.listen(0, '127.0.0.1', r))),
      );
    });
    after(async () => {
      await Promise.all(
        [on, off].map(s => new Promise<void>(r => s.close(() => r()))),
      );
    });

    const get = async (s: Server, token?: string) => {
      const res = await fetch(`${base(s)}/subscriptions`, {
        headers: token ? {authorization: `Bearer ${token}`} : {},
      });
      return {
        status: res.status,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        body: (await res.json()) as any,
        www: res.headers.get('www-authenticate'),
      };
    };

    it('answers 401 / 403 with a clear error, 200 for an allowed caller; off when not configured', async () => {
      const own = `https://127.0.0.1:${(on.address() as AddressInfo).port}`;
      calls.length = 0;
      const none = await get(on);
      assert.equal(none.status, 401);
      assert.equal(none.www, 'Bearer');
      assert.equal(none.body.error.code, 'unauthenticated');
      assert.match(none.body.error.message, /missing Authorization/);

      const expired = await get(
        on,
        sign(
          k1.privateKey,
          claims({aud: own, exp: Math.floor(Date.now() / 1000) - 600}),
        ),
      );
      assert.equal(expired.status, 401);

      const otherAud = await get(on, sign(k1.privateKey, claims()));
      assert.equal(otherAud.status, 401, 'AUD is not this function');

      const mallory = await get(
        on,
        sign(k1.privateKey, claims({aud: own, email: 'mallory@example.org'})),
      );
      assert.equal(mallory.status, 403);
      assert.equal(mallory.body.error.code, 'forbidden');
      assert.deepEqual(calls, [], 'the manager was never reached');

      const ok = await get(on, sign(k1.privateKey, claims({aud: own})));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body, {subscriptions: []});
      const gcloud = await get(
        on,
        sign(k1.privateKey, claims({aud: GCLOUD_CLIENT_ID})),
      );
      assert.equal(gcloud.status, 200, "gcloud's user tokens are accepted");

      const open = await get(off);
      assert.equal(open.status, 200);
      assert.deepEqual(calls, ['list', 'list', 'list']);
    });
  });
});
