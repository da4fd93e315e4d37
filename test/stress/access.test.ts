/**
 * Access control end to end: the manage function (AUTH_ALLOWED_EMAILS) and
 * the ingest function (PUSH_AUTH_EMAILS) served by the real functions
 * framework with the Pub/Sub and Firestore emulators, verifying Google-style
 * ID tokens against a local certs endpoint (AUTH_CERTS_URL). Every hostile
 * token is refused with 401 / 403 before any work (nothing created, nothing
 * stored); a valid one is accepted. Hostile subscription names, topics and
 * filters sent with a valid token get 400 and create nothing in Pub/Sub or
 * Firestore. (test/unit/functions/manage-auth.test.ts checks the verifier itself and the
 * handler in process; this is the deployed shape.)
 */

import {strict as assert} from 'node:assert';
import {createHmac, KeyObject} from 'node:crypto';
import {after, before, describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';
import type {PubSub} from '@google-cloud/pubsub';

import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {generateZtfPacket} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';
import {
  errorCode,
  pushEnvelope,
  rawRequest,
  RawAnswer,
} from '../helpers/http-request';
import {
  CertsServer,
  idTokenClaims,
  jwksOf,
  signIdToken,
  startCertsServer,
  testKeyPair,
} from '../helpers/id-token';
import {recordFigure} from '../helpers/stress-report';
import {alertDocumentId} from '../../src/store/layout';

const PG = 'ardent-cycling-243415';
const MANAGE_AUD = 'https://manage.example.run.app';
const INGEST_AUD = 'https://ingest.example.run.app';
const ALICE = 'alice@example.org';
const PUSH_SA = 'pittgoogle-push@user-project.iam.gserviceaccount.com';
const PUSH_SUB = 'access-push';

const b64url = (o: unknown) =>
  Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString(
    'base64url',
  );

interface Keys {
  k1: KeyObject;
  k1Public: KeyObject;
  other: KeyObject;
}

interface TokenCase {
  name: string;
  /** The Authorization header for a function whose audience and caller are (aud, email). */
  header: (keys: Keys, aud: string, email: string) => string | undefined;
  status: 401 | 403;
  message: RegExp;
}

const now = () => Math.floor(Date.now() / 1000);
const bearer = (t: string) => `Bearer ${t}`;

const TOKENS: TokenCase[] = [
  {
    name: 'no Authorization header',
    header: () => undefined,
    status: 401,
    message: /missing Authorization/,
  },
  {
    name: 'Basic credentials',
    header: () => `Basic ${Buffer.from('alice:secret').toString('base64')}`,
    status: 401,
    message: /must be "Bearer/,
  },
  {
    name: 'Bearer without a token',
    header: () => 'Bearer ',
    status: 401,
    message: /must be "Bearer/,
  },
  {
    name: 'malformed: not a JWT',
    header: () => bearer('not-a-jwt'),
    status: 401,
    message: /not a JWT/,
  },
  {
    name: 'malformed: header is not JSON',
    header: (k, aud, email) =>
      bearer(
        `${b64url('nope')}.${signIdToken(k.k1, idTokenClaims(aud, email)).split('.').slice(1).join('.')}`,
      ),
    status: 401,
    message: /header is not base64url JSON/,
  },
  {
    name: 'malformed: 12 KB of token',
    header: () => bearer(`${'a'.repeat(6_000)}.${'b'.repeat(6_000)}.c`),
    status: 401,
    message: /not base64url JSON/,
  },
  {
    name: 'expired',
    header: (k, aud, email) =>
      bearer(
        signIdToken(
          k.k1,
          idTokenClaims(aud, email, {iat: now() - 7200, exp: now() - 3600}),
        ),
      ),
    status: 401,
    message: /expired/,
  },
  {
    name: 'not yet valid (nbf in an hour)',
    header: (k, aud, email) =>
      bearer(signIdToken(k.k1, idTokenClaims(aud, email, {nbf: now() + 3600}))),
    status: 401,
    message: /not valid yet/,
  },
  {
    name: 'issued in the future (iat in an hour)',
    header: (k, aud, email) =>
      bearer(signIdToken(k.k1, idTokenClaims(aud, email, {iat: now() + 3600}))),
    status: 401,
    message: /issued in the future/,
  },
  {
    name: 'wrongly signed (another key, same kid)',
    header: (k, aud, email) =>
      bearer(signIdToken(k.other, idTokenClaims(aud, email))),
    status: 401,
    message: /signature is invalid/,
  },
  {
    name: 'unknown key id',
    header: (k, aud, email) =>
      bearer(
        signIdToken(k.k1, idTokenClaims(aud, email), {
          alg: 'RS256',
          kid: 'k9',
          typ: 'JWT',
        }),
      ),
    status: 401,
    message: /unknown key/,
  },
  {
    name: 'alg none, no signature',
    header: (_k, aud, email) =>
      bearer(
        `${b64url({alg: 'none', kid: 'k1', typ: 'JWT'})}.${b64url(idTokenClaims(aud, email))}.`,
      ),
    status: 401,
    message: /algorithm must be RS256, got "none"/,
  },
  {
    name: 'alg HS256 keyed with the public key (algorithm confusion)',
    header: (k, aud, email) => {
      const input = `${b64url({alg: 'HS256', kid: 'k1', typ: 'JWT'})}.${b64url(idTokenClaims(aud, email))}`;
      const pem = k.k1Public.export({format: 'pem', type: 'spki'});
      return bearer(
        `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`,
      );
    },
    status: 401,
    message: /algorithm must be RS256, got "HS256"/,
  },
  {
    name: 'RS256 with the signature stripped',
    header: (k, aud, email) =>
      bearer(
        signIdToken(k.k1, idTokenClaims(aud, email)).replace(/\.[^.]*$/, '.'),
      ),
    status: 401,
    message: /signature is invalid/,
  },
  {
    name: 'claims changed after signing (another email)',
    header: (k, aud) => {
      const [h, , s] = signIdToken(
        k.k1,
        idTokenClaims(aud, 'x@example.org'),
      ).split('.');
      return bearer(`${h}.${b64url(idTokenClaims(aud, ALICE))}.${s}`);
    },
    status: 401,
    message: /signature is invalid/,
  },
  {
    name: 'wrong audience',
    header: (k, _aud, email) =>
      bearer(signIdToken(k.k1, idTokenClaims('https://other.run.app', email))),
    status: 401,
    message: /audience "https:\/\/other.run.app" is not accepted/,
  },
  {
    name: 'wrong issuer',
    header: (k, aud, email) =>
      bearer(
        signIdToken(
          k.k1,
          idTokenClaims(aud, email, {iss: 'https://evil.example.org'}),
        ),
      ),
    status: 401,
    message: /issuer "https:\/\/evil.example.org" is not Google/,
  },
  {
    name: 'no email claim',
    header: (k, aud) =>
      bearer(signIdToken(k.k1, idTokenClaims(aud, '', {email: undefined}))),
    status: 403,
    message: /carries no email/,
  },
  {
    name: 'email not verified',
    header: (k, aud, email) =>
      bearer(
        signIdToken(k.k1, idTokenClaims(aud, email, {email_verified: false})),
      ),
    status: 403,
    message: /is not verified/,
  },
  {
    name: 'caller not on the allow-list',
    header: (k, aud) =>
      bearer(signIdToken(k.k1, idTokenClaims(aud, 'mallory@example.org'))),
    status: 403,
    message: /mallory@example.org is not allowed/,
  },
];

describe('access control of the manage and ingest functions (functions framework, emulators)', () => {
  const emu = useEmulators({pubsub: true, firestore: true});
  const keys: Keys = (() => {
    const k1 = testKeyPair();
    return {
      k1: k1.privateKey,
      k1Public: k1.publicKey,
      other: testKeyPair().privateKey,
    };
  })();
  let certs: CertsServer;
  let manage: FunctionServer;
  let ingest: FunctionServer;
  let project: string;
  let db: Firestore;
  let user: PubSub;
  const statuses = new Map<number, number>();
  let tried = 0;

  before(async () => {
    certs = await startCertsServer(jwksOf({k1: keys.k1Public}));
    project = emu.uniqueId('access');
    db = emu.firestore(project);
    user = emu.pubsub(project);
    await emu.pubsub(PG).createTopic('ztf-loop');
    const common = {
      ...emu.emulators.env,
      GOOGLE_CLOUD_PROJECT: project,
      PITTGOOGLE_PROJECT: PG,
      AUTH_CERTS_URL: certs.url,
      LOG_LEVEL: 'WARNING',
    };
    ingest = await startFunctionServer({
      target: 'ingest',
      env: {
        ...common,
        PUSH_AUTH_EMAILS: PUSH_SA,
        PUSH_AUTH_AUDIENCES: INGEST_AUD,
      },
    });
    manage = await startFunctionServer({
      target: 'manage',
      env: {
        ...common,
        INGEST_URL: ingest.url,
        AUTH_ALLOWED_EMAILS: ALICE,
        AUTH_AUDIENCES: MANAGE_AUD,
      },
    });
  });

  after(async () => {
    await Promise.all([manage?.stop(), ingest?.stop()]);
    await certs?.close();
  });

  const count = (a: RawAnswer) => {
    tried++;
    statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    return a;
  };

  const callManage = async (
    method: string,
    path: string,
    opts: {auth?: string; body?: unknown; raw?: string | Buffer} = {},
  ) =>
    count(
      await rawRequest({
        port: manage.port,
        method,
        path,
        headers: {
          // A raw body goes as text: a malformed application/json body is
          // refused by the framework's parser before the function runs.
          'content-type': opts.raw ? 'text/plain' : 'application/json',
          ...(opts.auth ? {authorization: opts.auth} : {}),
        },
        body:
          opts.raw ??
          (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      }),
    );

  const push = async (auth: string | undefined, seed: number) => {
    const p = generateZtfPacket({seed, cutoutBytes: 0});
    const a = await rawRequest({
      port: ingest.port,
      path: `/?subscription=${PUSH_SUB}`,
      headers: {
        'content-type': 'application/json',
        ...(auth ? {authorization: auth} : {}),
      },
      body: JSON.stringify(pushEnvelope(p.bytes, {messageId: `push-${seed}`})),
    });
    return {answer: count(a), sourceId: p.expected[0].sourceId};
  };

  const subscriptionsIn = async () => {
    const [subs] = await user.getSubscriptions();
    return subs.map(s => s.name.split('/').pop()).sort();
  };
  const recordsIn = async () =>
    (await db.collection('subscriptions').get()).docs.map(d => d.id).sort();

  const manageToken = () =>
    bearer(signIdToken(keys.k1, idTokenClaims(MANAGE_AUD, ALICE)));

  for (const t of TOKENS) {
    it(`manage refuses: ${t.name} (${t.status})`, async () => {
      const a = await callManage('PUT', '/subscriptions/ztf-loop', {
        auth: t.header(keys, MANAGE_AUD, ALICE),
        body: {},
      });
      assert.equal(a.status, t.status, a.text);
      assert.equal(
        errorCode(a),
        t.status === 401 ? 'unauthenticated' : 'forbidden',
      );
      assert.match(
        (a.json as {error: {message: string}}).error.message,
        t.message,
      );
      if (t.status === 401)
        assert.equal(a.headers['www-authenticate'], 'Bearer');
    });
    it(`ingest refuses: ${t.name} (${t.status})`, async () => {
      const {answer} = await push(
        t.header(keys, INGEST_AUD, PUSH_SA),
        1000 + tried,
      );
      assert.equal(answer.status, t.status, answer.text);
      assert.equal(
        errorCode(answer),
        t.status === 401 ? 'unauthenticated' : 'forbidden',
      );
      assert.match(
        (answer.json as {error: {message: string}}).error.message,
        t.message,
      );
    });
  }

  it('a token for one function is refused by the other (audience), and refused requests did no work', async () => {
    const pushToken = bearer(
      signIdToken(keys.k1, idTokenClaims(INGEST_AUD, PUSH_SA)),
    );
    const m = await callManage('GET', '/subscriptions', {auth: pushToken});
    assert.equal(m.status, 401);
    const {answer} = await push(manageToken(), 2000);
    assert.equal(answer.status, 401);
    // Nothing was created, stored or quarantined by any refused request.
    assert.deepEqual(await subscriptionsIn(), []);
    assert.deepEqual(await recordsIn(), []);
    const [alerts, quarantine] = await Promise.all([
      db.collectionGroup('alerts').count().get(),
      db.collectionGroup('quarantine').count().get(),
    ]);
    assert.equal(alerts.data().count, 0);
    assert.equal(quarantine.data().count, 0);
  });

  it('accepts valid tokens: the manage caller creates a subscription, the push account stores an alert', async () => {
    const created = await callManage('PUT', '/subscriptions/ztf-loop', {
      auth: manageToken(),
      body: {},
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(await subscriptionsIn(), ['ztf-loop']);
    const {answer, sourceId} = await push(
      bearer(signIdToken(keys.k1, idTokenClaims(INGEST_AUD, PUSH_SA))),
      3000,
    );
    assert.equal(answer.status, 204, answer.text);
    const doc = await db
      .collection('subscriptions')
      .doc(PUSH_SUB)
      .collection('alerts')
      .doc(alertDocumentId(sourceId))
      .get();
    assert.ok(doc.exists);
    assert.equal(doc.get('sourceId'), sourceId);
  });

  // With a valid token: hostile names, topics, filters and bodies never
  // reach Pub/Sub or Firestore.
  const big = 'a'.repeat(300);
  const deep = (n: number): unknown =>
    n === 0 ? {field: 'mag', op: 'lt', value: 20} : {not: deep(n - 1)};
  const hostile: [string, string, string, unknown, number, string][] = [
    [
      'name ../../etc (encoded)',
      'PUT',
      '/subscriptions/..%2F..%2Fetc',
      {},
      400,
      'invalid-name',
    ],
    ['name ..', 'PUT', '/subscriptions/%2E%2E', {}, 400, 'invalid-name'],
    [
      'name with a slash',
      'PUT',
      '/subscriptions/abc%2Fdef',
      {},
      400,
      'invalid-name',
    ],
    ['name goog-x', 'PUT', '/subscriptions/goog-x', {}, 400, 'invalid-name'],
    ['name __x__', 'PUT', '/subscriptions/__x__', {}, 400, 'invalid-name'],
    ['name too short', 'PUT', '/subscriptions/ab', {}, 400, 'invalid-name'],
    [
      'name of 300 characters',
      'PUT',
      `/subscriptions/${big}`,
      {},
      400,
      'invalid-name',
    ],
    [
      'unicode name',
      'PUT',
      '/subscriptions/%C3%B1ame-sub',
      {},
      400,
      'invalid-name',
    ],
    [
      'NUL in the name',
      'PUT',
      '/subscriptions/abc%00def',
      {},
      400,
      'invalid-name',
    ],
    [
      'newline in the name',
      'PUT',
      '/subscriptions/abc%0Adef',
      {},
      400,
      'invalid-name',
    ],
    // Refused by the framework's router before the function runs (its own page).
    ['bad percent-encoding', 'PUT', '/subscriptions/abc%zzdef', {}, 400, ''],
    [
      'extra path segment',
      'PUT',
      '/subscriptions/abc/def',
      {},
      404,
      'not-found',
    ],
    [
      'traversal name in the body (POST)',
      'POST',
      '/subscriptions',
      {name: '../x-sub'},
      400,
      'invalid-name',
    ],
    [
      'full path as the Python form name',
      'POST',
      '/subscriptions',
      {subscription_name: 'projects/x/subscriptions/y'},
      400,
      'invalid-name',
    ],
    [
      'topic ../../x',
      'PUT',
      '/subscriptions/topic-a',
      {topic: '../../x'},
      400,
      'invalid-name',
    ],
    [
      'topic path with traversal',
      'PUT',
      '/subscriptions/topic-b',
      {topic: 'projects/evil-project/topics/../x'},
      400,
      'invalid-name',
    ],
    [
      'topic path with extra segments',
      'PUT',
      '/subscriptions/topic-c',
      {topic: `projects/${PG}/topics/ztf-loop/subscriptions/x`},
      400,
      'invalid-name',
    ],
    [
      'PATCH a traversal name',
      'PATCH',
      '/subscriptions/..%2Fx',
      {filter: null},
      400,
      'invalid-name',
    ],
    [
      'DELETE a traversal name',
      'DELETE',
      '/subscriptions/..%2Fx',
      undefined,
      400,
      'invalid-name',
    ],
    [
      'seek a traversal name',
      'POST',
      '/subscriptions/..%2Fx:seek',
      {time: '2026-01-01T00:00:00Z'},
      400,
      'invalid-name',
    ],
    [
      'unknown custom method',
      'POST',
      '/subscriptions/ztf-loop:purge',
      {},
      404,
      'not-found',
    ],
    [
      'filter with a __proto__ node',
      'PUT',
      '/subscriptions/filter-a',
      JSON.parse(
        '{"filter": {"__proto__": {"field": "mag", "op": "lt", "value": 1}}}',
      ),
      400,
      'invalid-filter',
    ],
    [
      'filter with a constructor node',
      'PUT',
      '/subscriptions/filter-b',
      {filter: {constructor: {field: 'mag', op: 'lt', value: 1}}},
      400,
      'invalid-filter',
    ],
    [
      'filter reading __proto__.x',
      'PUT',
      '/subscriptions/filter-c',
      {filter: {field: '__proto__.x', op: 'eq', value: 1}},
      400,
      'invalid-filter',
    ],
    [
      'filter reading candidate.constructor',
      'PUT',
      '/subscriptions/filter-d',
      {filter: {field: 'candidate.constructor', op: 'exists'}},
      400,
      'invalid-filter',
    ],
    [
      'filter 100 levels deep',
      'PUT',
      '/subscriptions/filter-e',
      {filter: deep(100)},
      400,
      'invalid-filter',
    ],
    [
      'filter of 300 leaves',
      'PUT',
      '/subscriptions/filter-f',
      {
        filter: {
          any: Array.from({length: 300}, (_, i) => ({
            field: 'mag',
            op: 'lt',
            value: i,
          })),
        },
      },
      400,
      'invalid-filter',
    ],
    [
      'filter with an unknown operator',
      'PUT',
      '/subscriptions/filter-g',
      {filter: {field: 'mag', op: 'regex', value: '.*'}},
      400,
      'invalid-filter',
    ],
    [
      'filter as a string of code',
      'PUT',
      '/subscriptions/filter-h',
      {filter: 'process.exit(1)'},
      400,
      'invalid-filter',
    ],
    [
      'Python form with a non-numeric threshold',
      'PUT',
      '/subscriptions/filter-i',
      {classtar_threshold: 'abc'},
      400,
      'invalid-filter',
    ],
    [
      'unknown body field',
      'PUT',
      '/subscriptions/body-a',
      {pushEndpoint: 'https://evil.example.org/'},
      400,
      'bad-request',
    ],
    [
      'body that is not JSON',
      'PUT',
      '/subscriptions/body-b',
      '{"filter": ',
      400,
      'bad-request',
    ],
    [
      'body of 100 KB',
      'PUT',
      '/subscriptions/body-c',
      {filter: null, pad: 'x'.repeat(100 * 1024)},
      413,
      'too-large',
    ],
  ];
  for (const [what, method, p, body, status, code] of hostile) {
    it(`manage with a valid token refuses ${what} (${status} ${code})`, async () => {
      const a = await callManage(method, p, {
        auth: manageToken(),
        ...(typeof body === 'string' ? {raw: body} : {body}),
      });
      assert.equal(a.status, status, a.text);
      if (code) assert.equal(errorCode(a), code, a.text);
      else assert.match(a.text, /URIError|Bad Request/);
    });
  }

  it('no hostile request created anything; figures', async () => {
    assert.deepEqual(await subscriptionsIn(), ['ztf-loop']);
    assert.deepEqual(await recordsIn(), ['ztf-loop']);
    const [topics] = await user.getTopics();
    assert.deepEqual(topics, [], 'no topic created in the user project');
    const [alerts, quarantine] = await Promise.all([
      db.collectionGroup('alerts').count().get(),
      db.collectionGroup('quarantine').count().get(),
    ]);
    assert.equal(alerts.data().count, 1, 'only the authenticated push stored');
    assert.equal(quarantine.data().count, 0);
    recordFigure({
      suite: 'access',
      name: 'hostile tokens (manage and ingest), hostile names, topics and filters with a valid token',
      tried,
      lost: 0,
      duplicated: 0,
      quarantinedValid: 0,
      details: {
        ...Object.fromEntries(
          [...statuses]
            .sort((a, b) => a[0] - b[0])
            .map(([s, c]) => [`HTTP ${s}`, c]),
        ),
        'token cases': TOKENS.length,
        'created by refused requests': 0,
      },
    });
  });
});
