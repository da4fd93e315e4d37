/**
 * Subscription filters against the Pub/Sub emulator: which part of a
 * compiled expression the emulator honours. The emulator is started (in its
 * own process group) and stopped by src/local/emulators.ts through the
 * node:test fixture.
 *
 * Finding (cloud-pubsub-emulator 0.8.20, gcloud 528): the emulator stores a
 * subscription's `filter` and returns it in the metadata, but does not apply
 * it: every message is delivered, on streaming and on synchronous pull. It
 * does not check the syntax or the 256-byte limit either. So, locally, the
 * in-process evaluator alone decides, and this suite checks that the
 * delivered messages plus the in-process decision give the expected set.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {Subscription, Topic} from '@google-cloud/pubsub';

import type {Alert} from '../../src/alert/model';
import {
  compileFilter,
  toSubscriptionFilter,
  validateFilter,
} from '../../src/filter';
import {useEmulators} from '../helpers/emulator-fixture';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Messages published for every case: index = payload. */
const MESSAGES: Array<Record<string, string>> = [
  {fid: '1', is_pure: '1', objectId: 'ZTF18aaaaaaa', candid: '100'},
  {fid: '2', is_pure: '0', objectId: 'ZTF18bbbbbbb', candid: '200'},
  {fid: '3', objectId: 'ZTF18ccccccc', candid: '300'},
  {'kafka.topic': 'ztf_x', fid: '1', objectId: 'ZTF18"q\\', candid: '400'},
  {},
];

/** [filter (attributes only: the whole filter is server-side), expected payloads] */
const CASES: Array<[unknown, number[]]> = [
  [{field: 'attributes.fid', op: 'eq', value: '1'}, [0, 3]],
  [{field: 'attributes.fid', op: 'in', value: ['1', '2']}, [0, 1, 3]],
  [{field: 'attributes.is_pure', op: 'ne', value: '1'}, [1]],
  [{field: 'attributes.is_pure', op: 'exists'}, [0, 1]],
  [{field: 'attributes.is_pure', op: 'isNull'}, [2, 3, 4]],
  [{not: {field: 'attributes.fid', op: 'eq', value: '1'}}, [1, 2, 4]],
  [
    {
      all: [
        {field: 'attributes.is_pure', op: 'eq', value: '1'},
        {field: 'attributes.fid', op: 'in', value: ['1', '2']},
      ],
    },
    [0],
  ],
  [{field: 'attributes.kafka.topic', op: 'eq', value: 'ztf_x'}, [3]],
  [{field: 'attributes.objectId', op: 'eq', value: 'ZTF18"q\\'}, [3]],
];

/** Attribute-only filters do not read the alert: any alert will do. */
const ALERT: Alert = {
  survey: 'ztf',
  format: 'avro-ocf',
  schemaVersion: '4.02',
  objectId: 'x',
  sourceId: '1',
  ra: null,
  dec: null,
  jd: null,
  mjd: null,
  mag: null,
  magErr: null,
  band: null,
  nPrevious: null,
  classtar: null,
  cutouts: {},
  record: {},
};

async function receive(
  sub: Subscription,
  want: number,
): Promise<Array<{n: number; attributes: Record<string, string>}>> {
  const got: Array<{n: number; attributes: Record<string, string>}> = [];
  sub.on('message', m => {
    got.push({n: Number(m.data.toString()), attributes: m.attributes});
    m.ack();
  });
  const deadline = Date.now() + 15_000;
  while (got.length < want && Date.now() < deadline) await sleep(100);
  await sleep(1000); // anything beyond `want` that is still coming
  await sub.close();
  return got.sort((a, b) => a.n - b.n);
}

describe('filter: subscription filters on the Pub/Sub emulator', () => {
  const emu = useEmulators({pubsub: true});
  let topic: Topic;
  const newTopic = async () => {
    [topic] = await emu.pubsub().createTopic(emu.uniqueId('filter-topic'));
    return topic;
  };

  it('stores the compiled expression, delivers every message anyway, and the in-process decision is exact', async () => {
    await newTopic();
    const subs: Array<[Subscription, string, number[], unknown]> = [];
    for (let i = 0; i < CASES.length; i++) {
      const [json, expected] = CASES[i];
      const plan = toSubscriptionFilter(validateFilter(json));
      assert.ok(plan.expression, `case ${i} compiles server-side`);
      assert.equal(plan.inProcess, null);
      const [sub] = await topic.createSubscription(`filter-sub-${i}`, {
        filter: plan.expression,
      });
      const [meta] = await sub.getMetadata();
      assert.equal(meta.filter, plan.expression, 'the filter is stored');
      subs.push([sub, plan.expression, expected, json]);
    }
    for (let i = 0; i < MESSAGES.length; i++) {
      await topic.publishMessage({
        data: Buffer.from(String(i)),
        attributes: MESSAGES[i],
      });
    }
    for (const [sub, expression, expected, json] of subs) {
      const got = await receive(sub, MESSAGES.length);
      const delivered = got.map(g => g.n);
      // Never loses a matching message (true whether or not it filters).
      for (const n of expected) {
        assert.ok(delivered.includes(n), `${expression}: ${n} delivered`);
      }
      // What the emulator does not honour: the filter itself.
      assert.deepEqual(
        delivered,
        [0, 1, 2, 3, 4],
        `${expression}: emulator 0.8.20 delivers every message; if this ` +
          'fails, the emulator now applies filters: update README.md',
      );
      // The in-process evaluator decides exactly.
      const f = compileFilter(validateFilter(json));
      assert.deepEqual(
        got.filter(g => f.matches(ALERT, g.attributes)).map(g => g.n),
        expected,
        expression,
      );
    }
  });

  it('accepts an expression above the 256-byte limit and bad syntax (no validation)', async () => {
    await newTopic();
    const long = `attributes.k = "${'x'.repeat(300)}"`;
    const [a] = await topic.createSubscription('filter-long', {filter: long});
    assert.equal((await a.getMetadata())[0].filter, long);
    const [b] = await topic.createSubscription('filter-bad', {
      filter: 'attributes.fid > "1"',
    });
    assert.equal((await b.getMetadata())[0].filter, 'attributes.fid > "1"');
  });
});
