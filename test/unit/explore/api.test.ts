import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Timestamp} from '@google-cloud/firestore';

import {ApiAnswer, createApi, parseApiRoute} from '../../../src/explore/api';
import type {
  AlertCursor,
  AlertListQuery,
  ExploreReader,
  StoredDoc,
} from '../../../src/explore/ports';
import {TransientError} from '../../../src/errors';
import {createLogger} from '../../../src/log';

function doc(sourceId: string, over: Record<string, unknown> = {}): StoredDoc {
  return {
    id: `h-${sourceId}`,
    subscription: 'ztf-loop',
    data: {
      sourceId,
      objectId: 'ZTF18abfkwnk',
      survey: 'ztf',
      mjd: 60000 + Number(sourceId),
      mag: 18,
      band: 'r',
      publishTime: new Timestamp(1735689600 + Number(sourceId), 0),
      ...over,
    },
  };
}

interface Fake {
  reader: ExploreReader;
  queries: AlertListQuery[];
}

function fakeReader(stored: StoredDoc[], opts: {fail?: Error} = {}): Fake {
  const queries: AlertListQuery[] = [];
  const fail = async () => {
    if (opts.fail) throw opts.fail;
  };
  const reader: ExploreReader = {
    async subscriptions() {
      await fail();
      return [
        {
          name: 'ztf-loop',
          topic: 't',
          filter: null,
          counts: {alerts: stored.length, quarantined: 0},
          newestAlertTime: null,
        },
      ];
    },
    async subscriptionExists(name) {
      return name === 'ztf-loop' || name === 'empty-sub';
    },
    async alerts(q) {
      await fail();
      queries.push(q);
      if (q.subscription !== 'ztf-loop') return {items: [], next: null};
      const sorted = [...stored].sort((a, b) => b.id.localeCompare(a.id));
      const start = q.after
        ? sorted.findIndex(d => d.id === q.after!.id) + 1
        : 0;
      const items = sorted.slice(start, start + q.limit);
      const more = start + q.limit < sorted.length;
      return {
        items,
        next: more
          ? {publishTimeMicros: '1', id: items[items.length - 1].id}
          : null,
      };
    },
    async alert(sub, sourceId) {
      await fail();
      return (
        stored.find(d => sub === 'ztf-loop' && d.data.sourceId === sourceId) ??
        null
      );
    },
    async objectAlerts(objectId) {
      return stored.filter(d => d.data.objectId === objectId);
    },
    async cutout(_sub, sourceId, kind) {
      if (sourceId !== '1') return null;
      if (kind === 'template') return Buffer.from('corrupt');
      return kind === 'science'
        ? Buffer.from([0x1f, 0x8b, 8, 0])
        : Buffer.from('SIMPLE  =');
    },
    async quarantine(sub) {
      return sub === 'ztf-loop'
        ? {
            items: [
              {
                id: 'm',
                subscription: sub,
                data: {messageId: 'm', reason: 'bad-avro', dataLength: 3},
              },
            ],
            next: {timeNanos: '5', id: 'm'},
          }
        : {items: [], next: null};
    },
  };
  return {reader, queries};
}

const cursorCodec = {
  encode: (c: AlertCursor) => `C.${c.id}`,
  decode: (t: string): AlertCursor => {
    if (!t.startsWith('C.')) throw new Error('bad');
    return {publishTimeMicros: '1', id: t.slice(2)};
  },
};

function api(fake: Fake, logs: string[] = []) {
  return createApi({
    reader: fake.reader,
    alertCursors: cursorCodec,
    quarantineCursors: {
      encode: c => `Q.${c.id}`,
      decode: t => {
        if (t !== 'Q.m') throw new Error('bad');
        return {timeNanos: '5', id: 'm'};
      },
    },
    renderPng: (bytes, opts) => {
      if (bytes.toString() === 'corrupt') throw new Error('not FITS');
      return Buffer.from(`png:${opts.stretch}`);
    },
    lightCurve: () => ({detections: [], upperLimits: []}),
    log: createLogger({sink: l => logs.push(l)}),
  });
}

const get = (a: ReturnType<typeof api>, target: string): Promise<ApiAnswer> => {
  const [path, q = ''] = target.split('?');
  return a.answer(
    path.split('/').slice(2).map(decodeURIComponent),
    new URLSearchParams(q),
  );
};

const json = (a: ApiAnswer) => {
  assert.ok('json' in a);
  return a.json as Record<string, unknown>;
};

describe('read API routes', () => {
  it('parses the routes and refuses bad ids with 400s naming them', () => {
    assert.deepEqual(parseApiRoute(['subscriptions']), {
      route: 'subscriptions',
    });
    assert.deepEqual(
      parseApiRoute([
        'subscriptions',
        'ztf-loop',
        'alerts',
        '12',
        'cutouts',
        'difference.fits',
      ]),
      {
        route: 'cutout',
        subscription: 'ztf-loop',
        sourceId: '12',
        kind: 'difference',
        as: 'fits',
      },
    );
    assert.deepEqual(parseApiRoute(['objects', 'ZTF1']), {
      route: 'object',
      objectId: 'ZTF1',
    });
    assert.equal(
      (parseApiRoute(['subscriptions', '..', 'alerts']) as {parameter: string})
        .parameter,
      'subscription',
    );
    assert.equal(
      (
        parseApiRoute(['subscriptions', 'ztf-loop', 'alerts', 'a/b']) as {
          parameter: string;
        }
      ).parameter,
      'sourceId',
    );
    for (const r of [
      [],
      ['nope'],
      ['subscriptions', 'ztf-loop'],
      ['subscriptions', 'ztf-loop', 'other'],
      ['subscriptions', 'ztf-loop', 'quarantine', 'x'],
      ['subscriptions', 'ztf-loop', 'alerts', '1', 'stamps', 'science.png'],
      ['subscriptions', 'ztf-loop', 'alerts', '1', 'cutouts', 'sky.png'],
      ['subscriptions', 'ztf-loop', 'alerts', '1', 'cutouts', 'science.jpg'],
      [
        'subscriptions',
        'ztf-loop',
        'alerts',
        '1',
        'cutouts',
        'science.png',
        'x',
      ],
      ['objects'],
      ['objects', 'a', 'b'],
    ]) {
      assert.equal(parseApiRoute(r), null, r.join('/'));
    }
  });

  it('pages through the alerts with the cursor, passing the filters on', async () => {
    const fake = fakeReader(['1', '2', '3', '4', '5'].map(s => doc(s)));
    const a = api(fake);
    const seen: string[] = [];
    let target =
      '/api/subscriptions/ztf-loop/alerts?limit=2&band=g&magMin=1&magMax=30';
    for (let i = 0; i < 10; i++) {
      const r = await get(a, target);
      assert.equal(r.status, 200);
      const body = json(r);
      seen.push(
        ...(body.alerts as Array<{sourceId: string}>).map(x => x.sourceId),
      );
      if (body.next === null) break;
      target = `/api/subscriptions/ztf-loop/alerts?limit=2&band=g&magMin=1&magMax=30&cursor=${encodeURIComponent(String(body.next))}`;
    }
    assert.deepEqual(seen, ['5', '4', '3', '2', '1']);
    assert.deepEqual(
      {...fake.queries[0], after: undefined},
      {
        subscription: 'ztf-loop',
        limit: 2,
        after: undefined,
        band: 'g',
        magMin: 1,
        magMax: 30,
        since: undefined,
        until: undefined,
      },
    );
    assert.equal(fake.queries[1].after?.id, 'h-4');
  });

  it('formats generic and lite', async () => {
    const a = api(fakeReader([doc('7', {classtar: 0.5})]));
    const g = json(
      await get(a, '/api/subscriptions/ztf-loop/alerts?format=generic'),
    );
    assert.deepEqual(Object.keys((g.alerts as object[])[0]).sort(), [
      'dec',
      'id',
      'mag',
      'name',
      'ra',
      'score',
      'timestamp',
      'url',
    ]);
    const l = json(
      await get(a, '/api/subscriptions/ztf-loop/alerts?format=lite'),
    );
    assert.equal((l.alerts as Array<{candid: string}>)[0].candid, '7');
  });

  it('404s: unknown subscription, alert, object, stamp, route; an existing empty subscription is 200', async () => {
    const a = api(fakeReader([doc('1')]));
    for (const t of [
      '/api/subscriptions/no-such-sub/alerts',
      '/api/subscriptions/no-such-sub/quarantine',
      '/api/subscriptions/ztf-loop/alerts/999',
      '/api/objects/ZTF99zzzzzzz',
      '/api/subscriptions/ztf-loop/alerts/2/cutouts/science.png',
      '/api/nothing',
    ]) {
      const r = await get(a, t);
      assert.equal(r.status, 404, t);
      assert.equal(json(r).error, 'not-found');
    }
    const empty = await get(a, '/api/subscriptions/empty-sub/alerts');
    assert.equal(empty.status, 200);
    assert.deepEqual(json(empty), {alerts: [], next: null});
  });

  it('400s for bad parameters on every route', async () => {
    const a = api(fakeReader([doc('1')]));
    const cases: Array<[string, string]> = [
      ['/api/subscriptions?x=1', 'x'],
      ['/api/subscriptions/ztf-loop/alerts?cursor=forged', 'cursor'],
      ['/api/subscriptions/ztf-loop/alerts/1?format=lite', 'format'],
      ['/api/objects/ZTF1?limit=3', 'limit'],
      [
        '/api/subscriptions/ztf-loop/alerts/1/cutouts/science.png?stretch=log',
        'stretch',
      ],
      [
        '/api/subscriptions/ztf-loop/alerts/1/cutouts/science.fits?stretch=asinh',
        'stretch',
      ],
      ['/api/subscriptions/ztf-loop/quarantine?cursor=Q.other', 'cursor'],
      ['/api/subscriptions/ztf-loop/quarantine?limit=501', 'limit'],
      ['/api/subscriptions/goog-x/alerts', 'subscription'],
    ];
    for (const [t, parameter] of cases) {
      const r = await get(a, t);
      assert.equal(r.status, 400, t);
      assert.equal(json(r).parameter, parameter, t);
    }
  });

  it('stamps: PNG with the stretch, original bytes for .fits, 422 when not renderable; all immutable', async () => {
    const a = api(fakeReader([doc('1')]));
    const png = await get(
      a,
      '/api/subscriptions/ztf-loop/alerts/1/cutouts/science.png?stretch=asinh',
    );
    assert.ok('bytes' in png);
    assert.equal(png.contentType, 'image/png');
    assert.equal(png.bytes.toString(), 'png:asinh');
    assert.equal(
      png.headers?.['Cache-Control'],
      'public, max-age=31536000, immutable',
    );
    const gz = await get(
      a,
      '/api/subscriptions/ztf-loop/alerts/1/cutouts/science.fits',
    );
    assert.ok('bytes' in gz);
    assert.equal(gz.contentType, 'application/gzip');
    assert.deepEqual([...gz.bytes], [0x1f, 0x8b, 8, 0]);
    assert.match(
      gz.headers?.['Content-Disposition'] ?? '',
      /filename="1-science\.fits\.gz"/,
    );
    const plain = await get(
      a,
      '/api/subscriptions/ztf-loop/alerts/1/cutouts/difference.fits',
    );
    assert.ok('bytes' in plain);
    assert.equal(plain.contentType, 'application/fits');
    const corrupt = await get(
      a,
      '/api/subscriptions/ztf-loop/alerts/1/cutouts/template.png',
    );
    assert.equal(corrupt.status, 422);
    assert.equal(json(corrupt).error, 'unrenderable-stamp');
  });

  it('storage failures: 503 when transient, 500 otherwise, with no internals in the answer', async () => {
    const logs: string[] = [];
    const t = api(
      fakeReader([], {
        fail: new TransientError('store-unavailable', 'deadline at 10.0.0.1'),
      }),
      logs,
    );
    const r = await get(t, '/api/subscriptions');
    assert.equal(r.status, 503);
    assert.doesNotMatch(JSON.stringify(json(r)), /10\.0\.0\.1/);
    assert.match(logs.join('\n'), /10\.0\.0\.1/);
    const p = api(fakeReader([], {fail: new Error('boom /srv/file.js')}));
    const r2 = await get(p, '/api/subscriptions/ztf-loop/alerts');
    assert.equal(r2.status, 500);
    assert.doesNotMatch(JSON.stringify(json(r2)), /srv/);
  });

  it('quarantine: items and an encoded next cursor', async () => {
    const a = api(fakeReader([]));
    const body = json(
      await get(a, '/api/subscriptions/ztf-loop/quarantine?limit=1'),
    );
    assert.equal(body.next, 'Q.m');
    assert.equal(
      (body.quarantine as Array<{sizeBytes: number}>)[0].sizeBytes,
      3,
    );
  });
});
