/**
 * The read API end to end: the real functions framework serving both the
 * ingest and the explore functions (build/src/functions/index.js) over the
 * Firestore emulator. Alerts are stored the way production stores them:
 * push requests to ingest, with the REAL shipped packets (ZTF and LSST, with
 * their stamps), generated ones with chosen publish times (ties included),
 * hostile lite JSON and a corrupt packet. The API's answers are checked
 * against the stored documents and against the decoded packets.
 */

import {strict as assert} from 'node:assert';
import {createHash} from 'node:crypto';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import type {DocumentData, Firestore} from '@google-cloud/firestore';
import {PNG} from 'pngjs';

import {lighten, toGenericAlert} from '../../src/alert';
import type {Alert} from '../../src/alert';
import {lightCurve} from '../../src/alert/light-curve';
import {loadConfig} from '../../src/config';
import {readFits} from '../../src/cutouts/fits';
import {CONTENT_SECURITY_POLICY} from '../../src/explore/security';
import {validateFilter} from '../../src/filter';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {schemasDir} from '../../src/local/samples';
import {CUTOUT_KINDS, CutoutKind} from '../../src/store/layout';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {useEmulators} from '../helpers/emulator-fixture';
import {generateLiteJson, generateZtfPacket} from '../helpers';
import {exploreClient, Json} from '../helpers/explore-client';
import {rawRequest} from '../helpers/http-request';
import {RealSample, realSamples} from '../helpers/real-samples';

const SUB = 'ztf-loop';
const HOSTILE_SUB = 'hostile-lite';
const EMPTY_SUB = 'empty-sub';
const config = loadConfig({});
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const SCRIPT = '<script>alert("x")</script>';
const HOSTILE_OBJECT = `${SCRIPT}'"><img src=x onerror=alert(1)>`;
const HOSTILE_ATTRIBUTES: Record<string, string> = {
  ['<b onmouseover="alert(1)">']: 'javascript:alert(document.cookie)',
  quote: '"\'`</script>',
  ['n'.repeat(200)]: 'v'.repeat(1000),
};
const HOSTILE_VALUE = '"><script>alert(1)</script> javascript:alert(1)';

interface Stored {
  publishTime: string;
  messageId: string;
}

describe('read API over the emulator, with the real packets', () => {
  const emu = useEmulators({firestore: true});
  const project = `explore-${Date.now().toString(36)}`;
  let ingest: FunctionServer;
  let explore: FunctionServer;
  let db: Firestore;
  let samples: RealSample[];
  /** The first real packet of each source id (the same LSST alert ships in several schema versions). */
  let unique: RealSample[];
  /** The first push of each source id (a later one is a duplicate: not stored again). */
  const stored = new Map<string, Stored>();
  let firstGenerated = '';
  const sameObject: Alert[] = [];
  let corrupt: Buffer;
  let messageSeq = 0;

  async function push(
    sub: string,
    bytes: Buffer,
    publishTime: string,
    attributes: Record<string, string> = {},
    sourceId?: string,
  ): Promise<void> {
    const messageId = String(++messageSeq);
    if (sourceId !== undefined && !stored.has(sourceId)) {
      stored.set(sourceId, {publishTime, messageId});
    }
    const res = await fetch(`${ingest.url}?subscription=${sub}`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({
        message: {
          data: bytes.toString('base64'),
          attributes,
          messageId,
          publishTime,
        },
        subscription: `projects/${project}/subscriptions/${sub}`,
      }),
    });
    assert.equal(res.status, 204, await res.text());
  }

  const {get: api, getJson, allPages} = exploreClient(() => explore.url);

  /** The stored alerts of SUB, newest first (ties: document id descending). */
  async function reference(): Promise<Array<{id: string; data: DocumentData}>> {
    const snap = await db
      .collection(config.subscriptionsCollection)
      .doc(SUB)
      .collection(config.alertsCollection)
      .get();
    const micros = (d: DocumentData) =>
      BigInt(d.publishTime.seconds) * 1_000_000n +
      BigInt(Math.floor(d.publishTime.nanoseconds / 1000));
    return snap.docs
      .map(d => ({id: d.id, data: d.data()}))
      .sort((a, b) => {
        const t = micros(b.data) - micros(a.data);
        if (t !== 0n) return t > 0n ? 1 : -1;
        return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
      });
  }

  before(async () => {
    samples = await realSamples();
    unique = samples.filter(
      (s, i) =>
        samples.findIndex(x => x.alert.sourceId === s.alert.sourceId) === i,
    );
    db = emu.firestore(project);
    const store = createSubscriptionStore(db, config);
    for (const [name, filter] of [
      [SUB, null],
      [EMPTY_SUB, {field: 'mag', op: 'lt', value: 0}],
      [
        HOSTILE_SUB,
        {
          any: [
            {field: 'attributes.quote', op: 'eq', value: HOSTILE_VALUE},
            {field: 'objectId', op: 'ne', value: SCRIPT},
          ],
        },
      ],
    ] as const) {
      await store.put({
        name,
        topic: `projects/ardent-cycling-243415/topics/${name}`,
        filter: validateFilter(filter),
        serverFilter: '',
        settings: {},
      });
    }
    const env = {
      FIRESTORE_EMULATOR_HOST: emu.emulators.firestore!.host,
      GOOGLE_CLOUD_PROJECT: project,
      SCHEMA_SOURCE: path.join(schemasDir(), 'lsst'),
      LOG_LEVEL: 'WARNING',
    };
    [ingest, explore] = await Promise.all([
      startFunctionServer({target: 'ingest', env}),
      startFunctionServer({target: 'explore', env}),
    ]);
    // The real packets, a second apart.
    let i = 0;
    for (const s of samples) {
      const publishTime = new Date(T0 + 1000 * i++).toISOString();
      await push(
        SUB,
        s.bytes,
        publishTime,
        {objectId: s.alert.objectId},
        s.alert.sourceId,
      );
    }
    // Generated ones, two per publish time (ties), with microseconds.
    for (let k = 0; k < 30; k++) {
      const p = generateZtfPacket({seed: 1000 + k});
      const publishTime = new Date(T0 + 60_000 + 1000 * (k >> 1))
        .toISOString()
        .replace('Z', `${String(k % 3).padStart(3, '0')}Z`);
      await push(SUB, p.bytes, publishTime, {}, p.expected[0].sourceId);
      firstGenerated ||= p.expected[0].sourceId;
    }
    // Three alerts of one object.
    const decoder = (await import('../../src/alert')).createDecoder();
    for (let k = 0; k < 3; k++) {
      const p = generateZtfPacket({seed: 2000 + k, objectId: 'ZTF20abcdefg'});
      const [a] = await decoder.decode(p.bytes);
      sameObject.push(a);
      const publishTime = new Date(T0 + 120_000 + 1000 * k).toISOString();
      await push(SUB, p.bytes, publishTime, {}, a.sourceId);
    }
    // Hostile lite JSON: object ids, attributes, a stored filter.
    for (let k = 0; k < 2; k++) {
      const p = generateLiteJson({
        seed: 3000 + k,
        objectId: k === 0 ? HOSTILE_OBJECT : 'ZTF21benignxx',
      });
      await push(
        HOSTILE_SUB,
        p.bytes,
        new Date(T0 + 1000 * k).toISOString(),
        HOSTILE_ATTRIBUTES,
      );
    }
    corrupt = Buffer.concat([Buffer.from('Obj\x01'), Buffer.alloc(64, 7)]);
    await push(SUB, corrupt, new Date(T0).toISOString(), {why: SCRIPT});
  });

  after(async () => {
    await Promise.all([ingest?.stop(), explore?.stop()]);
  });

  it('pages return every stored alert once, newest first (ties by id), and so does one page of 500', async () => {
    const ref = await reference();
    assert.equal(ref.length, stored.size, 'every pushed alert stored once');
    for (const limit of [1, 7, 50]) {
      const got = await allPages(
        `/api/subscriptions/${SUB}/alerts?limit=${limit}`,
      );
      assert.deepEqual(
        got.map(a => a.sourceId),
        ref.map(r => r.data.sourceId),
        `limit ${limit}`,
      );
    }
    const one = await getJson(`/api/subscriptions/${SUB}/alerts?limit=500`);
    assert.equal((one.alerts as Json[]).length, ref.length);
    assert.equal(one.next, null);
    const byId = new Map([...stored].map(([id, x]) => [id, x.publishTime]));
    for (const a of one.alerts as Json[]) {
      assert.equal(
        a.publishTime,
        new Date(byId.get(a.sourceId as string)!).toISOString(),
      );
    }
  });

  it('filters match a reference query over the stored documents', async () => {
    const ref = await reference();
    const since = new Date(T0 + 60_000 + 3000).toISOString();
    const until = new Date(T0 + 60_000 + 11_000).toISOString();
    const cases: Array<[string, (d: DocumentData) => boolean]> = [
      ['band=r', d => d.band === 'r'],
      [
        'band=g&magMin=15&magMax=19',
        d => d.band === 'g' && d.mag >= 15 && d.mag <= 19,
      ],
      ['magMax=18', d => d.mag !== null && d.mag <= 18],
      [
        `since=${since}&until=${until}`,
        d => {
          const t = d.publishTime.toDate().getTime();
          return t >= Date.parse(since) && t < Date.parse(until);
        },
      ],
      [
        `band=r&magMin=10&since=${since}`,
        d =>
          d.band === 'r' &&
          d.mag >= 10 &&
          d.publishTime.toDate().getTime() >= Date.parse(since),
      ],
    ];
    for (const [q, keep] of cases) {
      const expected = ref.filter(r => keep(r.data)).map(r => r.data.sourceId);
      assert.ok(
        expected.length > 0 && expected.length < ref.length,
        `${q} selects some`,
      );
      const got = await allPages(
        `/api/subscriptions/${SUB}/alerts?limit=4&${q}`,
      );
      assert.deepEqual(
        got.map(a => a.sourceId),
        expected,
        q,
      );
    }
  });

  it('exact ids, the summary and the TOM shapes of every real packet', async () => {
    const all = await getJson(`/api/subscriptions/${SUB}/alerts?limit=500`);
    const generic = await getJson(
      `/api/subscriptions/${SUB}/alerts?limit=500&format=generic`,
    );
    const lite = await getJson(
      `/api/subscriptions/${SUB}/alerts?limit=500&format=lite`,
    );
    for (const s of unique) {
      const a = s.alert;
      const summary = (all.alerts as Json[]).find(
        x => x.sourceId === a.sourceId,
      );
      assert.ok(summary, `${s.file} listed with its exact id ${a.sourceId}`);
      assert.equal(summary.objectId, a.objectId);
      assert.equal(summary.survey, a.survey);
      assert.equal(summary.mag, a.mag);
      assert.equal(summary.band, a.band);
      assert.deepEqual(
        summary.cutouts,
        CUTOUT_KINDS.filter(k => a.cutouts[k]),
        `${s.file}: the stamps it carries`,
      );
      const g = (generic.alerts as Json[]).find(x => x.id === a.sourceId);
      assert.deepEqual(g, toGenericAlert(a), `${s.file} GenericAlert`);
      const l = (lite.alerts as Json[]).find(x => x.candid === a.sourceId);
      const p = stored.get(a.sourceId)!;
      assert.deepEqual(
        l,
        lighten(a, {
          messageId: p.messageId,
          publishTime: new Date(p.publishTime).toISOString(),
          attributes: {objectId: a.objectId},
        }),
      );
      const one = await getJson(
        `/api/subscriptions/${SUB}/alerts/${encodeURIComponent(a.sourceId)}`,
      );
      const alert = one.alert as Json;
      assert.equal(alert.sourceId, a.sourceId);
      assert.deepEqual(alert.attributes, {objectId: a.objectId});
      const record = alert.record as Json;
      if (a.survey === 'ztf') {
        assert.equal(
          record.candid,
          a.sourceId,
          'the record keeps the exact candid',
        );
        const prv = (alert.histories as Json).prv_candidates;
        const decoded = a.record.prv_candidates as unknown[] | null;
        assert.equal(
          Array.isArray(prv) ? prv.length : prv,
          decoded ? decoded.length : null,
        );
      } else {
        assert.equal((record.diaSource as Json).diaSourceId, a.sourceId);
      }
    }
  });

  it('an object: every stored alert and the light curve of the packets', async () => {
    for (const s of samples.filter(x => x.survey === 'ztf')) {
      const body = await getJson(
        `/api/objects/${encodeURIComponent(s.alert.objectId)}`,
      );
      assert.equal(body.survey, 'ztf');
      assert.deepEqual(
        (body.alerts as Json[]).map(a => [a.subscription, a.sourceId]),
        [[SUB, s.alert.sourceId]],
      );
      assert.deepEqual(
        body.lightCurve,
        JSON.parse(JSON.stringify(lightCurve('ztf', s.alert.record))),
      );
    }
    const body = await getJson('/api/objects/ZTF20abcdefg');
    assert.deepEqual(
      (body.alerts as Json[]).map(a => a.sourceId),
      [...sameObject].sort((a, b) => a.mjd! - b.mjd!).map(a => a.sourceId),
    );
    const newest = [...sameObject].sort((a, b) => b.mjd! - a.mjd!)[0];
    const curve = lightCurve('ztf', newest.record);
    const detections = (body.lightCurve as {detections: Json[]}).detections;
    for (const a of sameObject) {
      assert.equal(
        detections.filter(d => d.sourceId === a.sourceId).length,
        1,
        `alert ${a.sourceId} once in the light curve`,
      );
    }
    assert.equal(
      detections.length,
      curve.detections.length + sameObject.length - 1,
    );
  });

  it('the PNG of each real stamp (natural size an integer multiple of the FITS size) and the original bytes as .fits', async () => {
    let stamps = 0;
    for (const s of unique) {
      for (const kind of CUTOUT_KINDS) {
        const original = s.alert.cutouts[kind as CutoutKind]?.data;
        const base = `/api/subscriptions/${SUB}/alerts/${s.alert.sourceId}/cutouts/${kind}`;
        if (!original) {
          await getJson(`${base}.png`, 404);
          continue;
        }
        stamps++;
        const fits = readFits(original);
        for (const stretch of ['linear', 'asinh']) {
          const res = await api(`${base}.png?stretch=${stretch}`);
          assert.equal(res.status, 200, `${s.file} ${kind}`);
          assert.equal(res.headers.get('content-type'), 'image/png');
          assert.equal(
            res.headers.get('cache-control'),
            'public, max-age=31536000, immutable',
          );
          assert.equal(
            res.headers.get('content-security-policy'),
            CONTENT_SECURITY_POLICY,
          );
          const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
          const scale = png.width / fits.width;
          assert.ok(
            Number.isInteger(scale) && scale >= 1,
            `${s.file} ${kind} scale ${scale}`,
          );
          assert.equal(png.height, fits.height * scale);
          assert.ok(Math.max(png.width, png.height) >= 250);
        }
        const raw = await api(`${base}.fits`);
        assert.equal(raw.status, 200);
        const bytes = Buffer.from(await raw.arrayBuffer());
        assert.ok(
          bytes.equals(original),
          `${s.file} ${kind}: the original bytes`,
        );
        assert.equal(
          raw.headers.get('content-type'),
          original[0] === 0x1f && original[1] === 0x8b
            ? 'application/gzip'
            : 'application/fits',
        );
      }
    }
    assert.ok(stamps >= 12, `${stamps} real stamps rendered`);
    // A generated packet's stamps are random bytes behind a gzip magic: 422, not 500.
    const generated = firstGenerated;
    const res = await getJson(
      `/api/subscriptions/${SUB}/alerts/${generated}/cutouts/science.png`,
      422,
    );
    assert.equal(res.error, 'unrenderable-stamp');
  });

  it('a 400 naming each bad parameter, 404s for unknown things, never a 500', async () => {
    const alerts = `/api/subscriptions/${SUB}/alerts`;
    const sourceId = samples[0].alert.sourceId;
    const cases: Array<[string, string]> = [
      [`${alerts}?limit=0`, 'limit'],
      [`${alerts}?limit=501`, 'limit'],
      [`${alerts}?limit=abc`, 'limit'],
      [`${alerts}?cursor=forged`, 'cursor'],
      [`${alerts}?cursor=${'A'.repeat(2000)}`, 'cursor'],
      [`${alerts}?band=x`, 'band'],
      [`${alerts}?magMin=bright`, 'magMin'],
      [`${alerts}?magMax=Infinity`, 'magMax'],
      [`${alerts}?magMin=20&magMax=10`, 'magMax'],
      [`${alerts}?since=yesterday`, 'since'],
      [`${alerts}?until=2026-02-30T00:00:00Z`, 'until'],
      [
        `${alerts}?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z`,
        'until',
      ],
      [`${alerts}?format=xml`, 'format'],
      [`${alerts}?limit=5&limit=6`, 'limit'],
      [`${alerts}?magmin=3`, 'magmin'],
      [`${alerts}/${sourceId}/cutouts/science.png?stretch=log`, 'stretch'],
      [`/api/subscriptions/${SUB}/quarantine?limit=9999`, 'limit'],
      [`/api/subscriptions/${SUB}/quarantine?cursor=xyz`, 'cursor'],
      [`/api/subscriptions/${'s'.repeat(300)}/alerts`, 'subscription'],
      ['/api/subscriptions/goog-sub/alerts', 'subscription'],
      [
        `/api/subscriptions/${encodeURIComponent(SCRIPT)}/alerts`,
        'subscription',
      ],
      [`${alerts}/a%2Fb`, 'sourceId'],
      [`${alerts}/${'9'.repeat(300)}`, 'sourceId'],
      ['/api/objects/a%0Ab', 'objectId'],
    ];
    for (const [p, parameter] of cases) {
      const body = await getJson(p, 400);
      assert.equal(body.error, 'bad-parameter', p);
      assert.equal(body.parameter, parameter, p);
      assert.equal(typeof body.detail, 'string');
    }
    // A malformed %-escape is refused by the functions framework (Express)
    // before the function runs: a 400 page that does not echo the path.
    const malformed = await api('/api/objects/%3Cscript%3E%E0%A4%A');
    assert.equal(malformed.status, 400);
    assert.doesNotMatch(await malformed.text(), /<script/i);
    // Dot segments are sent verbatim (fetch would normalize them away).
    const raw = await rawRequest({
      port: explore.port,
      method: 'GET',
      path: `/api/subscriptions/../../${SUB}/alerts`,
    });
    assert.equal(raw.status, 400);
    assert.equal((raw.json as Json).parameter, 'path');
    for (const p of [
      '/api/subscriptions/no-such-sub/alerts',
      '/api/subscriptions/no-such-sub/quarantine',
      `${alerts}/12345`,
      `${alerts}/12345/cutouts/science.png`,
      `${alerts}/${sourceId}/cutouts/nothing.png`,
      '/api/objects/ZTF99zzzzzzz',
      '/api/nope',
      '/no-such-page',
    ]) {
      assert.equal((await getJson(p, 404)).error, 'not-found', p);
    }
    assert.deepEqual(await getJson(`/api/subscriptions/${EMPTY_SUB}/alerts`), {
      alerts: [],
      next: null,
    });
    const post = await fetch(`${explore.url}api/subscriptions`, {
      method: 'POST',
      body: '{}',
    });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('subscriptions and quarantine: counts, filters in words, the corrupt message with its size and SHA-256', async () => {
    const body = await getJson('/api/subscriptions');
    const subs = body.subscriptions as Json[];
    assert.deepEqual(
      subs.map(s => s.name),
      [EMPTY_SUB, HOSTILE_SUB, SUB],
    );
    const main = subs.find(s => s.name === SUB)!;
    assert.deepEqual(main.counts, {alerts: stored.size, quarantined: 1});
    assert.equal(main.filterText, 'every alert passes (no filter)');
    assert.equal(main.newestAlertTime, new Date(T0 + 122_000).toISOString());
    assert.equal(subs.find(s => s.name === EMPTY_SUB)!.newestAlertTime, null);
    const q = await allPages(
      `/api/subscriptions/${SUB}/quarantine?limit=1`,
      'quarantine',
    );
    assert.equal(q.length, 1);
    assert.equal(q[0].sizeBytes, corrupt.length);
    assert.equal(
      q[0].sha256,
      createHash('sha256').update(corrupt).digest('hex'),
    );
    assert.deepEqual(q[0].attributes, {why: SCRIPT});
    assert.equal(typeof q[0].reason, 'string');
  });

  it('hostile object ids, attributes and filters come back as inert JSON, unchanged', async () => {
    const body = await getJson(
      `/api/subscriptions/${HOSTILE_SUB}/alerts?format=lite`,
    );
    const ids = (body.alerts as Json[]).map(a => a.objectId).sort();
    assert.deepEqual(ids, [HOSTILE_OBJECT, 'ZTF21benignxx'].sort());
    const hostile = (await getJson(`/api/subscriptions/${HOSTILE_SUB}/alerts`))
      .alerts as Json[];
    const h = hostile.find(a => a.objectId === HOSTILE_OBJECT)!;
    const detail = await getJson(
      `/api/subscriptions/${HOSTILE_SUB}/alerts/${encodeURIComponent(h.sourceId as string)}`,
    );
    assert.deepEqual((detail.alert as Json).attributes, HOSTILE_ATTRIBUTES);
    const object = await getJson(
      `/api/objects/${encodeURIComponent(HOSTILE_OBJECT)}`,
    );
    assert.equal(object.objectId, HOSTILE_OBJECT);
    assert.equal((object.alerts as Json[]).length, 1);
    const subs = (await getJson('/api/subscriptions')).subscriptions as Json[];
    const s = subs.find(x => x.name === HOSTILE_SUB)!;
    assert.equal(
      ((s.filter as {any: Json[]}).any[0] as Json).value,
      HOSTILE_VALUE,
    );
    assert.ok((s.filterText as string).includes(JSON.stringify(HOSTILE_VALUE)));
    // The raw bytes of an answer: no markup character at all.
    const raw = await rawRequest({
      port: explore.port,
      method: 'GET',
      path: `/api/objects/${encodeURIComponent(HOSTILE_OBJECT)}`,
    });
    assert.equal(raw.status, 200);
    assert.doesNotMatch(raw.text, /[<>]/);
    assert.match(raw.text, /\\u003cscript\\u003e/);
  });
});
