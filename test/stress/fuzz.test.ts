/**
 * Fuzzing: deterministic mutations (test/helpers/mutate.ts) of real packets
 * (samples/ or ALERT_SAMPLES_DIR: ZTF Avro OCF; LSST Confluent wire with
 * the schemas of samples/schemas or ALERT_SCHEMAS_DIR) and of generated ones (ZTF OCF null/deflate, LSST
 * Confluent, lite JSON), through the decoder in process: every mutation
 * decodes or fails with a typed PermanentError / TransientError carrying a
 * reason code; the slowest decode and the peak memory are recorded (no timed
 * assertion). A smaller number goes through the real push endpoint of the
 * ingest function (functions framework + Firestore emulator): every one is
 * answered 204 and classified, never 5xx for a permanent fault, never a
 * crash; quarantined with the decoder's own reason when the decoder refuses it.
 */

import {strict as assert} from 'node:assert';
import {mkdtemp, rm} from 'node:fs/promises';
import {readdirSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {createDecoder, Decoder, TypeCache} from '../../src/alert';
import {AlertError, isAlertError} from '../../src/errors';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {
  generateLiteJson,
  generateLsstPacket,
  generateZtfPacket,
  Random,
  writeMixedSchemaDir,
} from '../helpers';
import {ocfLayout} from '../helpers/avro-bytes';
import {useEmulators} from '../helpers/emulator-fixture';
import {pushEnvelope, rawRequest} from '../helpers/http-request';
import {mutate, Mutation} from '../helpers/mutate';
import {samplesDir, schemasDir} from '../../src/local/samples';
import {recordFigure, scaled} from '../helpers/stress-report';

// The shipped samples/ unless ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR say otherwise.
const SAMPLES: string | undefined = samplesDir();
const SCHEMAS: string | undefined = schemasDir();
const NO_SAMPLES =
  'ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR not set: the real packets were not fuzzed';
const GEN_ID = 9901;
const SEED = 0x5eed;
/** Mutations through the decoder, all sources together (≥ 100,000 at full scale). */
const TOTAL = scaled(10_000, 100_000);
/** Mutations through the push endpoint. */
const PUSHED = scaled(200, 2_000);

interface Source {
  name: string;
  skip?: string;
  /** Share of TOTAL. */
  share: number;
  packets: () => Buffer[];
  /** Offsets where the structure is, per packet. */
  hotspots: (p: Buffer) => number[];
  decoder: () => Decoder;
}

function readSamples(survey: string): Buffer[] {
  if (!SAMPLES || !SCHEMAS) return [];
  const dir = path.join(SAMPLES, survey);
  return readdirSync(dir)
    .sort()
    .map(f => readFileSync(path.join(dir, f)));
}

const ocfHotspots = (p: Buffer) => {
  const l = ocfLayout(p);
  return [l.blockStart, l.sizeAt, l.recordStart, p.length - 16];
};

function memo<T>(f: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= f());
}

let schemaDir = '';
/** Own type caches: mutated schemas must not evict the real ones of other tests. */
const plainDecoder = memo(() => createDecoder({typeCache: new TypeCache(64)}));
const schemaDecoder = memo(() =>
  createDecoder({schemaSource: schemaDir, typeCache: new TypeCache(64)}),
);

const SOURCES: Source[] = [
  {
    name: 'ZTF Avro OCF (real samples)',
    skip: SAMPLES && SCHEMAS ? undefined : NO_SAMPLES,
    share: 0.3,
    packets: memo(() => readSamples('ztf')),
    hotspots: ocfHotspots,
    decoder: plainDecoder,
  },
  {
    name: 'LSST Confluent wire (real samples)',
    skip: SAMPLES && SCHEMAS ? undefined : NO_SAMPLES,
    share: 0.15,
    packets: memo(() => readSamples('lsst')),
    hotspots: p => [1, 5, p.length - 1],
    decoder: schemaDecoder,
  },
  {
    name: 'ZTF Avro OCF (generated, null and deflate)',
    share: 0.25,
    packets: memo(() => [
      generateZtfPacket({seed: 1, cutoutBytes: 2000, prvCandidates: 5}).bytes,
      generateZtfPacket({seed: 2, codec: 'deflate', cutoutBytes: 2000}).bytes,
      generateZtfPacket({
        seed: 3,
        count: 3,
        recordsPerBlock: 1,
        cutoutBytes: 300,
      }).bytes,
      generateZtfPacket({seed: 4, schemaVersion: '3.3', prvCandidates: 'null'})
        .bytes,
    ]),
    hotspots: ocfHotspots,
    decoder: plainDecoder,
  },
  {
    name: 'LSST Confluent wire (generated)',
    share: 0.15,
    packets: memo(() => [
      generateLsstPacket({seed: 1, schemaId: GEN_ID, cutoutBytes: 200}).bytes,
      generateLsstPacket({seed: 2, schemaId: GEN_ID, solarSystem: true}).bytes,
      generateLsstPacket({seed: 3, schemaId: GEN_ID, prvDiaSources: 'null'})
        .bytes,
    ]),
    hotspots: p => [1, 5, 40, p.length - 1],
    decoder: schemaDecoder,
  },
  {
    name: 'lite JSON (generated)',
    share: 0.15,
    packets: memo(() => [
      generateLiteJson({seed: 1}).bytes,
      generateLiteJson({seed: 2, shape: 'new', nanClasstar: true}).bytes,
    ]),
    hotspots: () => [],
    decoder: plainDecoder,
  },
];

interface Tally {
  tried: number;
  decoded: number;
  /** `permanent:truncated` → count. */
  byCode: Map<string, number>;
  /** Errors that were not typed (must stay empty). */
  untyped: string[];
  /** Typed failures whose cause is a JS engine error (TypeError, RangeError): a defect hidden behind a code. */
  engineCauses: string[];
  slowestMs: number;
  slowest: string;
}

const newTally = (): Tally => ({
  tried: 0,
  decoded: 0,
  byCode: new Map(),
  untyped: [],
  engineCauses: [],
  slowestMs: 0,
  slowest: '',
});

/** Classifies one payload through the decoder in process. */
async function classify(
  d: Decoder,
  bytes: Buffer,
): Promise<{ok: true; alerts: number} | {ok: false; error: unknown}> {
  try {
    const alerts = d.tryDecodeSync(bytes) ?? (await d.decode(bytes));
    return {ok: true, alerts: alerts.length};
  } catch (e) {
    return {ok: false, error: e};
  }
}

/**
 * A TypeError / RangeError / ReferenceError thrown by this project's own code
 * (its first stack frame, past built-ins like `BigInt`, is under build/src):
 * a defect, even when the decoder turned it into a reason code. The same
 * errors from a library parsing garbage (avsc on a mutated schema, the UTF-8
 * decoder on invalid bytes) are the expected way to refuse it.
 */
function ownEngineError(e: unknown): e is Error {
  if (!(
    e instanceof TypeError ||
    e instanceof RangeError ||
    e instanceof ReferenceError
  )) {
    return false;
  }
  const frame = (e.stack ?? '')
    .split('\n')
    .filter(
      l => /^\s+at /.test(l) && !/\(<anonymous>\)$|^\s+at <anonymous>$/.test(l),
    )[0];
  return frame !== undefined && /[/\\]build[/\\]src[/\\]/.test(frame);
}

function note(t: Tally, m: Mutation, r: Awaited<ReturnType<typeof classify>>) {
  t.tried++;
  if (r.ok) {
    t.decoded++;
    return;
  }
  const e = r.error;
  if (!isAlertError(e)) {
    if (t.untyped.length < 5) t.untyped.push(`${m.description}: ${String(e)}`);
    return;
  }
  const key = `${e.kind}:${e.code}`;
  t.byCode.set(key, (t.byCode.get(key) ?? 0) + 1);
  const cause = (e as AlertError & {cause?: unknown}).cause;
  if (ownEngineError(cause) && t.engineCauses.length < 5) {
    t.engineCauses.push(`${m.description}: ${e.code}: ${cause.message}`);
  }
}

describe('fuzzed packets through the decoder', () => {
  let peakRss = 0;
  const started = process.memoryUsage().rss;

  before(async () => {
    schemaDir = await mkdtemp(path.join(tmpdir(), 'fuzz-schemas-'));
    await writeMixedSchemaDir(
      schemaDir,
      [GEN_ID],
      SCHEMAS && path.join(SCHEMAS, 'lsst'),
    );
  });
  after(async () => {
    await rm(schemaDir, {recursive: true, force: true});
  });

  SOURCES.forEach((src, k) => {
    const n = Math.round(TOTAL * src.share);
    it(
      `${src.name}: ${n.toLocaleString('en-US')} mutations decode or fail typed`,
      src.skip ? {skip: src.skip} : {},
      async () => {
        const packets = src.packets();
        assert.ok(packets.length > 0);
        const hot = packets.map(src.hotspots);
        const d = src.decoder();
        // The unmutated packets decode.
        for (const p of packets) assert.ok((await classify(d, p)).ok);
        const rng = new Random(SEED + k);
        const t = newTally();
        for (let i = 0; i < n; i++) {
          const j = rng.int(0, packets.length - 1);
          const m = mutate(packets[j], rng, {
            hotspots: hot[j],
            donors: packets,
          });
          const t0 = performance.now();
          const r = await classify(d, m.bytes);
          const ms = performance.now() - t0;
          if (ms > t.slowestMs) {
            t.slowestMs = ms;
            t.slowest = m.description;
          }
          note(t, m, r);
          if (i % 500 === 0) {
            peakRss = Math.max(peakRss, process.memoryUsage().rss);
          }
        }
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        const codes = Object.fromEntries(
          [...t.byCode.entries()].sort((a, b) => b[1] - a[1]),
        );
        recordFigure({
          suite: 'fuzz',
          name: `decoder: ${src.name}`,
          tried: t.tried,
          lost: 0,
          duplicated: 0,
          quarantinedValid: 0,
          details: {
            decoded: t.decoded,
            ...codes,
            'slowest decode ms': Math.round(t.slowestMs * 10) / 10,
            'slowest mutation': t.slowest,
            'peak RSS MiB': Math.round(peakRss / 2 ** 20),
            seed: SEED + k,
          },
        });
        assert.deepEqual(t.untyped, [], 'every failure is typed');
        assert.deepEqual(t.engineCauses, [], 'no engine error behind a code');
        assert.equal(
          t.decoded + [...t.byCode.values()].reduce((a, b) => a + b, 0),
          n,
          'every mutation classified',
        );
        assert.ok(
          [...t.byCode.keys()].every(c => c.startsWith('permanent:')),
          `only permanent failures without a registry: ${[...t.byCode.keys()]}`,
        );
        // Huge declared lengths never allocate: the process stays small.
        assert.ok(
          peakRss - started < 1024 * 2 ** 20,
          `RSS grew by ${Math.round((peakRss - started) / 2 ** 20)} MiB`,
        );
      },
    );
  });
});

describe('fuzzed packets through the push endpoint (functions framework + Firestore emulator)', () => {
  const emu = useEmulators({firestore: true});
  const project = `fuzz-${Date.now().toString(36)}`;
  const SUB = 'fuzz-e2e';
  const logs: Record<string, unknown>[] = [];
  let fn: FunctionServer;
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fuzz-e2e-schemas-'));
    await writeMixedSchemaDir(
      dir,
      [GEN_ID],
      SCHEMAS && path.join(SCHEMAS, 'lsst'),
    );
    fn = await startFunctionServer({
      target: 'ingest',
      env: {
        FIRESTORE_EMULATOR_HOST: emu.emulators.firestore!.host,
        GOOGLE_CLOUD_PROJECT: project,
        SCHEMA_SOURCE: dir,
      },
      onLog: e => logs.push(e),
    });
  });
  after(async () => {
    await fn?.stop();
    await rm(dir, {recursive: true, force: true});
  });

  it(`${PUSHED.toLocaleString('en-US')} mutations: 204 and classified, quarantined with the decoder's reason`, async () => {
    const decoder = createDecoder({
      schemaSource: dir,
      typeCache: new TypeCache(64),
    });
    const sources = SOURCES.filter(s => !s.skip);
    const rng = new Random(SEED + 100);
    const expected = new Map<string, string | null>(); // messageId → decoder's code, or null (decodes)
    const answers = new Map<number, number>();
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < PUSHED; i++) {
      const src = rng.pick(sources);
      const packets = src.packets();
      const j = rng.int(0, packets.length - 1);
      const m = mutate(packets[j], rng, {
        hotspots: src.hotspots(packets[j]),
        donors: packets,
      });
      const messageId = `fuzz-${i}`;
      jobs.push(async () => {
        const r = await classify(decoder, m.bytes);
        expected.set(messageId, r.ok ? null : (r.error as AlertError).code);
        const a = await rawRequest({
          port: fn.port,
          path: `/?subscription=${SUB}`,
          headers: {'content-type': 'application/json'},
          body: JSON.stringify(pushEnvelope(m.bytes, {messageId})),
        });
        answers.set(a.status, (answers.get(a.status) ?? 0) + 1);
        assert.equal(
          a.status,
          204,
          `${m.description}: ${a.text.slice(0, 300)}`,
        );
      });
    }
    // Eight in flight.
    let next = 0;
    await Promise.all(
      Array.from({length: 8}, async () => {
        while (next < jobs.length) await jobs[next++]();
      }),
    );
    // One log line per message: its outcome.
    const byId = new Map<string, Record<string, unknown>>();
    const deadline = Date.now() + 10_000;
    for (;;) {
      for (const l of logs) {
        if (typeof l.messageId === 'string' && l.outcome)
          byId.set(l.messageId, l);
      }
      if (byId.size >= PUSHED || Date.now() > deadline) break;
      await new Promise(r => setTimeout(r, 100));
    }
    assert.equal(
      byId.size,
      PUSHED,
      'every message logged once with its outcome',
    );
    let disagreed = 0;
    const outcomes = new Map<string, number>();
    for (const [id, code] of expected) {
      const l = byId.get(id)!;
      const key =
        l.outcome === 'quarantined'
          ? `quarantined:${l.reason}`
          : String(l.outcome);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (code !== null) {
        // The decoder refused it: quarantined with the same reason.
        if (l.outcome !== 'quarantined' || l.reason !== code) disagreed++;
      } else {
        // Decoded: stored, a duplicate of an earlier mutation, or refused by
        // the store (an id that cannot be a document id, a document too large).
        assert.ok(
          ['stored', 'duplicate', 'filtered'].includes(l.outcome as string) ||
            (l.outcome === 'quarantined' &&
              ['invalid-alert', 'store-rejected', 'too-large'].includes(
                l.reason as string,
              )),
          `${id}: ${JSON.stringify(l)}`,
        );
      }
    }
    // Firestore holds exactly what the log lines say.
    const db = emu.firestore(project);
    const sub = db.collection('subscriptions').doc(SUB);
    const [q, a] = await Promise.all([
      sub.collection('quarantine').count().get(),
      sub.collection('alerts').count().get(),
    ]);
    const quarantinedLogs = [...byId.values()].filter(
      l => l.outcome === 'quarantined',
    ).length;
    const storedIds = [...byId.values()]
      .filter(l => l.outcome === 'stored')
      .flatMap(l =>
        Array.isArray(l.alerts)
          ? (l.alerts as {sourceId: string; outcome: string}[])
              .filter(x => x.outcome === 'stored')
              .map(x => x.sourceId)
          : [l.sourceId as string],
      );
    const duplicated = storedIds.length - new Set(storedIds).size;
    recordFigure({
      suite: 'fuzz',
      name: 'mutations through the push endpoint',
      tried: PUSHED,
      lost: PUSHED - byId.size,
      duplicated,
      quarantinedValid: disagreed,
      details: {
        ...Object.fromEntries([...answers].map(([s, c]) => [`HTTP ${s}`, c])),
        ...Object.fromEntries([...outcomes].sort((x, y) => y[1] - x[1])),
      },
    });
    assert.equal(disagreed, 0, "quarantined with the decoder's own reason");
    assert.equal(duplicated, 0);
    assert.equal(q.data().count, quarantinedLogs);
    assert.equal(a.data().count, storedIds.length);
    assert.deepEqual([...answers.keys()], [204]);
  });
});
