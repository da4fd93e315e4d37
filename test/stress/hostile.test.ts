/**
 * Hostile input, one named case at a time, through the push endpoint of the
 * ingest function served by the real functions framework (child process)
 * with the Firestore emulator, and (for payloads) through the decoder in
 * process. Each case asserts the answer's class and reason, what reached
 * Firestore (exactly one quarantine document with that reason, or none, or
 * the stored alerts), and that the function is still alive and healthy: a
 * valid alert sent right after it is stored. Figures: cases tried; valid
 * alerts lost, stored twice or quarantined (all must be 0).
 */

import {strict as assert} from 'node:assert';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';

import {createDecoder, Decoder} from '../../src/alert';
import {isAlertError} from '../../src/errors';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {
  generateZtfPacket,
  lsstLikeSchemaText,
  startSchemaRegistry,
  writeMixedSchemaDir,
} from '../helpers';
import type {SchemaRegistry} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';
import {
  errorCode,
  pushEnvelope,
  rawRequest,
  RawAnswer,
} from '../helpers/http-request';
import {recordFigure} from '../helpers/stress-report';
import {SUB, GEN_ID, SCHEMAS, Expected, Case, Ctx} from './hostile/case';
import {filterCases} from './hostile/filters';
import {liteJsonCases} from './hostile/lite-json';
import {payloadCases} from './hostile/payloads';
import {requestCases} from './hostile/requests';

/** Every case, in a fixed order (a case's index names its message and its valid alert's seed). */
function cases(): Case[] {
  return [
    ...requestCases(),
    ...payloadCases(),
    ...liteJsonCases(),
    ...filterCases(),
  ];
}

// ---------------------------------------------------------------------------

describe('hostile input through the ingest push endpoint and the decoder', () => {
  const emu = useEmulators({firestore: true});
  const project = `hostile-${Date.now().toString(36)}`;
  const logs: Record<string, unknown>[] = [];
  let fnDir: FunctionServer;
  let fnReg: FunctionServer;
  let registry: SchemaRegistry;
  let schemaDir: string;
  let db: Firestore;
  let decoderDir: Decoder;
  let decoderReg: Decoder;
  const table = cases();
  let tried = 0;
  const validIds: string[] = [];
  const expectedTotals = {q: 0, a: 0};

  before(async () => {
    schemaDir = await mkdtemp(path.join(tmpdir(), 'hostile-schemas-'));
    await writeMixedSchemaDir(
      schemaDir,
      [GEN_ID, GEN_ID + 1],
      SCHEMAS && path.join(SCHEMAS, 'lsst'),
    );
    registry = await startSchemaRegistry({
      [GEN_ID]: lsstLikeSchemaText(GEN_ID),
      [GEN_ID + 1]: lsstLikeSchemaText(GEN_ID + 1),
    });
    const env = {
      FIRESTORE_EMULATOR_HOST: emu.emulators.firestore!.host,
      GOOGLE_CLOUD_PROJECT: project,
      // Each filter case has its own subscription: a long TTL spares a read per message.
      FILTER_CACHE_TTL_MS: '60000',
      STORE_TIMEOUT_MS: '10000',
      // As deployed (src/deploy/plan.ts commonEnv): the framework's own error
      // pages then carry no stack trace.
      NODE_ENV: 'production',
    };
    [fnDir, fnReg] = await Promise.all([
      startFunctionServer({
        target: 'ingest',
        env: {...env, SCHEMA_SOURCE: schemaDir},
        onLog: e => logs.push(e),
      }),
      startFunctionServer({
        target: 'ingest',
        env: {...env, SCHEMA_SOURCE: registry.url},
        onLog: e => logs.push(e),
      }),
    ]);
    db = emu.firestore(project);
    decoderDir = createDecoder({schemaSource: schemaDir});
    decoderReg = createDecoder({schemaSource: registry.url});
  });

  after(async () => {
    await Promise.all([fnDir?.stop(), fnReg?.stop()]);
    await registry?.close();
    if (schemaDir) await rm(schemaDir, {recursive: true, force: true});
  });

  /** Documents of one subscription's quarantine and alerts. */
  const docsOf = async (sub: string) => {
    const ref = db.collection('subscriptions').doc(sub);
    const [q, a] = await Promise.all([
      ref.collection('quarantine').get(),
      ref.collection('alerts').select().get(),
    ]);
    return {q: q.docs.map(d => d.data()), a: a.size};
  };

  async function send(c: Case, ctx: Ctx): Promise<RawAnswer> {
    const r = c.request(ctx);
    const fn = r.server === 'registry' ? fnReg : fnDir;
    const body =
      r.body === undefined ||
      typeof r.body === 'string' ||
      Buffer.isBuffer(r.body)
        ? r.body
        : JSON.stringify(r.body);
    return rawRequest({
      port: fn.port,
      method: r.method,
      path: r.path ?? '/',
      headers:
        r.headers ??
        (r.body !== undefined ? {'content-type': 'application/json'} : {}),
      body,
    });
  }

  function checkAnswer(c: Case, e: Expected, answer: RawAnswer) {
    const what = `${c.name}: ${answer.status} ${answer.text.slice(0, 300)}`;
    assert.equal(answer.status, e.status, what);
    if (e.status !== 204) {
      if (e.reason) assert.equal(errorCode(answer), e.reason, what);
      else {
        // The framework's own page, without a stack trace or file paths.
        assert.match(answer.text, /Bad Request|SyntaxError|URIError/, what);
        assert.doesNotMatch(answer.text, /node_modules|\n\s+at /, what);
      }
    }
  }

  /**
   * What reached the case's subscription: `quarantined` / `stored` documents
   * in all. (That nothing reached any other place is checked once for all
   * cases at the end, with counts over every subscription.)
   */
  async function checkFirestore(
    c: Case,
    sub: string,
    quarantined: number,
    stored: number,
    reason?: string,
  ) {
    const {q, a} = await docsOf(sub);
    assert.equal(q.length, quarantined, `${c.name}: quarantine documents`);
    assert.equal(a, stored, `${c.name}: alert documents`);
    for (const d of q) {
      assert.equal(d.reason, reason, c.name);
      assert.ok(
        typeof d.message === 'string' && d.message.length > 10,
        `${c.name}: a clear message`,
      );
      assert.equal(typeof d.dataLength, 'number');
      assert.ok(
        d.data.length <= 256 * 1024,
        'the quarantine keeps at most 256 KiB',
      );
    }
  }

  async function runCase(c: Case, i: number) {
    tried++;
    const ctx: Ctx = {
      sub: c.sub ?? `hostile-case-${i}`,
      db,
      registry,
      messageId: `hostile-${i}`,
    };
    await c.setup?.(ctx);
    if (c.payload && c.expect.decoder !== undefined) {
      const d = c.request(ctx).server === 'registry' ? decoderReg : decoderDir;
      try {
        await d.decode(c.payload());
        assert.equal(
          c.expect.decoder,
          null,
          `${c.name}: the decoder accepted it`,
        );
      } catch (e) {
        assert.ok(isAlertError(e), `${c.name}: untyped ${String(e)}`);
        assert.equal(e.code, c.expect.decoder, `${c.name}: ${e.message}`);
        assert.equal(e.kind, 'permanent');
      }
    }
    const e = c.expect;
    checkAnswer(c, e, await send(c, ctx));
    let q = e.quarantined;
    let stored = e.stored;
    if (c.again) {
      await checkFirestore(c, ctx.sub, q, stored, e.reason);
      await c.again.setup?.(ctx);
      const actx = c.again.newMessage
        ? {...ctx, messageId: `${ctx.messageId}-b`}
        : ctx;
      checkAnswer(c, c.again.expect, await send(c, actx));
      q += c.again.expect.quarantined;
      stored += c.again.expect.stored;
    } else if (e.quarantined && e.status === 204) {
      // Redelivered: acknowledged again, and still one quarantine document.
      assert.equal((await send(c, ctx)).status, 204, `${c.name}: redelivery`);
    }
    expectedTotals.q += q;
    expectedTotals.a += stored;
    // Still alive and healthy: a valid alert sent next is stored.
    const p = generateZtfPacket({
      seed: 100_000 + i,
      cutoutBytes: 100,
      prvCandidates: 2,
    });
    const id = p.expected[0].sourceId;
    validIds.push(id);
    const [ok] = await Promise.all([
      rawRequest({
        port: fnDir.port,
        path: `/?subscription=${SUB}`,
        headers: {'content-type': 'application/json'},
        body: JSON.stringify(pushEnvelope(p.bytes, {messageId: `valid-${i}`})),
      }),
      q || stored
        ? checkFirestore(
            c,
            ctx.sub,
            q,
            stored,
            e.reason ?? c.again?.expect.reason,
          )
        : undefined,
    ]);
    assert.equal(ok.status, 204, `valid alert after ${c.name}: ${ok.text}`);
    // Its log line says stored (the documents are counted at the end).
    const deadline = Date.now() + 15_000;
    while (!logs.some(l => l.outcome === 'stored' && l.sourceId === id)) {
      assert.ok(Date.now() < deadline, `valid alert after ${c.name} stored`);
      await new Promise(r => setTimeout(r, 20));
    }
  }

  // Cases run six at a time (each has its own subscription); those that
  // change shared state (the registry's answers) run alone afterwards.
  describe('cases', {concurrency: 6}, () => {
    table.forEach((c, i) => {
      if (!c.serial)
        it(c.name, c.skip ? {skip: c.skip} : {}, () => runCase(c, i));
    });
  });
  describe('cases that change shared state', () => {
    table.forEach((c, i) => {
      if (c.serial) it(c.name, () => runCase(c, i));
    });
  });

  it('at least 50 named cases; nothing written elsewhere; the function never crashed', async () => {
    assert.ok(table.length >= 50, `${table.length} cases`);
    assert.equal(
      new Set(table.map(c => c.name)).size,
      table.length,
      'names are unique',
    );
    const dead = await Promise.race([
      Promise.all([fnDir.exited, fnReg.exited]).then(() => true),
      new Promise(r => setTimeout(() => r(false), 100)),
    ]);
    assert.equal(dead, false);
    assert.ok(
      !/FATAL|heap out of memory|Maximum call stack/i.test(
        fnDir.output() + fnReg.output(),
      ),
    );
    const [allQ, allA] = await Promise.all([
      db.collectionGroup('quarantine').count().get(),
      db.collectionGroup('alerts').count().get(),
    ]);
    assert.equal(
      allQ.data().count,
      expectedTotals.q,
      'quarantine documents, all subscriptions',
    );
    assert.equal(
      allA.data().count,
      expectedTotals.a + validIds.length,
      'alert documents, all subscriptions',
    );
    const quarantinedValid = (
      await db
        .collectionGroup('quarantine')
        .where('messageId', '>=', 'valid-')
        .where('messageId', '<', 'valid.')
        .get()
    ).size;
    // Per alert and subscription: a message with several alerts logs each one's outcome.
    const storedLogs = logs
      .flatMap(l =>
        Array.isArray(l.alerts)
          ? (l.alerts as Record<string, unknown>[]).map(a => ({
              ...a,
              subscription: l.subscription,
            }))
          : [l],
      )
      .filter(a => a.outcome === 'stored')
      .map(a => `${a.subscription}/${a.sourceId}`);
    const storedValid = validIds.filter(id =>
      storedLogs.includes(`${SUB}/${id}`),
    );
    const duplicated = storedLogs.length - new Set(storedLogs).size;
    const figure = {
      lost: validIds.length - storedValid.length,
      duplicated,
      quarantinedValid,
    };
    recordFigure({
      suite: 'hostile',
      name: 'named hostile cases through the push endpoint and the decoder, a valid alert after each',
      tried,
      ...figure,
      details: {
        'valid alerts': validIds.length,
        'cases skipped': table.filter(c => c.skip).length,
      },
    });
    assert.deepEqual(figure, {lost: 0, duplicated: 0, quarantinedValid: 0});
  });
});
