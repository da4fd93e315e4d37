/**
 * ConsumerStream.streamAlerts rules (facts.md §2), table-driven, against an
 * in-memory message source: what is acked, nacked, counted and collected,
 * the bounds, the idle timeout and the graceful stop. The same loop against
 * the Pub/Sub emulator is in test/system/consumer-emulator.test.ts.
 */

import {strict as assert} from 'node:assert';
import {EventEmitter} from 'node:events';
import {describe, it} from 'node:test';

import type {PubSub} from '@google-cloud/pubsub';

import type {Alert} from '../../../src/alert/model';
import {
  ConsumerStream,
  interpretCallbackResult,
  resolveFlowConfigs,
  SourceMessage,
  StreamAlertsOptions,
} from '../../../src/consumer';
import type {HarnessPipeline} from '../../../src/consumer';
import {AlertError} from '../../../src/errors';
import type {MessageResult} from '../../../src/ingest/pipeline';
import {generateZtfPacket} from '../../helpers';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

class FakeSource extends EventEmitter {
  acked: string[] = [];
  nacked: string[] = [];
  closed = false;
  closeCalled = false;
  /** Nacked while the stream was still open (the server redelivers them at once). */
  nackedBeforeClose: string[] = [];
  /** Messages emitted after close() are a bug in the harness. */
  emitAfterClose = 0;
  message(
    id: string,
    data: Buffer<ArrayBufferLike> = Buffer.from(id),
    attributes = {},
  ): SourceMessage {
    const m: SourceMessage = {
      id,
      data,
      attributes,
      publishTime: new Date(0),
      received: Date.now(),
      deliveryAttempt: 1,
      ack: () => this.acked.push(id),
      nack: () => {
        this.nacked.push(id);
        if (!this.closeCalled) this.nackedBeforeClose.push(id);
      },
    };
    return m;
  }
  push(...ids: string[]) {
    for (const id of ids) {
      if (this.closed) this.emitAfterClose++;
      this.emit('message', this.message(id));
    }
  }
  /** Like the client library, close() takes a while (flushing acks). */
  closeDelayMs = 0;
  async close() {
    this.closeCalled = true;
    await sleep(this.closeDelayMs);
    this.closed = true;
  }
  settled() {
    return [...this.acked, ...this.nacked].sort();
  }
}

const noPubSub = {} as PubSub;

function streamOn(source: FakeSource, pipeline?: HarnessPipeline) {
  return new ConsumerStream({
    pubsub: noPubSub,
    source: () => source,
    pipeline,
  });
}

type Rule = [
  name: string,
  callback: (msg: unknown) => unknown,
  expect: {
    acked: number;
    nacked: number;
    counted: number;
    errors: number;
    results: unknown[];
  },
];

const RULES: Rule[] = [
  [
    'ack without a result key: counted, the original data collected',
    () => ({ack: true}),
    {acked: 2, nacked: 0, counted: 2, errors: 0, results: ['a', 'b']},
  ],
  [
    'ack with result undefined: same as absent',
    () => ({ack: true, result: undefined}),
    {acked: 2, nacked: 0, counted: 2, errors: 0, results: ['a', 'b']},
  ],
  [
    'ack with result null: acked, neither counted nor collected',
    () => ({ack: true, result: null}),
    {acked: 2, nacked: 0, counted: 0, errors: 0, results: []},
  ],
  [
    'ack with a result: counted, the result collected',
    m => ({ack: true, result: `r-${(m as Buffer).toString()}`}),
    {acked: 2, nacked: 0, counted: 2, errors: 0, results: ['r-a', 'r-b']},
  ],
  [
    'ack false: nacked (redelivered later), not counted even with a result',
    () => ({ack: false, result: 'x'}),
    {acked: 0, nacked: 2, counted: 0, errors: 0, results: []},
  ],
  [
    'a callback that throws: nacked, counted as an error',
    () => {
      throw new Error('boom');
    },
    {acked: 0, nacked: 2, counted: 0, errors: 2, results: []},
  ],
  [
    'a callback that rejects: nacked, counted as an error',
    async () => {
      throw new Error('boom');
    },
    {acked: 0, nacked: 2, counted: 0, errors: 2, results: []},
  ],
  [
    'a malformed return value: nacked, counted as an error',
    () => ({result: 1}),
    {acked: 0, nacked: 2, counted: 0, errors: 2, results: []},
  ],
];

describe('streamAlerts: userCallback rules', () => {
  for (const [name, callback, expect] of RULES) {
    it(name, async () => {
      const source = new FakeSource();
      const run = streamOn(source).streamAlerts({
        sendData: 'alert_bytes',
        userCallback: callback as StreamAlertsOptions['userCallback'],
        returnList: true,
        flowConfigs: {maxResults: null, timeout: 0.15},
      });
      source.push('a', 'b');
      const {results, summary} = await run;
      const toText = (v: unknown) => (Buffer.isBuffer(v) ? v.toString() : v);
      assert.deepEqual(results.map(toText), expect.results);
      assert.equal(summary.acked, expect.acked);
      assert.equal(summary.nacked, expect.nacked);
      assert.equal(summary.counted, expect.counted);
      assert.equal(summary.errors, expect.errors);
      assert.equal(summary.received, 2);
      assert.equal(summary.stopReason, 'timeout');
      assert.deepEqual(source.settled(), ['a', 'b'], 'every message settled');
      assert.equal(source.closed, true);
    });
  }

  it('interpretCallbackResult applies the same table (pure)', () => {
    assert.deepEqual(interpretCallbackResult({ack: true}, 'o'), {
      ack: true,
      counted: true,
      value: 'o',
    });
    assert.deepEqual(interpretCallbackResult({ack: true, result: null}, 'o'), {
      ack: true,
      counted: false,
    });
    assert.deepEqual(interpretCallbackResult({ack: false}, 'o'), {ack: false});
    assert.throws(
      () => interpretCallbackResult(undefined, 'o'),
      (e: AlertError) => e.code === 'callback-failed',
    );
  });

  it('returnList false collects nothing but still counts', async () => {
    const source = new FakeSource();
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: () => ({ack: true}),
      flowConfigs: {maxResults: 2, timeout: 5},
    });
    source.push('a', 'b');
    const {results, summary} = await run;
    assert.deepEqual(results, []);
    assert.equal(summary.counted, 2);
    assert.equal(summary.stopReason, 'max-results');
  });

  it('passes userKwargs as the second argument', async () => {
    const source = new FakeSource();
    const seen: unknown[] = [];
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: (_m, kw) => {
        seen.push(kw);
        return {ack: true};
      },
      userKwargs: {threshold: 0.5},
      flowConfigs: {maxResults: 1},
    });
    source.push('a');
    await run;
    assert.deepEqual(seen, [{threshold: 0.5}]);
  });
});

describe('streamAlerts: sendData and includeMetadata', () => {
  const packet = generateZtfPacket({seed: 7});
  const cases: [
    string,
    Partial<StreamAlertsOptions>,
    (msg: unknown) => void,
  ][] = [
    [
      'alert_dict: the decoded Alert with exact ids',
      {sendData: 'alert_dict'},
      msg => {
        const a = msg as Alert;
        assert.equal(a.objectId, packet.expected[0].objectId);
        assert.equal(a.sourceId, packet.expected[0].sourceId);
      },
    ],
    [
      'alert_bytes: the payload bytes',
      {sendData: 'alert_bytes'},
      msg => assert.ok(Buffer.isBuffer(msg) && msg.equals(packet.bytes)),
    ],
    [
      'full_msg: the message itself',
      {sendData: 'full_msg'},
      msg => assert.equal((msg as SourceMessage).id, 'm1'),
    ],
    [
      'includeMetadata wraps as {alert, metadata} with the Pub/Sub fields',
      {sendData: 'alert_dict', includeMetadata: true},
      msg => {
        const w = msg as {alert: Alert; metadata: Record<string, unknown>};
        assert.equal(w.alert.sourceId, packet.expected[0].sourceId);
        assert.equal(w.metadata.message_id, 'm1');
        assert.equal(w.metadata.publish_time, new Date(0).toISOString());
        assert.equal(w.metadata['kafka.timestamp'], '1700000000000');
        assert.deepEqual(w.metadata.attributes, {
          objectId: packet.expected[0].objectId,
          'kafka.timestamp': '1700000000000',
        });
      },
    ],
  ];
  for (const [name, options, check] of cases) {
    it(name, async () => {
      const source = new FakeSource();
      const got: unknown[] = [];
      const run = streamOn(source).streamAlerts({
        ...options,
        userCallback: m => {
          got.push(m);
          return {ack: true, result: null};
        },
        flowConfigs: {maxResults: null, timeout: 0.1},
      });
      source.emit(
        'message',
        source.message('m1', packet.bytes, {
          objectId: packet.expected[0].objectId,
          'kafka.timestamp': '1700000000000',
        }),
      );
      await run;
      assert.equal(got.length, 1);
      check(got[0]);
    });
  }

  it('alert_dict: an undecodable message is acked and quarantined, never redelivered forever', async () => {
    const source = new FakeSource();
    const quarantined: string[] = [];
    const stream = new ConsumerStream({
      pubsub: noPubSub,
      source: () => source,
      quarantine: {
        quarantine: async r => quarantined.push(`${r.messageId}:${r.reason}`),
      },
    });
    const run = stream.streamAlerts({
      userCallback: () => ({ack: true}),
      flowConfigs: {maxResults: null, timeout: 0.1},
    });
    source.emit('message', source.message('bad', Buffer.from('not an alert')));
    const {summary} = await run;
    assert.deepEqual(source.acked, ['bad']);
    assert.equal(summary.quarantined, 1);
    assert.equal(summary.counted, 0);
    assert.deepEqual(quarantined, ['bad:unknown-format']);
  });
});

describe('streamAlerts: bounds and stopping', () => {
  it('maxResults: handles no more than it may count; the rest are nacked once the stream is closed, none left unsettled', async () => {
    const source = new FakeSource();
    let concurrent = 0;
    let maxConcurrent = 0;
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: async () => {
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await sleep(20);
        concurrent--;
        return {ack: true};
      },
      returnList: true,
      flowConfigs: {maxResults: 3, timeout: 5},
    });
    source.push('m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6');
    const {results, summary} = await run;
    assert.equal(results.length, 3);
    assert.deepEqual(source.acked, ['m0', 'm1', 'm2']);
    assert.deepEqual(source.nacked.sort(), ['m3', 'm4', 'm5', 'm6']);
    // Nacked on an open stream, they would be redelivered at once and could
    // be on the wire when it is torn down: leased, not nacked.
    assert.deepEqual(source.nackedBeforeClose, []);
    assert.ok(maxConcurrent <= 3);
    assert.equal(summary.stopReason, 'max-results');
    assert.equal(summary.received, 7);
  });

  it('maxResults: results that do not count let later messages in', async () => {
    const source = new FakeSource();
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      // Odd messages are "filtered" (result null).
      userCallback: m => ({
        ack: true,
        result: Number((m as Buffer).toString().slice(1)) % 2 ? null : 'kept',
      }),
      returnList: true,
      flowConfigs: {maxResults: 2, timeout: 5},
    });
    source.push('m0', 'm1', 'm2', 'm3', 'm4');
    const {results, summary} = await run;
    assert.deepEqual(results, ['kept', 'kept']);
    assert.deepEqual(source.acked, ['m0', 'm1', 'm2']);
    assert.deepEqual(source.nacked.sort(), ['m3', 'm4']);
    assert.equal(summary.counted, 2);
  });

  it('a message arriving after the bound (while closing) is nacked, after the stream is closed', async () => {
    const source = new FakeSource();
    source.closeDelayMs = 50;
    let release: () => void = () => {};
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: async () => {
        await new Promise<void>(r => (release = r));
        return {ack: true};
      },
      flowConfigs: {maxResults: 1, timeout: 5},
    });
    source.push('m0');
    release();
    await sleep(5);
    source.push('late');
    const {summary} = await run;
    assert.deepEqual(source.acked, ['m0']);
    assert.deepEqual(source.nacked, ['late']);
    assert.deepEqual(source.nackedBeforeClose, []);
    assert.equal(source.emitAfterClose, 0);
    assert.equal(summary.received, 2);
  });

  it('the idle timeout runs from the last message received', async () => {
    const source = new FakeSource();
    const t0 = Date.now();
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: () => ({ack: true}),
      flowConfigs: {maxResults: null, timeout: 0.2},
    });
    await sleep(120);
    source.push('a');
    await sleep(120);
    source.push('b');
    const {summary} = await run;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 430, `stopped after ${elapsed} ms (>= 240 + 200)`);
    assert.ok(elapsed < 1500, `stopped after ${elapsed} ms`);
    assert.equal(summary.acked, 2);
    assert.equal(summary.stopReason, 'timeout');
  });

  it('abort while callbacks run: they complete and are acked before the source closes', async () => {
    const source = new FakeSource();
    const ac = new AbortController();
    let closedDuringCallback = false;
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: async () => {
        await sleep(60);
        closedDuringCallback ||= source.closed;
        return {ack: true};
      },
      signal: ac.signal,
      flowConfigs: {maxResults: 2, timeout: null},
    });
    source.push('a', 'b', 'c');
    await sleep(10);
    ac.abort();
    source.push('d');
    const {summary} = await run;
    assert.equal(summary.stopReason, 'aborted');
    assert.deepEqual(source.acked, ['a', 'b']);
    assert.deepEqual(source.nacked.sort(), ['c', 'd']);
    assert.equal(closedDuringCallback, false);
    assert.equal(source.closed, true);
  });

  it('a stream error stops the run and rejects with the summary', async () => {
    const source = new FakeSource();
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: () => ({ack: true}),
      flowConfigs: {maxResults: 5},
    });
    source.push('a');
    await sleep(5);
    source.emit('error', new Error('stream broke'));
    await assert.rejects(run, (e: AlertError) => {
      assert.equal(e.code, 'pull-failed');
      assert.match(e.message, /stream broke/);
      const s = e.details.summary as {acked: number; stopReason: string};
      assert.equal(s.acked, 1);
      assert.equal(s.stopReason, 'error');
      return true;
    });
    assert.equal(source.closed, true);
  });

  it('the summary carries latency percentiles and the elapsed time', async () => {
    const source = new FakeSource();
    const run = streamOn(source).streamAlerts({
      sendData: 'alert_bytes',
      userCallback: async () => {
        await sleep(10);
        return {ack: true};
      },
      flowConfigs: {maxResults: 4},
    });
    source.push('a', 'b', 'c', 'd');
    const {summary} = await run;
    assert.ok(summary.latencyP50Ms !== null && summary.latencyP50Ms >= 9);
    assert.ok(summary.latencyP99Ms! >= summary.latencyP50Ms!);
    assert.ok(summary.elapsedMs >= 10);
  });
});

describe('streamAlerts: the default pipeline callback', () => {
  it('stored and duplicate alerts count; filtered and quarantined are acked without counting; transient errors nack', async () => {
    const outcomes: Record<string, MessageResult | Error> = {
      s: {
        outcome: 'stored',
        alerts: [{objectId: 'o', sourceId: '1', outcome: 'stored'}],
      },
      d: {
        outcome: 'duplicate',
        alerts: [{objectId: 'o', sourceId: '2', outcome: 'duplicate'}],
      },
      f: {
        outcome: 'filtered',
        alerts: [{objectId: 'o', sourceId: '3', outcome: 'filtered'}],
      },
      q: {outcome: 'quarantined', alerts: [], reason: 'bad-avro'},
      t: new Error('unavailable'),
    };
    let flushed = 0;
    const pipeline = {
      pipeline: {
        processMessage: async (m: {data: Buffer}) => {
          const o = outcomes[m.data.toString()];
          if (o instanceof Error) throw o;
          return o;
        },
      },
      flush: async () => {
        flushed++;
      },
      batches: 0,
    } as unknown as HarnessPipeline;
    const source = new FakeSource();
    const run = streamOn(source, pipeline).streamAlerts({
      returnList: true,
      flowConfigs: {maxResults: null, timeout: 0.1},
    });
    source.push('s', 'd', 'f', 'q', 't');
    const {results, summary} = await run;
    assert.deepEqual(
      (results as {sourceId: string}[]).map(r => r.sourceId),
      ['1', '2'],
    );
    assert.deepEqual(source.acked, ['s', 'd', 'f', 'q']);
    assert.deepEqual(source.nacked, ['t']);
    assert.equal(summary.stored, 1);
    assert.equal(summary.duplicates, 1);
    assert.equal(summary.filtered, 1);
    assert.equal(summary.quarantined, 1);
    assert.equal(summary.errors, 1);
    assert.equal(summary.counted, 2);
    assert.equal(flushed, 1, 'batched writes flushed before close');
  });

  it('without a userCallback or a pipeline: refused with a clear message', async () => {
    await assert.rejects(
      streamOn(new FakeSource()).streamAlerts({}),
      /needs the default pipeline/,
    );
  });
});

describe('flowConfigs', () => {
  const ok: [
    unknown,
    {maxResults: number | null; timeoutMs: number | null; maxBacklog: number},
  ][] = [
    [undefined, {maxResults: 10, timeoutMs: 30_000, maxBacklog: 10}],
    [{}, {maxResults: 10, timeoutMs: 30_000, maxBacklog: 10}],
    [
      {maxResults: 5000},
      {maxResults: 5000, timeoutMs: 30_000, maxBacklog: 1000},
    ],
    [
      {maxResults: null},
      {maxResults: null, timeoutMs: 30_000, maxBacklog: 1000},
    ],
    [{timeout: null}, {maxResults: 10, timeoutMs: null, maxBacklog: 10}],
    [
      {timeout: 0.5, maxBacklog: 3},
      {maxResults: 10, timeoutMs: 500, maxBacklog: 3},
    ],
  ];
  for (const [input, expected] of ok) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      assert.deepEqual(resolveFlowConfigs(input as never), expected);
    });
  }
  const bad: [unknown, RegExp][] = [
    [{maxResults: null, timeout: null}, /never end/],
    [{maxResults: 0}, /maxResults must be a positive integer/],
    [{maxResults: 2.5}, /maxResults must be a positive integer/],
    [{maxResults: '10'}, /maxResults must be a positive integer/],
    [{timeout: -1}, /timeout must be a positive number/],
    [{timeout: 0}, /timeout must be a positive number/],
    [{maxBacklog: 0}, /maxBacklog must be an integer in \[1, 1000\]/],
    [{maxBacklog: 1001}, /maxBacklog/],
    [
      {max_results: 3},
      /unknown key "max_results" \(did you mean maxResults\?\)/,
    ],
  ];
  for (const [input, message] of bad) {
    it(`refuses ${JSON.stringify(input)}`, async () => {
      assert.throws(
        () => resolveFlowConfigs(input as never),
        (e: AlertError) =>
          e.code === 'bad-flow-config' && message.test(e.message),
      );
      // streamAlerts refuses it before pulling anything.
      const source = new FakeSource();
      let subscribed = false;
      const stream = new ConsumerStream({
        pubsub: noPubSub,
        source: () => {
          subscribed = true;
          return source;
        },
      });
      await assert.rejects(
        stream.streamAlerts({
          userCallback: () => ({ack: true}),
          flowConfigs: input as never,
        }),
        message,
      );
      assert.equal(subscribed, false);
    });
  }
  it('refuses an unknown sendData', async () => {
    await assert.rejects(
      streamOn(new FakeSource()).streamAlerts({
        sendData: 'dict' as never,
        userCallback: () => ({ack: true}),
      }),
      /sendData must be one of alert_dict, alert_bytes, full_msg/,
    );
  });
});
