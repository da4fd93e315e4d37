/**
 * The manage function served by the real functions framework (a child
 * process per function, in its own process group) against the Pub/Sub and
 * Firestore emulators: the whole lifecycle, the 400/404/409/413 answers, the
 * tom_pittgoogle form, seek, and a subscription created here delivering
 * through the ingest function (also served by the framework) into Firestore.
 *
 * What the emulator honours (cloud-pubsub-emulator, measured here):
 * push config updates, ack deadline, retry and dead-letter policies,
 * expiration and retention settings are stored and returned; a filter is
 * stored but not applied and cannot be updated; seek to a time redelivers
 * acknowledged messages of a subscription with retainAckedMessages.
 */

import {strict as assert} from 'node:assert';
import {execFile} from 'node:child_process';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';
import type {PubSub} from '@google-cloud/pubsub';

import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {findFreePort, LOOPBACK} from '../../src/local/ports';
import {toSubscriptionFilter, validateFilter} from '../../src/filter';
import {generateZtfPacket} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';

const PG = 'ardent-cycling-243415';
const ROOT = path.resolve(__dirname, '..', '..', '..');

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Served {
  url: string;
  port: number;
  server: FunctionServer;
  output: () => string;
}

async function serve(
  target: string,
  port: number,
  env: Record<string, string>,
): Promise<Served> {
  const server = await startFunctionServer({target, port, env});
  return {
    url: server.url.replace(/\/$/, ''),
    port,
    server,
    output: server.output,
  };
}

async function stop(s: Served | undefined) {
  await s?.server.stop();
}

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(
  base: string,
  method: string,
  p: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(base + p, {
    method,
    headers: {
      ...(body !== undefined ? {'content-type': 'application/json'} : {}),
      ...headers,
    },
    body:
      body === undefined
        ? undefined
        : typeof body === 'string'
          ? body
          : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return {status: res.status, body: parsed};
}

/** Passes in-process: fid 1 or 2, and classtar >= 0.5 (null fails). */
const FILTER = {
  all: [
    {field: 'attributes.fid', op: 'in', value: ['1', '2']},
    {field: 'classtar', op: 'gte', value: 0.5},
  ],
};

describe('manage function on the emulators (functions framework)', () => {
  const emu = useEmulators({pubsub: true, firestore: true});
  let project: string;
  let manage: Served | undefined;
  let ingest: Served | undefined;
  let db: Firestore;
  let user: PubSub;
  let pg: PubSub;
  let env: Record<string, string>;

  before(async () => {
    project = emu.uniqueId('user');
    db = emu.firestore(project);
    user = emu.pubsub(project);
    pg = emu.pubsub(PG);
    await pg.createTopic('ztf-loop');
    await pg.createTopic('ztf-lite');
    await user.createTopic('pittgoogle-dead-letter');
    const [mPort, iPort] = [await findFreePort(), await findFreePort()];
    env = {
      ...emu.emulators.env,
      GOOGLE_CLOUD_PROJECT: project,
      PITTGOOGLE_PROJECT: PG,
      INGEST_URL: `http://${LOOPBACK}:${iPort}/`,
      DEAD_LETTER_TOPIC: 'pittgoogle-dead-letter',
      MAX_DELIVERY_ATTEMPTS: '5',
      FILTER_CACHE_TTL_MS: '0',
      LOG_LEVEL: 'WARNING',
    };
    [manage, ingest] = await Promise.all([
      serve('manage', mPort, env),
      serve('ingest', iPort, env),
    ]);
  });

  after(async () => {
    await Promise.all([stop(manage), stop(ingest)]);
  });

  const m = (method: string, p: string, body?: unknown) =>
    call(manage!.url, method, p, body);

  it('touches, touches again, updates, refuses what Pub/Sub cannot change, and validates', async () => {
    const created = await m('PUT', '/subscriptions/ztf-loop', {
      filter: FILTER,
      retainAckedMessages: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'created');
    const r = created.body.subscription;
    const plan = toSubscriptionFilter(validateFilter(FILTER), {
      idAttributes: true,
    });
    assert.equal(r.topic, `projects/${PG}/topics/ztf-loop`);
    assert.equal(r.path, `projects/${project}/subscriptions/ztf-loop`);
    assert.equal(r.serverFilter, plan.expression);
    assert.deepEqual(r.plan.inProcess, plan.inProcess);
    assert.equal(r.recreateRequired, false);
    assert.equal(
      r.settings.pushEndpoint,
      `http://${LOOPBACK}:${ingest!.port}/?subscription=ztf-loop`,
    );
    assert.equal(r.settings.oidcServiceAccount, null);
    assert.equal(r.settings.ackDeadlineSeconds, 600);
    assert.equal(
      r.settings.deadLetterTopic,
      `projects/${project}/topics/pittgoogle-dead-letter`,
    );
    assert.equal(r.settings.maxDeliveryAttempts, 5);
    assert.equal(r.settings.expirationDays, 31);
    assert.equal(r.settings.minimumBackoffSeconds, 10);
    assert.equal(r.settings.retainAckedMessages, true);

    // What Pub/Sub itself has.
    const [meta] = await user.subscription('ztf-loop').getMetadata();
    assert.equal(meta.topic, `projects/${PG}/topics/ztf-loop`);
    assert.equal(meta.filter, plan.expression);
    assert.equal(meta.pushConfig?.pushEndpoint, r.settings.pushEndpoint);
    assert.equal(meta.deadLetterPolicy?.maxDeliveryAttempts, 5);

    // Idempotent.
    const again = await m('PUT', '/subscriptions/ztf-loop', {
      filter: FILTER,
      retainAckedMessages: true,
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'unchanged');
    assert.deepEqual(again.body.changed, []);
    assert.equal(
      again.body.subscription.updatedAt,
      r.updatedAt,
      'the stored record is not rewritten',
    );

    // A changeable setting is updated in place.
    const upd = await m('PUT', '/subscriptions/ztf-loop', {
      filter: FILTER,
      retainAckedMessages: true,
      ackDeadlineSeconds: 300,
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.status, 'updated');
    assert.deepEqual(upd.body.changed, ['ackDeadlineSeconds']);
    const [meta2] = await user.subscription('ztf-loop').getMetadata();
    assert.equal(meta2.ackDeadlineSeconds, 300);

    // Unchangeable: the server-side filter, the topic.
    const filt = await m('PUT', '/subscriptions/ztf-loop', {
      filter: {field: 'attributes.fid', op: 'eq', value: '1'},
    });
    assert.equal(filt.status, 409);
    assert.equal(filt.body.error.code, 'conflict');
    assert.deepEqual(filt.body.error.details.fields, ['filter']);
    assert.match(filt.body.error.message, /DELETE .*touch it again/);
    const topic = await m('PUT', '/subscriptions/ztf-loop', {
      topic: 'ztf-lite',
      filter: FILTER,
    });
    assert.equal(topic.status, 409);
    assert.deepEqual(topic.body.error.details.fields, ['topic']);

    // 404: no such Pitt-Google topic; nothing is created.
    const nf = await m('PUT', '/subscriptions/ztf-nope');
    assert.equal(nf.status, 404);
    assert.match(
      nf.body.error.message,
      new RegExp(`topic projects/${PG}/topics/ztf-nope does not exist`),
    );
    assert.deepEqual(await user.subscription('ztf-nope').exists(), [false]);

    // 400s: names and filters, checked before any call.
    for (const bad of ['ab', 'goog-x', '1abc', 'a%2Fb%2Fc']) {
      const a = await m('PUT', `/subscriptions/${bad}`);
      assert.equal(a.status, 400, bad);
      assert.equal(a.body.error.code, 'invalid-name');
    }
    const badFilter = await m('PUT', '/subscriptions/ztf-loop', {
      filter: {all: [{field: 'mag', op: 'lt', value: 'bright'}]},
    });
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.error.code, 'invalid-filter');
    assert.equal(badFilter.body.error.details.path, '$.all[0].value');
    const unknown = await m('PUT', '/subscriptions/ztf-loop', {colour: 1});
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'bad-request');

    // 413 over 64 KiB; 405 on a wrong method.
    const big = await m('PUT', '/subscriptions/ztf-loop', {
      filter: {field: 'objectId', op: 'in', value: ['x'.repeat(70_000)]},
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'too-large');
    const post = await m('POST', '/subscriptions/ztf-loop');
    assert.equal(post.status, 405);
  });

  it('accepts tom_pittgoogle form fields as the touch body', async () => {
    const a = await m('POST', '/subscriptions', {
      subscription_name: 'ztf-lite',
      classtar_threshold: '0.8',
      classtar_gt_lt: 'lt',
      max_results: 100,
      timeout: 30,
      max_backlog: 1000,
    });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const r = a.body.subscription;
    assert.deepEqual(r.filter, {field: 'classtar', op: 'lt', value: 0.8});
    assert.equal(r.serverFilter, '');
    assert.deepEqual(r.flow, {
      maxResults: 100,
      timeoutSeconds: 30,
      maxBacklog: 1000,
    });
    const bad = await m('PUT', '/subscriptions/ztf-lite', {
      classtar_threshold: 2,
      classtar_gt_lt: 'lt',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.path, '$.classtar_threshold');
    const d = await m('DELETE', '/subscriptions/ztf-lite');
    assert.equal(d.status, 200);
  });

  it('delivers end to end: exactly the alerts that pass the filter reach Firestore; seek replays them', async () => {
    const topic = pg.topic('ztf-loop');
    const expected: string[] = [];
    const published: string[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const p = generateZtfPacket({
        seed,
        cutoutBytes: 200,
        nullClasstar: seed % 5 === 0,
      });
      const a = p.expected[0];
      const fid = String((seed % 3) + 1);
      await topic.publishMessage({
        data: p.bytes,
        attributes: {fid, objectId: a.objectId, candid: a.sourceId},
      });
      published.push(a.sourceId);
      if (fid !== '3' && a.classtar !== null && a.classtar >= 0.5) {
        expected.push(a.sourceId);
      }
    }
    assert.ok(expected.length > 0 && expected.length < 12, 'a real selection');
    const alerts = db.collection('subscriptions/ztf-loop/alerts');
    const ids = async () =>
      (await alerts.select('sourceId').get()).docs
        .map(d => d.get('sourceId'))
        .sort();
    const deadline = Date.now() + 30_000;
    while ((await ids()).length < expected.length && Date.now() < deadline) {
      await sleep(200);
    }
    await sleep(1500); // anything beyond the expected ones still coming
    assert.deepEqual(
      await ids(),
      [...expected].sort(),
      `ingest output:\n${ingest!.output().slice(-3000)}`,
    );

    const got = await m('GET', '/subscriptions/ztf-loop');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.counts, {
      alerts: expected.length,
      quarantined: 0,
    });
    const list = await m('GET', '/subscriptions');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.subscriptions.map((s: {name: string}) => s.name),
      ['ztf-loop'],
    );

    // Seek: delete the stored alerts, seek back, they come again.
    const batch = db.batch();
    (await alerts.select().get()).docs.forEach(d => batch.delete(d.ref));
    await batch.commit();
    assert.deepEqual(await ids(), []);
    const seek = await m('POST', '/subscriptions/ztf-loop:seek', {
      time: new Date(Date.now() - 10 * 60_000).toISOString(),
    });
    assert.equal(seek.status, 200, JSON.stringify(seek.body));
    assert.equal(seek.body.retainAckedMessages, true);
    const d2 = Date.now() + 30_000;
    while ((await ids()).length < expected.length && Date.now() < d2) {
      await sleep(200);
    }
    assert.deepEqual(await ids(), [...expected].sort(), 'replayed by seek');
    assert.equal(
      (await m('POST', '/subscriptions/ztf-loop:seek', {time: 'yesterday'}))
        .status,
      400,
    );
    assert.equal(
      (
        await m('POST', '/subscriptions/ztf-gone:seek', {
          time: new Date().toISOString(),
        })
      ).status,
      404,
    );
  });

  it('patches the filter (and says when recreating is needed) and settings', async () => {
    const inProc = await m('PATCH', '/subscriptions/ztf-loop', {
      filter: {
        all: [
          {field: 'attributes.fid', op: 'in', value: ['1', '2']},
          {field: 'classtar', op: 'gte', value: 0.9},
        ],
      },
    });
    assert.equal(inProc.status, 200, JSON.stringify(inProc.body));
    assert.deepEqual(inProc.body.changed, ['filter']);
    assert.equal(inProc.body.subscription.recreateRequired, false);
    assert.equal(inProc.body.subscription.filter.all[1].value, 0.9);

    const server = await m('PATCH', '/subscriptions/ztf-loop', {
      filter: {field: 'attributes.fid', op: 'eq', value: '2'},
      maximumBackoffSeconds: 120,
    });
    assert.equal(server.status, 200);
    const r = server.body.subscription;
    assert.equal(r.recreateRequired, true);
    assert.equal(r.plan.expression, 'attributes.fid = "2"');
    assert.notEqual(r.serverFilter, r.plan.expression, 'old expression kept');
    assert.match(
      server.body.message,
      /DELETE \/subscriptions\/ztf-loop and touch/,
    );
    assert.deepEqual(server.body.changed, ['maximumBackoffSeconds', 'filter']);
    const [meta] = await user.subscription('ztf-loop').getMetadata();
    assert.equal(Number(meta.retryPolicy?.maximumBackoff?.seconds), 120);

    const nf = await m('PATCH', '/subscriptions/ztf-none', {filter: null});
    assert.equal(nf.status, 404);
    const empty = await m('PATCH', '/subscriptions/ztf-loop', {});
    assert.equal(empty.status, 400);
  });

  it('deletes (not found is fine), keeping alerts unless purge=true', async () => {
    const count = (await m('GET', '/subscriptions/ztf-loop')).body.counts
      .alerts;
    assert.ok(count > 0);
    const d = await m('DELETE', '/subscriptions/ztf-loop');
    assert.equal(d.status, 200);
    assert.equal(d.body.subscriptionDeleted, true);
    assert.equal(d.body.recordDeleted, true);
    assert.deepEqual(await user.subscription('ztf-loop').exists(), [false]);
    const kept = await db
      .collection('subscriptions/ztf-loop/alerts')
      .count()
      .get();
    assert.equal(kept.data().count, count, 'alerts kept');
    assert.equal((await m('GET', '/subscriptions/ztf-loop')).status, 404);

    const again = await m('DELETE', '/subscriptions/ztf-loop?purge=true');
    assert.equal(again.status, 200);
    assert.equal(again.body.subscriptionDeleted, false);
    assert.equal(again.body.recordDeleted, false);
    assert.deepEqual(again.body.purged, {
      alerts: count,
      quarantined: 0,
      complete: true,
    });
    const left = await db
      .collection('subscriptions/ztf-loop/alerts')
      .count()
      .get();
    assert.equal(left.data().count, 0);
    assert.equal(
      (await m('DELETE', '/subscriptions/ztf-loop?purge=maybe')).status,
      400,
    );
  });

  it('the CLI runs the same operations directly', async () => {
    const cli = (...args: string[]) =>
      new Promise<{code: number; out: string; err: string}>(resolve =>
        execFile(
          process.execPath,
          [path.join(ROOT, 'build/src/cli/main.js'), 'subscriptions', ...args],
          {env: {...process.env, ...env}},
          (e, out, err) =>
            resolve({code: e ? Number(e.code ?? 1) : 0, out, err}),
        ),
      );
    const t = await cli(
      'touch',
      'ztf-lite',
      '--classtar-threshold',
      '0.3',
      '--classtar-gt-lt',
      'gt',
    );
    assert.equal(t.code, 0, t.err);
    assert.equal(JSON.parse(t.out).status, 'created');
    const g = await cli('get', 'ztf-lite');
    assert.equal(g.code, 0, g.err);
    assert.deepEqual(JSON.parse(g.out).filter, {
      field: 'classtar',
      op: 'gte',
      value: 0.3,
    });
    const l = await cli('list');
    assert.deepEqual(
      JSON.parse(l.out).subscriptions.map((s: {name: string}) => s.name),
      ['ztf-lite'],
    );
    const nf = await cli('touch', 'ztf-nope');
    assert.equal(nf.code, 1);
    assert.match(nf.err, /not-found: the Pitt-Google topic .* does not exist/);
    const d = await cli('delete', 'ztf-lite', '--purge');
    assert.equal(d.code, 0, d.err);
    assert.equal(JSON.parse(d.out).subscriptionDeleted, true);
    assert.equal((await cli('get', 'ztf-lite')).code, 1);
  });
});
