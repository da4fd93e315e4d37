/**
 * Stress, faults: each fault is injected while alerts are flowing (the
 * Pub/Sub emulator pushing to the ingest function, served by the real
 * functions framework in its own process), then healed. After each: every
 * alert stored exactly once, nothing valid quarantined, nothing left
 * unacknowledged (checked for all scenarios at the end, past the ack
 * deadline: see test/helpers/unacked.ts).
 *
 * - Firestore unreachable (a loopback proxy in front of the emulator) for
 *   10 s (30 s in `npm run stress`): refusing connections, then blackholing
 *   them (a hung peer: STORE_TIMEOUT_MS bounds every write, so the function
 *   answers 5xx instead of holding the push open);
 * - the function process SIGKILLed and restarted on the same port;
 * - the schema registry down (LSST Confluent-wire alerts, SCHEMA_SOURCE = a
 *   local registry), then back on the same port;
 * - a redelivery storm: every message published 5 times, interleaved, and a
 *   seek of the subscription back to before the run.
 *
 * Figures: 5xx answers and redeliveries (from the function's log lines),
 * time to recover (heal → first alert stored, and heal → last alert stored).
 */

import {strict as assert} from 'node:assert';
import * as http from 'node:http';
import {AddressInfo} from 'node:net';
import {after, before, describe, it} from 'node:test';

import {loadConfig} from '../../src/config';
import {
  FunctionServer,
  FunctionServerOptions,
  startFunctionServer,
} from '../../src/local/function-server';
import {LOOPBACK} from '../../src/local/ports';
import {
  generateLsstPacket,
  generateZtfPacket,
  lsstLikeSchemaText,
  Random,
  SchemaRegistry,
  startSchemaRegistry,
} from '../helpers';
import {useEmulators} from '../helpers/emulator-fixture';
import {
  createIngestLog,
  deliveryFigures,
  SubscriptionLog,
} from '../helpers/ingest-log';
import {
  createPushScenario,
  PITT_PROJECT,
  PushScenario,
} from '../helpers/push-scenario';
import {recordFigure, scaled, StressFigure} from '../helpers/stress-report';
import {startTcpProxy, TcpProxy} from '../helpers/tcp-proxy';
import {UnackedMessage, unackedAfterPush} from '../helpers/unacked';
import {sleep, waitFor} from '../helpers/wait';

/** Alerts per scenario. */
const M = scaled(300, 2_000);
const OUTAGE_MS = scaled(10, 30) * 1000;
const REGISTRY_OUTAGE_MS = scaled(8, 20) * 1000;
const KILLED_MS = scaled(3, 5) * 1000;
const STORM_ALERTS = scaled(60, 400);
const STORM_COPIES = 5;
/** The minimum Pub/Sub allows; every bound of the function must stay below it. */
const ACK_DEADLINE_S = 10;
const STORE_TIMEOUT_MS = 4000;
/** LSST schema ids of the registry scenario: one per alert (see there). */
const FIRST_SCHEMA_ID = 1000;
const config = loadConfig({});

interface Packet {
  bytes: Buffer;
  sourceId: string;
}

const ztfPackets = (seed0: number, n: number): Packet[] =>
  Array.from({length: n}, (_, i) => {
    const p = generateZtfPacket({seed: seed0 + i});
    return {bytes: p.bytes, sourceId: p.expected[0].sourceId};
  });

const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

interface Fault {
  /** Figure name. */
  what: string;
  inject(): Promise<void> | void;
  /** How long the fault lasts. */
  holdMs: number;
  heal(): Promise<void> | void;
}

interface FaultRun {
  scenario: PushScenario;
  sub: SubscriptionLog;
  injectAt: number;
  healAt: number;
  /** 5xx answers while the fault lasted. */
  retriesDuringFault: number;
  /** Stored (in Firestore) when the fault was healed. */
  inStoreAtHeal: number;
}

describe('stress: faults injected mid-run', () => {
  const emu = useEmulators({pubsub: true, firestore: true});
  const log = createIngestLog({keepLines: true});
  const project = `stress-faults-${Date.now().toString(36)}`;
  const schemas = new Map<number, string>();
  for (let id = FIRST_SCHEMA_ID; id < FIRST_SCHEMA_ID + M; id++) {
    schemas.set(id, lsstLikeSchemaText(id));
  }
  let proxy: TcpProxy;
  let registry: SchemaRegistry;
  let registryPort: number;
  let fnOptions: FunctionServerOptions;
  let fn: FunctionServer;
  /** Figures wait for the unacked check, made for all scenarios at the end. */
  const pending: {figure: StressFigure; unacked: Promise<UnackedMessage[]>}[] =
    [];

  before(async () => {
    const [host, port] = emu.emulators.firestore!.host.split(':');
    proxy = await startTcpProxy({host, port: Number(port)});
    registry = await startSchemaRegistry(schemas);
    registryPort = Number(new URL(registry.url).port);
    fnOptions = {
      target: 'ingest',
      env: {
        FIRESTORE_EMULATOR_HOST: `${proxy.host}:${proxy.port}`,
        GOOGLE_CLOUD_PROJECT: project,
        SCHEMA_SOURCE: registry.url,
        STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
      },
      onLog: log.onLog,
    };
    fn = await startFunctionServer(fnOptions);
  });

  after(async () => {
    await fn?.stop();
    await proxy?.close();
    await registry?.close().catch(() => undefined);
  });

  const newScenario = (name: string, retainAckedMessages = false) =>
    createPushScenario({
      pitt: emu.pubsub(PITT_PROJECT),
      user: emu.pubsub(project),
      db: emu.firestore(project),
      config,
      name,
      functionUrl: fn.url,
      ackDeadlineSeconds: ACK_DEADLINE_S,
      retainAckedMessages,
    });

  /** Until every expected alert is in Firestore (stored, or found there on a redelivery). */
  const allInStore = (sub: SubscriptionLog, n: number, what: string) =>
    waitFor(
      `${what}: every alert stored (${sub.inStore.size}/${n}; ${JSON.stringify(sub.outcomes)})`,
      () => (sub.inStore.size >= n ? true : undefined),
      240_000,
    );

  /**
   * Publishes the packets, injects the fault once a quarter of them is
   * stored, heals it after `holdMs`, waits until all are stored, checks the
   * documents and starts the unacked check. Returns for scenario-specific
   * checks; the figure is recorded by the last test.
   */
  async function runFault(
    name: string,
    packets: Packet[],
    fault: Fault,
    details: (run: FaultRun) => Record<string, number | string> = () => ({}),
  ): Promise<FaultRun> {
    const scenario = await newScenario(name);
    const sub = log.of(name);
    const expected = new Set(packets.map(p => p.sourceId));
    assert.equal(expected.size, packets.length, 'distinct source ids');
    await scenario.publish(packets.map(p => p.bytes));
    await waitFor(
      `${name}: a quarter of the alerts stored before the fault`,
      () => (sub.inStore.size >= packets.length / 4 ? true : undefined),
      120_000,
      50,
    );
    const injectAt = Date.now();
    await fault.inject();
    await sleep(fault.holdMs);
    const healAt = Date.now();
    const inStoreAtHeal = sub.inStore.size;
    await fault.heal();
    await allInStore(sub, packets.length, name);
    const retriesDuringFault = sub.retryTimes.filter(
      t => t >= injectAt && t <= healAt,
    ).length;
    const run: FaultRun = {
      scenario,
      sub,
      injectAt,
      healAt,
      retriesDuringFault,
      inStoreAtHeal,
    };

    const check = await scenario.verify(expected);
    const d = deliveryFigures(sub);
    const firstAfterHeal = sub.handledTimes.find(t => t >= healAt);
    const figure: StressFigure = {
      suite: 'fault',
      name: fault.what,
      tried: packets.length,
      lost: check.lost.length,
      duplicated: d.storedTwice + check.unexpected.length,
      quarantinedValid: check.quarantined.length,
      details: {
        'stored at heal': `${inStoreAtHeal}/${packets.length}`,
        '5xx': d.answers5xx,
        redeliveries: d.redeliveries,
        'recovery s (first / last stored)': `${firstAfterHeal === undefined ? '-' : round((firstAfterHeal - healAt) / 1000, 1)} / ${round((sub.lastStoredAt - healAt) / 1000, 1)}`,
        'max latency ms': d.maxLatencyMs,
        ...details(run),
      },
    };
    pending.push({figure, unacked: scenario.unacked()});
    process.stderr.write(`${name}: ${JSON.stringify(figure)}\n`);

    assert.ok(
      inStoreAtHeal < packets.length,
      `the fault hit mid-run (${inStoreAtHeal}/${packets.length} stored at heal)`,
    );
    assert.deepEqual(check.lost, [], 'every alert has its document');
    assert.deepEqual(check.unexpected, []);
    assert.equal(check.documents, packets.length);
    assert.equal(d.storedTwice, 0, 'no alert reported stored twice');
    assert.deepEqual(check.quarantined, [], 'nothing valid quarantined');
    assert.ok(
      d.maxLatencyMs < ACK_DEADLINE_S * 1000,
      `every answer within the ack deadline (max ${d.maxLatencyMs} ms)`,
    );
    return run;
  }

  it(`Firestore refusing connections for ${OUTAGE_MS / 1000} s: 5xx, then every alert stored once`, async () => {
    const run = await runFault('ztf-refuse', ztfPackets(10_000, M), {
      what: `Firestore refusing connections ${OUTAGE_MS / 1000} s`,
      inject: () => proxy.setMode('refuse'),
      holdMs: OUTAGE_MS,
      heal: () => proxy.setMode('up'),
    });
    assert.ok(run.retriesDuringFault > 0, 'the function answered 5xx');
    assert.deepEqual(Object.keys(run.sub.retryReasons), ['store-unavailable']);
  });

  it(`Firestore blackholed (hung peer) for ${OUTAGE_MS / 1000} s: 5xx within STORE_TIMEOUT_MS, no hang`, async () => {
    const run = await runFault('ztf-blackhole', ztfPackets(20_000, M), {
      what: `Firestore blackholed (hung peer) ${OUTAGE_MS / 1000} s`,
      inject: () => proxy.setMode('blackhole'),
      holdMs: OUTAGE_MS,
      heal: () => proxy.setMode('up'),
    });
    assert.ok(run.retriesDuringFault > 0, 'the function answered 5xx');
    assert.deepEqual(Object.keys(run.sub.retryReasons), ['store-unavailable']);
    // Each failed write gave up at the store timeout, not at the client's
    // own retry horizon (minutes): bounded, with slack for a loaded machine
    // (this is a hang check, not a speed measurement).
    const slow = log.lines.filter(
      l =>
        l.subscription === run.scenario.name &&
        l.outcome === 'retry' &&
        Number(l.latencyMs) > 2 * STORE_TIMEOUT_MS,
    );
    assert.deepEqual(slow, [], 'no 5xx later than twice STORE_TIMEOUT_MS');
  });

  it('the function SIGKILLed mid-run and restarted on the same port: every alert stored once', async () => {
    let oldPid = 0;
    const run = await runFault('ztf-sigkill', ztfPackets(30_000, M), {
      what: `function SIGKILLed, restarted on its port after ${KILLED_MS / 1000} s`,
      inject: async () => {
        oldPid = fn.pid;
        await fn.kill();
      },
      holdMs: KILLED_MS,
      heal: async () => {
        fn = await startFunctionServer({...fnOptions, port: fn.port});
      },
    });
    assert.notEqual(fn.pid, oldPid, 'a new process');
    assert.ok(
      run.sub.handledTimes.some(t => t > run.healAt),
      'the restarted process handled the rest',
    );
  });

  it('the schema registry down mid-run: 5xx (not quarantine), then every alert stored once', async () => {
    // Each alert carries a schema id this instance has not seen (ids
    // FIRST_SCHEMA_ID…), so every message needs the registry: the worst case
    // of a cold instance meeting new schema versions. Schemas are cached
    // once fetched; a failed fetch is not.
    const rng = new Random(7);
    const packets = Array.from({length: M}, (_, i) => {
      const p = generateLsstPacket({
        seed: 40_000 + i,
        schemaId: FIRST_SCHEMA_ID + i,
        cutoutBytes: rng.int(18_000, 24_000),
        prvDiaSources: 10,
      });
      return {bytes: p.bytes, sourceId: p.expected[0].sourceId};
    });
    const run = await runFault('lsst-registry', packets, {
      what: `schema registry down ${REGISTRY_OUTAGE_MS / 1000} s (LSST, Confluent wire)`,
      inject: () => registry.close(),
      holdMs: REGISTRY_OUTAGE_MS,
      heal: async () => {
        registry = await startSchemaRegistry(schemas, {port: registryPort});
      },
    });
    assert.ok(run.retriesDuringFault > 0, 'the function answered 5xx');
    assert.deepEqual(Object.keys(run.sub.retryReasons), [
      'registry-unavailable',
    ]);
  });

  it(`a redelivery storm (each message ${STORM_COPIES}x, interleaved, and a seek back): every alert stored once, the rest answered duplicate`, async () => {
    const name = 'ztf-storm';
    const scenario = await newScenario(name, true);
    const sub = log.of(name);
    const packets = ztfPackets(50_000, STORM_ALERTS);
    const expected = new Set(packets.map(p => p.sourceId));
    // Every copy of every packet, in a shuffled order: copies of the same
    // alert arrive close together and far apart, and may be in flight at once.
    const rng = new Random(11);
    const copies = packets.flatMap(p => Array(STORM_COPIES).fill(p.bytes));
    for (let i = copies.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [copies[i], copies[j]] = [copies[j], copies[i]];
    }
    const beforeRun = new Date(Date.now() - 1000);
    const messageIds = await scenario.publish(copies);
    const since = (t: number) =>
      new Set(
        log.lines
          .filter(
            l =>
              l.subscription === name &&
              l.at >= t &&
              l.outcome !== 'retry' &&
              typeof l.messageId === 'string',
          )
          .map(l => l.messageId as string),
      );
    // Mid-run, seek back to before the first publish: every message,
    // acked or not, is delivered again.
    await waitFor(
      'half of the copies answered',
      () => (sub.handledTimes.length >= copies.length / 2 ? true : undefined),
      120_000,
      50,
    );
    const seekAt = Date.now();
    const answeredBeforeSeek = since(0).size;
    await scenario.subscription.seek(beforeRun);
    await waitFor(
      'every message answered again after the seek',
      () =>
        since(seekAt).size >= messageIds.length &&
        sub.inStore.size >= expected.size
          ? true
          : undefined,
      240_000,
    );
    // Messages still in flight: let them land before counting.
    await sleep(1000);
    const check = await scenario.verify(expected);
    const d = deliveryFigures(sub);
    const figure: StressFigure = {
      suite: 'fault',
      name: `redelivery storm: ${STORM_ALERTS} alerts × ${STORM_COPIES} copies, seek back mid-run`,
      tried: STORM_ALERTS,
      lost: check.lost.length,
      duplicated: d.storedTwice + check.unexpected.length,
      quarantinedValid: check.quarantined.length,
      details: {
        messages: messageIds.length,
        'replayed by the seek': answeredBeforeSeek,
        deliveries: d.deliveries,
        'duplicate answers': d.duplicateAnswers,
        redeliveries: d.redeliveries,
        '5xx': d.answers5xx,
      },
    };
    pending.push({figure, unacked: scenario.unacked()});
    process.stderr.write(`${name}: ${JSON.stringify(figure)}\n`);

    assert.deepEqual(check.lost, []);
    assert.deepEqual(check.unexpected, []);
    assert.equal(check.documents, STORM_ALERTS);
    assert.equal(sub.outcomes.stored, STORM_ALERTS, 'one stored per alert');
    assert.equal(d.storedTwice, 0);
    assert.deepEqual(check.quarantined, []);
    // Every other answer was a duplicate: the copies, and all replays.
    assert.equal(d.duplicateAnswers, d.deliveries - STORM_ALERTS);
    // The seek replayed what had been answered before it.
    assert.ok(
      d.deliveries >= messageIds.length + answeredBeforeSeek,
      `${d.deliveries} deliveries: every message once, plus ${answeredBeforeSeek} replayed by the seek`,
    );
  });

  it('leaves nothing unacknowledged in any scenario (and the check finds what a control left)', async () => {
    // The control: of four messages, the endpoint answers two with 204, one
    // with 500 (every time) and never answers one.
    const control = await controlUnacked();
    assert.deepEqual(control.found.sort(), control.expected.sort());
    for (const {figure, unacked} of pending) {
      const left = await unacked;
      figure.details = {...figure.details, unacked: left.length};
      recordFigure(figure);
      assert.deepEqual(
        left.map(m => m.messageId),
        [],
        `${figure.name}: no message left unacknowledged`,
      );
    }
    assert.equal(pending.length, 5, 'every scenario ran');
  });

  /** A push subscription to an endpoint that acks some messages, fails one and hangs on one. */
  async function controlUnacked() {
    const open = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        const data = Buffer.from(body.message.data, 'base64').toString();
        if (data === 'hang') open.add(res);
        else res.writeHead(data === 'fail' ? 500 : 204).end();
      });
    });
    await new Promise<void>(r => server.listen(0, LOOPBACK, r));
    const url = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}/`;
    const topicName = 'ztf-control';
    const pitt = emu.pubsub(PITT_PROJECT);
    await pitt.createTopic(topicName);
    const [subscription] = await emu
      .pubsub(project)
      .createSubscription(
        `projects/${PITT_PROJECT}/topics/${topicName}`,
        topicName,
        {
          pushConfig: {pushEndpoint: url},
          ackDeadlineSeconds: ACK_DEADLINE_S,
        },
      );
    const ids: Record<string, string> = {};
    for (const d of ['ok-1', 'hang', 'fail', 'ok-2']) {
      ids[d] = await pitt
        .topic(topicName)
        .publishMessage({data: Buffer.from(d)});
    }
    await waitFor('the control pushes', () =>
      open.size > 0 ? true : undefined,
    );
    await sleep(1500);
    const found = (await unackedAfterPush(subscription, ACK_DEADLINE_S)).map(
      m => m.messageId,
    );
    server.closeAllConnections();
    server.close();
    return {found, expected: [ids.hang, ids.fail]};
  }
});
