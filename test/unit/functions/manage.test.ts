/**
 * The pure parts of the manage API: routes, bodies, settings and their
 * diff, error mapping, configuration, and the manager's decisions with
 * fake ports (races, unreadable topics, recreate-required patches).
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import type {SubscriptionMetadata} from '@google-cloud/pubsub';

import {loadConfig} from '../../../src/config';
import {AlertError, PermanentError} from '../../../src/errors';
import {statusOf} from '../../../src/functions/manage';
import type {
  SubscriptionRecord,
  SubscriptionStore,
} from '../../../src/store/subscription-store';
import {
  classifyPubSubError,
  createSubscriptionManager,
  desiredSettings,
  diffState,
  fromMetadata,
  parsePatchBody,
  parsePurge,
  parseRoute,
  parseSeekBody,
  parseTouchBody,
  PubSubPort,
  pushEndpointFor,
  toMetadata,
} from '../../../src/subscriptions';

const PG = 'ardent-cycling-243415';

const code = (c: string) => (e: AlertError) => {
  assert.equal(e.code, c, e.message);
  return true;
};

describe('manage: routes', () => {
  it('maps methods and paths, validating names first', () => {
    assert.deepEqual(parseRoute('GET', '/subscriptions'), {action: 'list'});
    assert.deepEqual(parseRoute('GET', '/subscriptions/'), {action: 'list'});
    assert.deepEqual(parseRoute('POST', '/subscriptions'), {
      action: 'touch',
      name: undefined,
    });
    assert.deepEqual(parseRoute('PUT', '/subscriptions/ztf-loop'), {
      action: 'touch',
      name: 'ztf-loop',
    });
    assert.deepEqual(parseRoute('get', '/subscriptions/my.sub~1'), {
      action: 'get',
      name: 'my.sub~1',
    });
    assert.deepEqual(parseRoute('PATCH', '/subscriptions/ztf-loop'), {
      action: 'patch',
      name: 'ztf-loop',
    });
    assert.deepEqual(parseRoute('DELETE', '/subscriptions/ztf-loop'), {
      action: 'delete',
      name: 'ztf-loop',
    });
    assert.deepEqual(parseRoute('POST', '/subscriptions/ztf-loop:seek'), {
      action: 'seek',
      name: 'ztf-loop',
    });
    assert.throws(() => parseRoute('GET', '/'), code('not-found'));
    assert.throws(
      () => parseRoute('GET', '/subscriptions/a/b'),
      code('not-found'),
    );
    assert.throws(
      () => parseRoute('POST', '/subscriptions/x-y-z:undo'),
      code('not-found'),
    );
    assert.throws(
      () => parseRoute('GET', '/subscriptions/abc:seek'),
      code('method-not-allowed'),
    );
    assert.throws(
      () => parseRoute('POST', '/subscriptions/ztf-loop'),
      code('method-not-allowed'),
    );
    for (const bad of [
      'ab',
      'goog-sub',
      '9lives',
      '__x__',
      'a b c',
      '%E0%A4%A',
    ]) {
      assert.throws(
        () => parseRoute('GET', `/subscriptions/${bad}`),
        code('invalid-name'),
        bad,
      );
    }
  });
});

describe('manage: bodies', () => {
  it('touch: JSON form with defaults, topic paths, settings ranges', () => {
    const t = parseTouchBody('ztf-loop', undefined, PG);
    assert.deepEqual(t, {
      name: 'ztf-loop',
      topic: `projects/${PG}/topics/ztf-loop`,
      filter: null,
      overrides: {},
      form: 'json',
    });
    const u = parseTouchBody(
      'mine',
      JSON.stringify({
        topic: 'projects/pitt-alert-broker/topics/lsst-alerts',
        filter: {field: 'mag', op: 'lt', value: 18},
        ackDeadlineSeconds: 60,
        expirationDays: null,
        retainAckedMessages: true,
      }),
      PG,
    );
    assert.equal(u.topic, 'projects/pitt-alert-broker/topics/lsst-alerts');
    assert.deepEqual(u.overrides, {
      ackDeadlineSeconds: 60,
      expirationDays: null,
      retainAckedMessages: true,
    });
    assert.throws(
      () => parseTouchBody('x-y-z', {ackDeadlineSeconds: 5}, PG),
      code('bad-request'),
    );
    assert.throws(
      () => parseTouchBody('x-y-z', {topic: 'projects/P/x'}, PG),
      code('invalid-name'),
    );
    assert.throws(
      () => parseTouchBody('x-y-z', {topic: 'goog'}, PG),
      code('invalid-name'),
    );
    assert.throws(
      () => parseTouchBody('x-y-z', '{"filter":', PG),
      code('bad-request'),
    );
    assert.throws(() => parseTouchBody('x-y-z', [1], PG), code('bad-request'));
    assert.throws(
      () => parseTouchBody('x-y-z', {name: 'other'}, PG),
      code('bad-request'),
    );
    assert.throws(() => parseTouchBody(undefined, {}, PG), code('bad-request'));
    assert.equal(
      parseTouchBody(undefined, {name: 'ztf-loop'}, PG).name,
      'ztf-loop',
    );
    assert.throws(
      () =>
        parseTouchBody(
          'x-y-z',
          {filter: {field: 'nope', op: 'eq', value: 1}},
          PG,
        ),
      code('invalid-filter'),
    );
  });

  it("touch: tom_pittgoogle's form fields", () => {
    const t = parseTouchBody(
      undefined,
      {
        subscription_name: 'ztf-loop',
        classtar_threshold: 0.5,
        classtar_gt_lt: 'gt',
        max_results: '100',
        timeout: null,
        max_backlog: 1000,
      },
      PG,
    );
    assert.equal(t.form, 'python');
    assert.equal(t.topic, `projects/${PG}/topics/ztf-loop`);
    assert.deepEqual(t.filter, {field: 'classtar', op: 'gte', value: 0.5});
    assert.deepEqual(t.flow, {
      maxResults: 100,
      timeoutSeconds: null,
      maxBacklog: 1000,
    });
    const none = parseTouchBody(
      'ztf-loop',
      {subscription_name: 'ztf-loop'},
      PG,
    );
    assert.equal(none.filter, null, 'no threshold: everything passes');
    assert.throws(
      () =>
        parseTouchBody(
          'ztf-loop',
          {subscription_name: 'ztf-loop', filter: null},
          PG,
        ),
      code('bad-request'),
      'forms are not mixed',
    );
    assert.throws(
      () => parseTouchBody('ztf-loop', {classtar_threshold: 0.5}, PG),
      code('invalid-filter'),
    );
    assert.throws(
      () => parseTouchBody('ztf-loop', {max_results: -1}, PG),
      code('bad-request'),
    );
  });

  it('patch, seek, purge', () => {
    assert.deepEqual(parsePatchBody({filter: null}), {
      filter: null,
      overrides: {},
    });
    assert.deepEqual(parsePatchBody({ackDeadlineSeconds: 20}), {
      overrides: {ackDeadlineSeconds: 20},
    });
    assert.deepEqual(
      parsePatchBody({classtar_threshold: 0.2, classtar_gt_lt: 'lt'}),
      {
        filter: {field: 'classtar', op: 'lt', value: 0.2},
        overrides: {},
      },
    );
    assert.throws(() => parsePatchBody({}), code('bad-request'));
    assert.throws(() => parsePatchBody({topic: 'x'}), code('bad-request'));
    const now = Date.parse('2026-11-29T10:00:00Z');
    assert.equal(
      parseSeekBody({time: '2026-11-29T08:00:00+01:00'}, now).toISOString(),
      '2026-11-29T07:00:00.000Z',
    );
    for (const time of [
      '2026-11-29',
      'yesterday',
      1732800000,
      '2026-13-40T99:00:00Z',
    ]) {
      assert.throws(
        () => parseSeekBody({time}, now),
        code('bad-request'),
        String(time),
      );
    }
    assert.throws(
      () => parseSeekBody({time: '2026-11-30T00:00:00Z'}, now),
      /future/,
    );
    assert.equal(parsePurge(undefined), false);
    assert.equal(parsePurge('true'), true);
    assert.throws(() => parsePurge('yes please'), code('bad-request'));
  });
});

const CFG = {
  ...loadConfig({
    GOOGLE_CLOUD_PROJECT: 'user-proj',
    INGEST_URL: 'https://ingest-abc.a.run.app',
    PUSH_SERVICE_ACCOUNT: 'pittgoogle-push@user-proj.iam.gserviceaccount.com',
    DEAD_LETTER_TOPIC: 'pittgoogle-dead-letter',
  }),
};

describe('manage: settings', () => {
  it('configuration: names kept, values validated', () => {
    assert.equal(
      CFG.deadLetterTopic,
      'projects/user-proj/topics/pittgoogle-dead-letter',
    );
    assert.equal(CFG.maxDeliveryAttempts, 10);
    assert.equal(CFG.ackDeadlineSeconds, 600);
    assert.equal(CFG.subscriptionExpirationDays, 31);
    assert.deepEqual(CFG.authAllowedEmails, []);
    const c = loadConfig({
      AUTH_ALLOWED_EMAILS: 'A@x.org, b@y.org',
      AUTH_AUDIENCES: 'https://m.run.app',
    });
    assert.deepEqual(c.authAllowedEmails, ['a@x.org', 'b@y.org']);
    assert.deepEqual(c.authAudiences, ['https://m.run.app']);
    assert.throws(
      () => loadConfig({MAX_DELIVERY_ATTEMPTS: '4'}),
      /MAX_DELIVERY_ATTEMPTS/,
    );
    assert.throws(
      () => loadConfig({ACK_DEADLINE_SECONDS: '601'}),
      /ACK_DEADLINE_SECONDS/,
    );
    assert.throws(() => loadConfig({INGEST_URL: 'ftp://x'}), /INGEST_URL/);
    assert.throws(
      () => loadConfig({INGEST_URL: 'https://x/?a=1'}),
      /INGEST_URL/,
    );
    assert.throws(
      () => loadConfig({AUTH_ALLOWED_EMAILS: 'alice'}),
      /AUTH_ALLOWED_EMAILS/,
    );
    assert.throws(
      () => loadConfig({DEAD_LETTER_TOPIC: 'projects/x'}),
      /DEAD_LETTER_TOPIC/,
    );
  });

  it('push endpoint carries the name; OIDC audience is the ingest URL without the query', () => {
    assert.equal(
      pushEndpointFor('https://ingest-abc.a.run.app', 'ztf-loop'),
      'https://ingest-abc.a.run.app/?subscription=ztf-loop',
    );
    const s = desiredSettings(CFG, 'ztf-loop');
    assert.equal(
      s.oidcServiceAccount,
      'pittgoogle-push@user-proj.iam.gserviceaccount.com',
    );
    assert.equal(s.oidcAudience, 'https://ingest-abc.a.run.app');
    assert.equal(s.maxDeliveryAttempts, 10);
    const local = desiredSettings(
      {...CFG, pushServiceAccount: undefined, deadLetterTopic: undefined},
      'x-y-z',
    );
    assert.equal(local.oidcServiceAccount, null);
    assert.equal(local.deadLetterTopic, null);
    assert.equal(local.maxDeliveryAttempts, null);
    const meta = toMetadata(local);
    assert.equal(
      meta.pushConfig?.oidcToken,
      undefined,
      'no OIDC without a service account',
    );
    assert.equal(meta.deadLetterPolicy, null);
    assert.throws(
      () =>
        desiredSettings({...CFG, deadLetterTopic: undefined}, 'x-y-z', {
          maxDeliveryAttempts: 7,
        }),
      code('bad-request'),
    );
    assert.throws(
      () =>
        desiredSettings(CFG, 'x-y-z', {
          minimumBackoffSeconds: 100,
          maximumBackoffSeconds: 50,
        }),
      code('bad-request'),
    );
    assert.throws(
      () => desiredSettings({...CFG, ingestUrl: undefined}, 'x-y-z'),
      code('bad-config'),
    );
  });

  it('round-trips through the Pub/Sub resource; the diff separates updatable from fixed fields', () => {
    const s = desiredSettings(CFG, 'ztf-loop', {expirationDays: null});
    // As Pub/Sub answers: durations as strings, every field present.
    const meta = JSON.parse(
      JSON.stringify({
        ...toMetadata(s),
        topic: `projects/${PG}/topics/ztf-loop`,
        filter: 'attributes.fid = "1"',
      }),
      (k, v) => (k === 'seconds' ? String(v) : v),
    );
    const state = fromMetadata(meta);
    assert.deepEqual(state.settings, s);
    assert.deepEqual(diffState(state, state), {
      changeable: [],
      unchangeable: [],
    });
    const d = diffState(state, {
      topic: `projects/${PG}/topics/ztf-lite`,
      filter: '',
      settings: {
        ...s,
        ackDeadlineSeconds: 60,
        expirationDays: 31,
        labels: {a: 'b'},
      },
    });
    assert.deepEqual(d.changeable, [
      'ackDeadlineSeconds',
      'expirationDays',
      'labels',
    ]);
    assert.deepEqual(
      d.unchangeable.map(u => u.field),
      ['topic', 'filter'],
    );
    assert.deepEqual(Object.keys(toMetadata(s, d.changeable)).sort(), [
      'ackDeadlineSeconds',
      'expirationPolicy',
      'labels',
    ]);
    assert.deepEqual(toMetadata(s).expirationPolicy, {}, 'never expires');
  });

  it('maps Pub/Sub failures and reason codes onto HTTP statuses', () => {
    const st = (grpc: number | undefined) =>
      statusOf(
        classifyPubSubError(
          Object.assign(new Error('x'), {code: grpc}),
          'doing',
        ),
      );
    assert.equal(st(3), 400);
    assert.equal(st(5), 404);
    assert.equal(st(6), 409);
    assert.equal(st(9), 409);
    assert.equal(st(7), 502);
    assert.equal(st(14), 503);
    assert.equal(st(4), 503);
    assert.equal(st(undefined), 503);
    assert.equal(statusOf(new PermanentError('unauthenticated', 'x')), 401);
    assert.equal(statusOf(new PermanentError('forbidden', 'x')), 403);
    assert.equal(statusOf(new PermanentError('too-large', 'x')), 413);
  });
});

// ---------------------------------------------------------------------------
// the manager with fake ports

function fakeStore(): SubscriptionStore & {
  records: Map<string, SubscriptionRecord>;
} {
  const records = new Map<string, SubscriptionRecord>();
  return {
    records,
    get: async n =>
      records.has(n) ? structuredClone(records.get(n)) : undefined,
    put: async r => {
      records.set(r.name, {...structuredClone(r), updatedAt: new Date()});
    },
    delete: async n => {
      records.delete(n);
    },
    list: async () => [...records.values()],
    loadFilter: async () => {
      throw new Error('not used');
    },
    loadFilters: async () => {
      throw new Error('not used');
    },
  };
}

function fakePubSub(over: Partial<PubSubPort> = {}) {
  const subs = new Map<string, SubscriptionMetadata & {topic: string}>();
  const calls: string[] = [];
  const port: PubSubPort = {
    subscriptionPath: n => `projects/user-proj/subscriptions/${n}`,
    topicExists: async () => true,
    getSubscription: async n => {
      calls.push(`get ${n}`);
      return subs.get(n) as never;
    },
    createSubscription: async (n, topic, m) => {
      calls.push(`create ${n}`);
      const s = JSON.parse(JSON.stringify({...m, topic}));
      subs.set(n, s);
      return s;
    },
    updateSubscription: async (n, m) => {
      calls.push(`update ${n} ${Object.keys(m).join(',')}`);
      const s = {...subs.get(n)!, ...JSON.parse(JSON.stringify(m))};
      subs.set(n, s);
      return s;
    },
    deleteSubscription: async n => subs.delete(n),
    seek: async () => undefined,
    ...over,
  };
  return {port, subs, calls};
}

const counts = {
  count: async () => ({alerts: 0, quarantined: 0}),
  purge: async () => ({alerts: 0, quarantined: 0, complete: true}),
};

describe('manage: the manager (fake ports)', () => {
  const touch = (name: string, filter: unknown = null) =>
    parseTouchBody(name, {filter}, PG);

  it('a touch that races another (ALREADY_EXISTS) re-reads and compares', async () => {
    const ps = fakePubSub();
    const store = fakeStore();
    const other = createSubscriptionManager({
      pubsub: ps.port,
      store,
      counts,
      config: CFG,
    });
    let raced = false;
    const racing = fakePubSub({
      getSubscription: async n =>
        raced ? ps.port.getSubscription(n) : undefined,
      createSubscription: async () => {
        await other.touch(touch('ztf-loop')); // the other touch wins
        raced = true;
        throw Object.assign(new Error('ALREADY_EXISTS'), {code: 6});
      },
    });
    const m = createSubscriptionManager({
      pubsub: racing.port,
      store,
      counts,
      config: CFG,
    });
    const r = await m.touch(touch('ztf-loop'));
    assert.equal(r.status, 'unchanged');
    assert.equal(r.subscription.pubsub, 'active');
    await assert.rejects(
      m.touch(
        touch('ztf-loop', {field: 'attributes.fid', op: 'eq', value: '1'}),
      ),
      code('conflict'),
    );
  });

  it('a topic it may not read is attached anyway; NOT_FOUND on create is the missing topic', async () => {
    const ps = fakePubSub({
      topicExists: async () => undefined,
      createSubscription: async () => {
        throw Object.assign(new Error('Resource not found'), {code: 5});
      },
    });
    const m = createSubscriptionManager({
      pubsub: ps.port,
      store: fakeStore(),
      counts,
      config: CFG,
    });
    await assert.rejects(m.touch(touch('ztf-nope')), (e: AlertError) => {
      assert.equal(e.code, 'not-found');
      assert.match(
        e.message,
        /Pitt-Google topic projects\/ardent-cycling-243415\/topics\/ztf-nope does not exist/,
      );
      return true;
    });
  });

  it('patch keeps the old expression when the new one differs, and says so', async () => {
    const ps = fakePubSub();
    const store = fakeStore();
    const m = createSubscriptionManager({
      pubsub: ps.port,
      store,
      counts,
      config: CFG,
    });
    await m.touch(
      touch('ztf-loop', {field: 'attributes.fid', op: 'eq', value: '1'}),
    );
    ps.calls.length = 0;
    const r = await m.patch('ztf-loop', {
      filter: {field: 'attributes.fid', op: 'eq', value: '2'},
      overrides: {},
    });
    assert.equal(r.subscription.recreateRequired, true);
    assert.equal(r.subscription.serverFilter, 'attributes.fid = "1"');
    assert.equal(r.subscription.plan.expression, 'attributes.fid = "2"');
    assert.deepEqual(store.records.get('ztf-loop')?.filter, {
      field: 'attributes.fid',
      op: 'eq',
      value: '2',
    });
    assert.ok(
      !ps.calls.some(c => c.startsWith('update')),
      'no Pub/Sub update for the filter',
    );
    // The subscription expired: the record says so.
    ps.subs.delete('ztf-loop');
    await assert.rejects(
      m.patch('ztf-loop', {filter: null, overrides: {}}),
      /no longer exists/,
    );
    const g = await m.get('ztf-loop');
    assert.equal(g.pubsub, 'missing');
    assert.equal(g.settings, null);
  });
});
