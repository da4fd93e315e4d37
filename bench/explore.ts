/**
 * `npm run bench:explore`: the read API's latency against the bare
 * Firestore reads of the same data, in the same run on the same emulator.
 *
 * Stored: 10,000 alerts (BENCH_ALERTS) in one subscription, in the storage
 * layout (shards, separate cutouts) as the ingest function writes them:
 * alert documents made by the ingest's own mapper from generated ZTF
 * packets (20 previous detections each, no stamps; 2,000 objects of 5
 * alerts), plus the real shipped ZTF packets with their stamps.
 *
 * Three pairs, each timed request by request, in interleaved batches
 * (order alternating per round) so that the shared machine's noise falls
 * on both sides alike:
 * - alerts page: `GET /api/subscriptions/S/alerts?limit=50` (the summary,
 *   pages 1-20 by cursor) vs `listAlerts` with the same fields and cursors
 *   (8 shard queries merged: the data the page needs);
 * - object: `GET /api/objects/{id}` vs the same two reads (the object's
 *   alerts' summary fields, its newest alert whole);
 * - stamp: `GET .../cutouts/science.png` of a real ZTF stamp vs
 *   `readCutout` of its bytes.
 * The API runs in the explore function served by the real functions
 * framework (a child process; HTTP over loopback, keep-alive); the bare
 * reads run in this process. Also: `renderStampPng` alone, per real stamp
 * (target ≤ 5 ms), and the CPU per request of the function process and of
 * the emulator. Target: API p50 ≤ 1.25 × the bare read's.
 *
 * Options (env): BENCH_ALERTS (10000), BENCH_ROUNDS (30), BENCH_BATCH (10
 * requests per path per round). Last line: one JSON object.
 */

import {readdirSync, readFileSync} from 'node:fs';
import {loadavg} from 'node:os';
import * as path from 'node:path';

import type {Firestore} from '@google-cloud/firestore';

import {Alert, createDecoder} from '../src/alert';
import {loadConfig} from '../src/config';
import {renderStampPng} from '../src/cutouts/render';
import {
  ALERT_LIST_FIELDS,
  OBJECT_FIELDS,
} from '../src/explore/firestore-reader';
import {alertDocumentMapper} from '../src/ingest/firestore-pipeline';
import {firestoreClient} from '../src/local/clients';
import {startFirestoreEmulator} from '../src/local/emulators';
import {startFunctionServer} from '../src/local/function-server';
import {generateZtfPacket} from '../src/local/generate';
import {samplesDir} from '../src/local/samples';
import {
  AlertCursor,
  getAlert,
  listAlerts,
  objectAlerts,
} from '../src/store/alert-query';
import {createAlertStore} from '../src/store/alert-store';
import {readCutout} from '../src/store/cutouts';
import {createSubscriptionStore} from '../src/store/subscription-store';
import {cpuMsOf, groupCpuMs, percentile, round} from './lib/push-tools';

const N = Number(process.env.BENCH_ALERTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const PROJECT = 'bench-explore';
const SUB = 'ztf-loop';
const OBJECTS = Math.max(1, Math.floor(N / 5));
const PAGES = 20;
const T0 = Date.parse('2026-12-01T00:00:00Z');

const config = loadConfig({GOOGLE_CLOUD_PROJECT: PROJECT});

async function seed(
  db: Firestore,
): Promise<{real: Alert[]; objectIds: string[]}> {
  await createSubscriptionStore(db, config).put({
    name: SUB,
    topic: `projects/ardent-cycling-243415/topics/${SUB}`,
    filter: null,
    serverFilter: '',
    settings: {},
  });
  const decoder = createDecoder();
  const base: Alert[] = [];
  for (let s = 0; s < 100; s++) {
    const p = generateZtfPacket({seed: 10_000 + s, cutoutBytes: 0});
    base.push((await decoder.decode(p.bytes))[0]);
  }
  const dir = path.join(samplesDir(), 'ztf');
  const real: Alert[] = [];
  for (const f of readdirSync(dir)
    .filter(f => f.endsWith('.avro'))
    .sort()) {
    real.push(...(await decoder.decode(readFileSync(path.join(dir, f)))));
  }
  const toDoc = alertDocumentMapper(config);
  const store = createAlertStore(db, config, {mode: 'batch'});
  const objectIds = Array.from(
    {length: OBJECTS},
    (_, i) => `ZTF26b${i.toString(36).padStart(6, 'a')}`,
  );
  let docs = [];
  for (let i = 0; i < N; i++) {
    const b = base[i % base.length];
    const alert: Alert = {
      ...b,
      sourceId: (3_000_000_000_000_000_000n + BigInt(i)).toString(),
      objectId: objectIds[i % OBJECTS],
      jd: (b.jd ?? 2460000) + i / 1000,
      mjd: (b.mjd ?? 60000) + i / 1000,
    };
    docs.push(
      toDoc(alert, {
        subscription: SUB,
        messageId: String(i),
        publishTime: new Date(T0 + i * 10).toISOString(),
        attributes: {objectId: alert.objectId},
      }),
    );
    if (docs.length === 200 || i === N - 1) {
      await store.storeMany(docs);
      docs = [];
      if ((i + 1) % 2000 === 0) process.stderr.write(`  ${i + 1} stored\n`);
    }
  }
  await store.storeMany(
    real.map((a, i) =>
      toDoc(a, {
        subscription: SUB,
        messageId: `real-${i}`,
        publishTime: new Date(T0 - 1000 * (i + 1)).toISOString(),
        attributes: {objectId: a.objectId},
      }),
    ),
  );
  return {real, objectIds};
}

interface Pair {
  name: string;
  api: (i: number) => Promise<void>;
  bare: (i: number) => Promise<void>;
}

interface Side {
  ms: number[];
  fnCpuMs: number;
  emuCpuMs: number;
  selfCpuMs: number;
}

function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  process.stderr.write('starting the Firestore emulator...\n');
  const emu = await startFirestoreEmulator();
  const db = firestoreClient({projectId: PROJECT, host: emu.host});
  let fn: Awaited<ReturnType<typeof startFunctionServer>> | undefined;
  try {
    process.stderr.write(`storing ${N} alerts...\n`);
    const {real, objectIds} = await seed(db);
    fn = await startFunctionServer({
      target: 'explore',
      env: {
        FIRESTORE_EMULATOR_HOST: emu.host,
        GOOGLE_CLOUD_PROJECT: PROJECT,
        LOG_LEVEL: 'WARNING',
      },
    });
    const url = fn.url.replace(/\/$/, '');
    const get = async (p: string, type: string) => {
      const res = await fetch(url + p);
      const body = Buffer.from(await res.arrayBuffer());
      if (
        res.status !== 200 ||
        !res.headers.get('content-type')?.startsWith(type)
      ) {
        throw new Error(`${p}: ${res.status} ${body.toString().slice(0, 200)}`);
      }
      return body;
    };

    // The cursors of pages 1..PAGES, from the bare query.
    const cursors: Array<AlertCursor | null> = [null];
    const select = [...ALERT_LIST_FIELDS];
    for (let i = 1; i < PAGES; i++) {
      const page = await listAlerts(db, config, {
        subscription: SUB,
        limit: 50,
        after: cursors[i - 1],
        select,
      });
      cursors.push(page.next);
    }
    const apiCursors: Array<string | null> = [null];
    for (let i = 1; i < PAGES; i++) {
      const prev = apiCursors[i - 1];
      const body = JSON.parse(
        (
          await get(
            `/api/subscriptions/${SUB}/alerts?limit=50${prev ? `&cursor=${prev}` : ''}`,
            'application/json',
          )
        ).toString(),
      ) as {next: string};
      apiCursors.push(body.next);
    }
    const ztf = real.filter(a => a.cutouts.science);
    const pairs: Pair[] = [
      {
        name: 'alerts page (50 rows)',
        api: async i => {
          const c = apiCursors[i % PAGES];
          await get(
            `/api/subscriptions/${SUB}/alerts?limit=50${c ? `&cursor=${c}` : ''}`,
            'application/json',
          );
        },
        bare: async i => {
          await listAlerts(db, config, {
            subscription: SUB,
            limit: 50,
            after: cursors[i % PAGES],
            select,
          });
        },
      },
      {
        name: 'object light curve (5 alerts)',
        api: async i => {
          await get(
            `/api/objects/${objectIds[(i * 7919) % OBJECTS]}`,
            'application/json',
          );
        },
        bare: async i => {
          const docs = await objectAlerts(
            db,
            config,
            objectIds[(i * 7919) % OBJECTS],
            {
              select: OBJECT_FIELDS,
            },
          );
          const newest = docs[docs.length - 1];
          await getAlert(db, config, SUB, newest.get('sourceId'));
        },
      },
      {
        name: 'stamp PNG (real ZTF science)',
        api: async i => {
          const a = ztf[i % ztf.length];
          await get(
            `/api/subscriptions/${SUB}/alerts/${a.sourceId}/cutouts/science.png`,
            'image/png',
          );
        },
        bare: async i => {
          const a = ztf[i % ztf.length];
          const b = await readCutout(db, config, SUB, a.sourceId, 'science');
          if (!b) throw new Error(`no stamp for ${a.sourceId}`);
        },
      },
    ];

    // Warm-up: both sides of each pair.
    for (const p of pairs) {
      for (let i = 0; i < 20; i++) {
        await p.api(i);
        await p.bare(i);
      }
    }
    process.stderr.write(
      `measuring: ${ROUNDS} rounds x ${BATCH} requests per side (load average ${loadavg()[0].toFixed(2)})...\n`,
    );
    const sides = new Map<string, {api: Side; bare: Side}>();
    const fresh = (): Side => ({ms: [], fnCpuMs: 0, emuCpuMs: 0, selfCpuMs: 0});
    for (const p of pairs) sides.set(p.name, {api: fresh(), bare: fresh()});
    const load0 = loadavg()[0];
    let n = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of pairs) {
        const s = sides.get(p.name)!;
        const order: Array<'api' | 'bare'> =
          r % 2 ? ['bare', 'api'] : ['api', 'bare'];
        for (const which of order) {
          const side = s[which];
          const f0 = cpuMsOf(fn.pid);
          const e0 = groupCpuMs(emu.pid);
          const c0 = selfCpu();
          for (let k = 0; k < BATCH; k++) {
            const i = n++;
            const t0 = performance.now();
            await p[which](i);
            side.ms.push(performance.now() - t0);
          }
          side.fnCpuMs += cpuMsOf(fn.pid) - f0;
          side.emuCpuMs += groupCpuMs(emu.pid) - e0;
          side.selfCpuMs += selfCpu() - c0;
        }
      }
    }
    const load1 = loadavg()[0];

    // The renderer alone, per real stamp.
    const stamps = real.flatMap(a =>
      (['science', 'template', 'difference'] as const)
        .map(k => a.cutouts[k]?.data)
        .filter((d): d is Buffer => d !== undefined),
    );
    const renderMs: number[] = [];
    for (let k = 0; k < 20; k++) for (const s of stamps) renderStampPng(s);
    for (let k = 0; k < 50; k++) {
      for (const s of stamps) {
        const t0 = performance.now();
        renderStampPng(s);
        renderMs.push(performance.now() - t0);
      }
    }

    const rows: Array<Record<string, number | string>> = [];
    const summary: Record<string, unknown> = {};
    for (const [name, s] of sides) {
      const per = (x: number, side: Side) => x / side.ms.length;
      const api50 = percentile(s.api.ms, 0.5);
      const bare50 = percentile(s.bare.ms, 0.5);
      rows.push({
        measurement: name,
        'API p50 ms': round(api50, 2),
        'API p99 ms': round(percentile(s.api.ms, 0.99), 2),
        'bare p50 ms': round(bare50, 2),
        'bare p99 ms': round(percentile(s.bare.ms, 0.99), 2),
        'ratio p50': round(api50 / bare50, 3),
        'function CPU ms/req': round(per(s.api.fnCpuMs, s.api), 2),
        'bench CPU ms/req (bare)': round(per(s.bare.selfCpuMs, s.bare), 2),
        'emulator CPU ms/req API|bare': `${round(per(s.api.emuCpuMs, s.api), 2)} | ${round(per(s.bare.emuCpuMs, s.bare), 2)}`,
      });
      summary[name] = {
        apiP50: round(api50, 3),
        apiP99: round(percentile(s.api.ms, 0.99), 3),
        bareP50: round(bare50, 3),
        bareP99: round(percentile(s.bare.ms, 0.99), 3),
        ratioP50: round(api50 / bare50, 3),
        functionCpuMsPerRequest: round(per(s.api.fnCpuMs, s.api), 3),
      };
    }
    const cols = Object.keys(rows[0]);
    const cell = (v: unknown) => String(v);
    const widths = cols.map(c =>
      Math.max(c.length, ...rows.map(r => cell(r[c]).length)),
    );
    const line = (vals: string[]) =>
      vals.map((v, i) => v.padEnd(widths[i])).join('  ');
    console.log(line(cols));
    for (const r of rows) console.log(line(cols.map(c => cell(r[c]))));
    const r50 = percentile(renderMs, 0.5);
    const r99 = percentile(renderMs, 0.99);
    console.log(
      `renderStampPng alone: ${stamps.length} real stamps, p50 ${r50.toFixed(2)} ms, p99 ${r99.toFixed(2)} ms (target <= 5 ms)`,
    );
    console.log(
      `${N} alerts stored; ${ROUNDS} rounds x ${BATCH} requests per side; load average ${load0.toFixed(2)} -> ${load1.toFixed(2)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'explore',
        alerts: N,
        rounds: ROUNDS,
        batch: BATCH,
        loadAverage: [round(load0, 2), round(load1, 2)],
        ...summary,
        renderStampPng: {
          stamps: stamps.length,
          p50: round(r50, 3),
          p99: round(r99, 3),
        },
      }),
    );
  } finally {
    await fn?.stop();
    await db.terminate();
    await emu.stop();
  }
}

main().catch(e => {
  process.stderr.write(`bench:explore: ${e instanceof Error ? e.stack : e}\n`);
  process.exitCode = 1;
});
