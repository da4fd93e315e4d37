/**
 * The ingest HTTP handler served by the real functions framework (in
 * process), over a pipeline with in-memory ports: status codes, quarantine of
 * malformed envelopes, how the subscription is found.
 */

import {strict as assert} from 'node:assert';
import type {AddressInfo} from 'node:net';
import type {Server} from 'node:http';
import {after, before, describe, it} from 'node:test';

import * as ff from '@google-cloud/functions-framework';
import {getTestServer} from '@google-cloud/functions-framework/testing';

import {createIdTokenVerifier} from '../../../src/auth/id-token';
import {TransientError} from '../../../src/errors';
import {createIngestHandler} from '../../../src/functions/ingest';
import type {PushedMessage} from '../../../src/ingest/envelope';
import type {
  IngestPipeline,
  QuarantineRecord,
} from '../../../src/ingest/pipeline';
import {createLogger} from '../../../src/log';
import {idTokenClaims, signIdToken, testKeyPair} from '../../helpers/id-token';

async function errorOf(
  res: Response,
): Promise<{code: string; message: string}> {
  return ((await res.json()) as {error: {code: string; message: string}}).error;
}

describe('ingest handler (functions framework)', () => {
  const seen: PushedMessage[] = [];
  const quarantined: QuarantineRecord[] = [];
  let failNext: Error | undefined;
  const pipeline: IngestPipeline = {
    async processMessage(m) {
      if (failNext) {
        const e = failNext;
        failNext = undefined;
        throw e;
      }
      seen.push(m);
      return {outcome: 'stored', alerts: []};
    },
  };
  let server: Server;
  let base: string;

  before(async () => {
    ff.http(
      'ingestUnderTest',
      createIngestHandler({
        pipeline,
        quarantine: {quarantine: async r => void quarantined.push(r)},
        log: createLogger({sink: () => {}}),
        maxBodyBytes: 64 * 1024,
      }),
    );
    server = getTestServer('ingestUnderTest');
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>(r => server.close(() => r())));

  const envelope = (sub?: string) => ({
    message: {
      data: Buffer.from('payload').toString('base64'),
      messageId: 'm-1',
      attributes: {a: 'b'},
    },
    ...(sub ? {subscription: `projects/p/subscriptions/${sub}`} : {}),
  });
  const post = (url: string, body: unknown, type = 'application/json') =>
    fetch(base + url, {
      method: 'POST',
      headers: {'content-type': type},
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers 204 and passes the message on, with the subscription from the body, query or path', async () => {
    for (const [url, body, expected] of [
      ['/', envelope('from-body'), 'from-body'],
      ['/?subscription=from-query', envelope('from-body'), 'from-query'],
      ['/from-path', envelope(), 'from-path'],
      ['/subscriptions/from-path2', envelope(), 'from-path2'],
    ] as const) {
      const res = await post(url, body);
      assert.equal(res.status, 204, url);
      assert.equal(seen.at(-1)?.subscription, expected);
      assert.equal(seen.at(-1)?.data.toString(), 'payload');
    }
  });

  it('answers 503 on a transient failure and 500 on an unexpected one, so Pub/Sub redelivers', async () => {
    failNext = new TransientError('store-unavailable', 'Firestore down');
    let res = await post('/', envelope('s-1'));
    assert.equal(res.status, 503);
    assert.equal((await errorOf(res)).code, 'store-unavailable');
    failNext = new Error('bug');
    res = await post('/', envelope('s-1'));
    assert.equal(res.status, 500);
  });

  it('answers 400 to malformed envelopes, quarantining what it can keep', async () => {
    const before = quarantined.length;
    let res = await post('/?subscription=s-1', 'not json at all', 'text/plain');
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).code, 'bad-envelope');
    res = await post('/?subscription=s-1', {
      message: {data: '!!!', messageId: 'm-9'},
    });
    assert.equal(res.status, 400);
    assert.equal(quarantined.length, before + 2);
    assert.equal(quarantined.at(-1)?.messageId, 'm-9');
    assert.equal(quarantined.at(-1)?.subscription, 's-1');
    // No subscription known: nothing to attach it to, only the 400.
    res = await post('/', {message: {data: '!!!'}});
    assert.equal(res.status, 400);
    assert.equal(quarantined.length, before + 2);
    res = await post('/..%2F..%2Fetc', envelope());
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).code, 'invalid-name');
    // Two names on the endpoint: refused, not replaced by the envelope's.
    res = await post('/?subscription=s-1&subscription=s-2', envelope('s-3'));
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).code, 'invalid-name');
    assert.equal(quarantined.length, before + 2);
  });

  it('refuses other methods and oversized bodies', async () => {
    assert.equal((await fetch(base + '/', {method: 'GET'})).status, 405);
    const res = await post('/', {
      message: {data: 'A'.repeat(100 * 1024)},
      subscription: 'abc',
    });
    assert.equal(res.status, 413);
  });
});

describe('ingest handler with push OIDC verification', () => {
  const PUSH = 'pittgoogle-push@my-project.iam.gserviceaccount.com';
  const key = testKeyPair();
  const other = testKeyPair();
  let stored = 0;
  let server: Server;
  let base: string;

  before(async () => {
    ff.http(
      'ingestWithAuth',
      createIngestHandler({
        pipeline: {
          async processMessage() {
            stored++;
            return {outcome: 'stored', alerts: []};
          },
        },
        quarantine: {quarantine: async () => {}},
        log: createLogger({sink: () => {}}),
        auth: {
          verifier: createIdTokenVerifier({
            allowedEmails: [PUSH],
            keySource: async () => new Map([['k1', key.publicKey]]),
          }),
          audiences: ['https://ingest.example.run.app'],
        },
      }),
    );
    server = getTestServer('ingestWithAuth');
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>(r => server.close(() => r())));

  const push = (token?: string) =>
    fetch(`${base}/?subscription=s-1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? {authorization: `Bearer ${token}`} : {}),
      },
      body: JSON.stringify({message: {data: 'AAAA', messageId: '1'}}),
    });
  const aud = 'https://ingest.example.run.app';

  it('accepts the push account and refuses everything else before any work', async () => {
    assert.equal(
      (await push(signIdToken(key.privateKey, idTokenClaims(aud, PUSH))))
        .status,
      204,
    );
    assert.equal(stored, 1);
    const refused: [string, string | undefined, number][] = [
      ['no token', undefined, 401],
      [
        'expired',
        signIdToken(key.privateKey, idTokenClaims(aud, PUSH, {exp: 1000})),
        401,
      ],
      [
        'wrongly signed',
        signIdToken(other.privateKey, idTokenClaims(aud, PUSH)),
        401,
      ],
      [
        'wrong audience',
        signIdToken(key.privateKey, idTokenClaims('https://x.run.app', PUSH)),
        401,
      ],
      [
        'not the push account',
        signIdToken(key.privateKey, idTokenClaims(aud, 'mallory@example.org')),
        403,
      ],
    ];
    for (const [what, token, status] of refused) {
      const res = await push(token);
      assert.equal(res.status, status, what);
    }
    assert.equal(stored, 1);
  });
});
