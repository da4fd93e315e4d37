/**
 * Which decode the pipeline runs first (./pass-rate.ts): a filter that may
 * decide on a summary does while it rejects most alerts, and stops paying
 * the extra summary decode once most of its alerts pass; the decisions are
 * the same either way. Real decoder, generated ZTF packets.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {createDecoder} from '../../../src/alert';
import {compileFilter, validateFilter} from '../../../src/filter';
import type {PushedMessage} from '../../../src/ingest/envelope';
import {createPassRates} from '../../../src/ingest/pass-rate';
import {createIngestPipeline, FilterPort} from '../../../src/ingest/pipeline';
import {generateZtfPacket} from '../../../src/local/generate/ztf-packet';
import {createLogger} from '../../../src/log';

const PACKETS = Array.from(
  {length: 12},
  (_, i) => generateZtfPacket({seed: i + 1, prvCandidates: 3}).bytes,
);

function setup(filterOf: () => FilterPort) {
  const real = createDecoder();
  const calls = {full: 0, summary: 0};
  const stored: string[] = [];
  const pipeline = createIngestPipeline({
    decoder: {
      decode: bytes => {
        calls.full++;
        return real.decode(bytes);
      },
      decodeSummary: bytes => {
        calls.summary++;
        return real.decodeSummary(bytes);
      },
    },
    filters: {filterFor: filterOf},
    alerts: {
      store: async a => {
        stored.push(a.sourceId);
        return 'stored';
      },
    },
    quarantine: {quarantine: async () => undefined},
    log: createLogger({minSeverity: 'ERROR', sink: () => undefined}),
  });
  let n = 0;
  const push = (count: number) =>
    Promise.all(
      Array.from({length: count}, () => {
        const i = n++;
        const msg: PushedMessage = {
          subscription: 'sub',
          messageId: String(i),
          publishTime: undefined,
          attributes: {},
          data: PACKETS[i % PACKETS.length],
          deliveryAttempt: undefined,
        };
        return pipeline.processMessage(msg);
      }),
    );
  return {calls, stored, push};
}

const compiled = (f: unknown) => compileFilter(validateFilter(f));
const PASS_ALL = compiled({field: 'candidate.jd', op: 'gt', value: 2400000});
const REJECT_ALL = compiled({field: 'candidate.magpsf', op: 'lt', value: -100});

describe('decode choice', () => {
  it('a filter that rejects every alert decides on summaries only', async () => {
    assert.equal(REJECT_ALL.readsFullRecord, false);
    const {calls, stored, push} = setup(() => REJECT_ALL);
    const results = await push(200);
    assert.deepEqual(calls, {full: 0, summary: 200});
    assert.equal(stored.length, 0);
    assert.ok(results.every(r => r.outcome === 'filtered'));
  });

  it('a filter that passes every alert stops paying for the summary after a few dozen', async () => {
    const {calls, stored, push} = setup(() => PASS_ALL);
    for (let k = 0; k < 20; k++) await push(10);
    assert.equal(calls.full, 200);
    assert.ok(calls.summary > 0, 'it starts by deciding on summaries');
    assert.ok(calls.summary <= 40, `summaries: ${calls.summary}`);
    assert.equal(stored.length, 200);
    const before = calls.summary;
    await push(100);
    assert.equal(calls.summary, before, 'no summary decode once switched');
  });

  it('switches back to summaries when the filter starts rejecting', async () => {
    let pass = true;
    const toggled: FilterPort = {
      ...PASS_ALL,
      matches: (alert, attributes) =>
        pass && PASS_ALL.matches(alert, attributes),
    };
    const {calls, stored, push} = setup(() => toggled);
    for (let k = 0; k < 10; k++) await push(10);
    const summaries = calls.summary;
    await push(20);
    assert.equal(calls.summary, summaries, 'deciding on full decodes');
    pass = false;
    for (let k = 0; k < 10; k++) await push(10);
    assert.ok(
      calls.summary - summaries >= 60,
      `summaries after it turned: ${calls.summary - summaries}`,
    );
    assert.equal(stored.length, 120);
  });

  it('the decisions are the same as on full decodes, whichever decode ran', async () => {
    const half = compiled({field: 'candidate.fid', op: 'eq', value: 1});
    const early = setup(() => half);
    await early.push(120);
    const full = setup(() => ({...half, readsFullRecord: true}));
    await full.push(120);
    assert.ok(early.calls.summary > 0);
    assert.equal(full.calls.summary, 0);
    assert.deepEqual(early.stored.sort(), full.stored.sort());
    assert.ok(full.stored.length > 0 && full.stored.length < 120);
  });
});

describe('pass rates', () => {
  it('estimates the passing fraction and says to decide first under one half', () => {
    const rates = createPassRates<object>();
    const f = {};
    assert.equal(rates.decideFirst(f), true);
    rates.record(f, Array<boolean>(200).fill(true));
    assert.ok(rates.estimate(f) > 0.99);
    assert.equal(rates.decideFirst(f), false);
    rates.record(f, Array<boolean>(40).fill(false));
    assert.ok(rates.estimate(f) < 0.5);
    assert.equal(rates.decideFirst(f), true);
    const g = {};
    for (let i = 0; i < 400; i++) rates.record(g, [i % 10 === 0]);
    assert.ok(Math.abs(rates.estimate(g) - 0.1) < 0.05, `${rates.estimate(g)}`);
    assert.equal(rates.decideFirst(g), true);
  });
});
