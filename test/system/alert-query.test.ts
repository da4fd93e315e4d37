/**
 * The read side of the storage layout (src/store/alert-query.ts) on the
 * Firestore emulator, against an unsharded reference: 10,800 alerts in two
 * subscriptions across every shard, read page by page through the fan-out
 * and merge, must come back exactly as a plain sort in memory of all the
 * documents gives them — every alert once, in order — with and without the
 * band / magnitude / time filters. Publish times and jds are drawn from few
 * values, so that pages and chunks end inside ties.
 */

import {strict as assert} from 'node:assert';
import {before, describe, it} from 'node:test';

import type {Firestore, QueryDocumentSnapshot} from '@google-cloud/firestore';

import type {Alert} from '../../src/alert/model';
import {loadConfig} from '../../src/config';
import {toAlertDocument} from '../../src/store/alert-document';
import {
  alertSubscriptions,
  AlertCursor,
  cursorOf,
  decodeCursor,
  encodeCursor,
  getAlert,
  listAlerts,
  listAllAlerts,
  objectAlerts,
  timestampMicros,
  windowAlerts,
} from '../../src/store/alert-query';
import {createAlertStore} from '../../src/store/alert-store';
import {ALERT_SHARDS} from '../../src/store/layout';
import {Random} from '../../src/local/generate/random';
import {useEmulators} from '../helpers/emulator-fixture';

const config = loadConfig({});
const MAIN = 'ztf-loop';
const OTHER = 'ztf-bright';
const N_MAIN = 10_000;
const N_OTHER = 800;

interface Row {
  path: string[];
  id: string;
  subscription: string;
  sourceId: string;
  objectId: string;
  shard: number;
  publishMicros: bigint;
  jd: number | null;
  mag: number | null;
  band: string | null;
}

/** Microseconds since the epoch → RFC 3339 with six decimals. */
function rfc3339(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const iso = new Date(ms).toISOString().slice(0, 19);
  return `${iso}.${(micros % 1_000_000n).toString().padStart(6, '0')}Z`;
}

const T0 = BigInt(Date.parse('2026-12-03T00:00:00Z')) * 1000n;
const BANDS = ['g', 'r', 'i', null] as const;

function makeAlert(rng: Random, i: number, objectId: string): Alert {
  const candid = 2982177112815010000n + BigInt(i);
  const jd = 2461000.5 + rng.int(0, 1999) / 1000; // 2,000 values: ties
  const mag = rng.float(0, 1) < 0.05 ? null : 14 + rng.int(0, 800) / 100;
  const band = BANDS[rng.int(0, 3)];
  return {
    survey: 'ztf',
    format: 'avro-ocf',
    schemaVersion: '4.02',
    objectId,
    sourceId: candid.toString(),
    ra: rng.float(0, 360),
    dec: rng.float(-30, 90),
    jd,
    mjd: jd - 2400000.5,
    mag,
    magErr: 0.05,
    band,
    nPrevious: 0,
    classtar: 0.9,
    cutouts: {},
    record: {objectId, candid, candidate: {jd, magpsf: mag}},
  };
}

function rowOf(d: QueryDocumentSnapshot): Row {
  return {
    path: d.ref.path.split('/'),
    id: d.id,
    subscription: d.get('subscription'),
    sourceId: d.get('sourceId'),
    objectId: d.get('objectId'),
    shard: d.get('shard'),
    publishMicros: timestampMicros(d.get('publishTime')),
    jd: d.get('jd'),
    mag: d.get('mag'),
    band: d.get('band'),
  };
}

const cmp = (a: string | bigint | number, b: string | bigint | number) =>
  a < b ? -1 : a > b ? 1 : 0;
const comparePaths = (a: string[], b: string[]) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return cmp(a[i], b[i]);
  }
  return a.length - b.length;
};
/** The reference order of listAlerts: publishTime desc, then path desc. */
const newestFirst = (a: Row, b: Row) =>
  cmp(b.publishMicros, a.publishMicros) || comparePaths(b.path, a.path);
/** windowAlerts / objectAlerts: jd asc, then path asc. */
const oldestFirst = (a: Row, b: Row) =>
  cmp(a.jd!, b.jd!) || comparePaths(a.path, b.path);

interface Filter {
  band?: string;
  magMin?: number;
  magMax?: number;
  since?: Date;
  until?: Date;
}

function matches(r: Row, f: Filter): boolean {
  if (f.band !== undefined && r.band !== f.band) return false;
  if (f.magMin !== undefined && !(r.mag !== null && r.mag >= f.magMin)) {
    return false;
  }
  if (f.magMax !== undefined && !(r.mag !== null && r.mag <= f.magMax)) {
    return false;
  }
  const ms = (d: Date) => BigInt(d.getTime()) * 1000n;
  if (f.since && r.publishMicros < ms(f.since)) return false;
  if (f.until && r.publishMicros >= ms(f.until)) return false;
  return true;
}

describe('alert-query: fan-out over shards and merge (emulator)', () => {
  const emu = useEmulators({firestore: true});
  let db: Firestore;
  let rows: Row[];

  before(async () => {
    db = emu.firestore();
    const store = createAlertStore(db, config, {
      mode: 'batch',
      maxBatchCount: 500,
    });
    const rng = new Random(16);
    const objects = Array.from({length: 3000}, (_, i) => `ZTF24a${i}`);
    const docs = [];
    for (let i = 0; i < N_MAIN + N_OTHER; i++) {
      const subscription = i < N_MAIN ? MAIN : OTHER;
      // The other subscription stores some of the same alerts (a light
      // curve across subscriptions) and some of its own.
      const same = i >= N_MAIN && i % 2 === 0;
      const k = same ? (i - N_MAIN) * 7 : i;
      const alert = makeAlert(
        new Random(1000 + k),
        k,
        objects[new Random(k).int(0, objects.length - 1)],
      );
      // 2,500 distinct publish times, a millisecond and a few micros apart.
      const group = BigInt(rng.int(0, 2499));
      docs.push(
        toAlertDocument(
          alert,
          {
            subscription,
            messageId: String(i),
            publishTime: rfc3339(T0 + group * 1013n),
          },
          {cutouts: 'drop'},
        ),
      );
    }
    for (let i = 0; i < docs.length; i += 500) {
      const out = await store.storeMany(docs.slice(i, i + 500));
      assert.ok(
        out.every(o => o.status === 'stored'),
        JSON.stringify(out.find(o => o.status !== 'stored')),
      );
    }
    rows = (await db.collectionGroup('alerts').get()).docs.map(rowOf);
    assert.equal(rows.length, N_MAIN + N_OTHER);
  });

  const mainRows = () => rows.filter(r => r.subscription === MAIN);

  /**
   * Pages of a listing, through the cursor (encoded and decoded, as the API
   * does): all of them, or `maxPages` from `after`.
   */
  async function allPages(
    limit: number,
    f: Filter,
    from: AlertCursor | null = null,
    maxPages = Infinity,
  ) {
    const out: QueryDocumentSnapshot[] = [];
    let after = from;
    let pages = 0;
    while (pages < maxPages) {
      const page = await listAlerts(db, config, {
        subscription: MAIN,
        limit,
        after,
        ...f,
      });
      pages++;
      assert.ok(page.docs.length <= limit);
      out.push(...page.docs);
      if (!page.next) break;
      assert.equal(page.docs.length, limit, 'only the last page is short');
      after = decodeCursor(encodeCursor(page.next));
      assert.ok(pages < 1000, 'paging ends');
    }
    return out.map(rowOf);
  }

  it('has alerts in every shard', () => {
    const counts = new Array<number>(ALERT_SHARDS).fill(0);
    for (const r of mainRows()) counts[r.shard]++;
    assert.ok(
      counts.every(c => c > N_MAIN / ALERT_SHARDS / 2),
      String(counts),
    );
  });

  // The emulator has no indexes: every query scans the collection, so a page
  // costs ~0.1-0.7 s here. Pages are large where the whole listing is read,
  // small where the cursor is the point.
  it('pages through all 10,000 alerts of a subscription: each once, newest first, as the unsharded reference', async () => {
    const got = await allPages(499, {});
    const want = mainRows().sort(newestFirst);
    assert.equal(got.length, N_MAIN);
    assert.equal(new Set(got.map(r => r.id)).size, N_MAIN);
    assert.deepEqual(
      got.map(r => r.id),
      want.map(r => r.id),
    );
  });

  it('pages in small steps from a cursor in the middle of a tie, exactly as the reference', async () => {
    const want = mainRows().sort(newestFirst);
    // A cursor on an alert that shares its publish time with the next ones.
    const at = want.findIndex(
      (r, i) => i > 3000 && want[i + 1].publishMicros === r.publishMicros,
    );
    const from = {
      publishTimeMicros: want[at].publishMicros.toString(),
      id: want[at].id,
    };
    const got = await allPages(7, {}, from, 25);
    assert.equal(got.length, 7 * 25);
    assert.deepEqual(
      got.map(r => r.id),
      want.slice(at + 1, at + 1 + 7 * 25).map(r => r.id),
    );
  });

  const t = (k: number) => new Date(Number((T0 + BigInt(k) * 1013n) / 1000n));
  const cases: Array<[string, Filter]> = [
    ['band r', {band: 'r'}],
    ['magnitude 16..18.5', {magMin: 16, magMax: 18.5}],
    ['magnitude below 15.2', {magMax: 15.2}],
    ['band g and magnitude at least 19', {band: 'g', magMin: 19}],
    ['a publish-time window', {since: t(400), until: t(1900)}],
    [
      'a window, band i and magnitude 15..20',
      {since: t(100), until: t(2200), band: 'i', magMin: 15, magMax: 20},
    ],
  ];
  for (const [what, f] of cases) {
    it(`filters (${what}) and pages exactly as the reference`, async () => {
      const want = mainRows()
        .filter(r => matches(r, f))
        .sort(newestFirst);
      assert.ok(want.length > 100, `a real selection: ${want.length}`);
      const got = await allPages(250, f);
      assert.deepEqual(
        got.map(r => r.id),
        want.map(r => r.id),
      );
    });
  }

  it('answers an empty page with no cursor past the end, and a cursor after the last alert', async () => {
    const all = mainRows().sort(newestFirst);
    const last = all[all.length - 1];
    const page = await listAlerts(db, config, {
      subscription: MAIN,
      limit: 10,
      after: {publishTimeMicros: last.publishMicros.toString(), id: last.id},
    });
    assert.deepEqual(page, {docs: [], next: null});
    const one = await listAlerts(db, config, {subscription: MAIN, limit: 1});
    assert.equal(one.docs[0].id, all[0].id);
    assert.deepEqual(one.next, cursorOf(one.docs[0]));
    const none = await listAlerts(db, config, {
      subscription: 'no-such-subscription',
      limit: 5,
    });
    assert.deepEqual(none, {docs: [], next: null});
  });

  it('lists the newest alerts across subscriptions (collection group) as the reference', async () => {
    const got = (await listAllAlerts(db, config, {limit: 300})).map(rowOf);
    const want = [...rows].sort(newestFirst).slice(0, 300);
    assert.deepEqual(
      got.map(r => r.path.join('/')),
      want.map(r => r.path.join('/')),
    );
  });

  for (const [what, q] of [
    ['a jd window', {jdMin: 2461000.8, jdMax: 2461001.9}],
    ['a jd window and a magnitude range', {jdMin: 2461000.6, magMax: 17}],
    ['a jd window in band g', {jdMax: 2461001.2, band: 'g'}],
    [
      'a jd window, band r, magnitude 15..19',
      {jdMin: 2461000.5, jdMax: 2461002, band: 'r', magMin: 15, magMax: 19},
    ],
  ] as const) {
    it(`reads ${what}, oldest first, as the reference`, async () => {
      const f = q as {
        jdMin?: number;
        jdMax?: number;
        band?: string;
        magMin?: number;
        magMax?: number;
      };
      const want = mainRows()
        .filter(
          r =>
            r.jd !== null &&
            (f.jdMin === undefined || r.jd >= f.jdMin) &&
            (f.jdMax === undefined || r.jd < f.jdMax) &&
            matches(r, f),
        )
        .sort(oldestFirst);
      const limit = 700;
      const got = (
        await windowAlerts(db, config, {subscription: MAIN, limit, ...f})
      ).map(rowOf);
      assert.ok(want.length > limit, `more than a page: ${want.length}`);
      assert.deepEqual(
        got.map(r => r.id),
        want.slice(0, limit).map(r => r.id),
      );
    });
  }

  it("reads an object's alerts across subscriptions in one query, by jd, as the reference", async () => {
    const byObject = new Map<string, Row[]>();
    for (const r of rows) {
      byObject.set(r.objectId, [...(byObject.get(r.objectId) ?? []), r]);
    }
    const inBoth = [...byObject.entries()].filter(
      ([, rs]) => new Set(rs.map(r => r.subscription)).size === 2,
    );
    assert.ok(inBoth.length >= 10, 'objects stored by both subscriptions');
    for (const [objectId, rs] of inBoth.slice(0, 10)) {
      const got = (await objectAlerts(db, config, objectId)).map(rowOf);
      assert.deepEqual(
        got.map(r => r.path.join('/')),
        [...rs].sort(oldestFirst).map(r => r.path.join('/')),
      );
    }
    assert.deepEqual(await objectAlerts(db, config, 'ZTF00nothing'), []);
  });

  it('finds one alert by its source id, and the subscriptions that stored it', async () => {
    const shared = rows.find(
      r =>
        r.subscription === OTHER &&
        rows.some(o => o.subscription === MAIN && o.sourceId === r.sourceId),
    )!;
    const snap = await getAlert(db, config, MAIN, shared.sourceId);
    assert.equal(snap?.get('sourceId'), shared.sourceId);
    assert.equal(await getAlert(db, config, MAIN, '1'), null);
    const subs = await alertSubscriptions(db, config, shared.sourceId);
    assert.deepEqual(
      subs.map(s => s.get('subscription')).sort(),
      [OTHER, MAIN].sort(),
    );
  });
});
