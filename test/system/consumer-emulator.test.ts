/**
 * The harness against the real Pub/Sub and Firestore emulators (one pair for
 * the file): touch/delete, a bounded run through the ingest pipeline into
 * Firestore, and the lease check: after a bounded or interrupted run, a
 * second pull sees exactly the messages the first did not ack (they were
 * nacked, not left leased until the 60 s ack deadline).
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import type {PubSub} from '@google-cloud/pubsub';

import {loadConfig} from '../../src/config';
import {
  ConsumerStream,
  createHarnessPipeline,
  SourceMessage,
} from '../../src/consumer';
import {AlertError} from '../../src/errors';
import {createLogger} from '../../src/log';
import {generatedPackets} from '../../src/local/replay';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {useEmulators} from '../helpers/emulator-fixture';

const PG = 'pg-project';
const emu = useEmulators({pubsub: true, firestore: true});
const log = createLogger({minSeverity: 'CRITICAL'});
const config = loadConfig({});

async function topicWith(
  pubsub: PubSub,
  name: string,
  count: number,
  seed = 1,
) {
  const topic = pubsub.topic(`projects/${PG}/topics/${name}`);
  await topic.create();
  return {
    topic,
    publish: async () => {
      const ids: string[] = [];
      for (const p of generatedPackets(count, seed)) {
        ids.push(
          await topic.publishMessage({data: p.data, attributes: p.attributes}),
        );
      }
      return ids;
    },
  };
}

/** Every message the subscription delivers within an idle second, acked. */
async function drain(stream: ConsumerStream): Promise<string[]> {
  const {results} = await stream.streamAlerts<string>({
    sendData: 'full_msg',
    userCallback: m => ({ack: true, result: (m as SourceMessage).id}),
    returnList: true,
    // Idle 5 s: far below the 60 s ack deadline (anything still leased would
    // not come back in time), and slack for a slow emulator on a busy machine.
    flowConfigs: {maxResults: null, timeout: 5},
  });
  return results;
}

describe('ConsumerStream against the emulators', () => {
  it('touch creates the subscription on the Pitt-Google topic; a missing topic is a clear error; delete ignores not found', async () => {
    const pubsub = emu.pubsub();
    const name = emu.uniqueId('touch');
    const stream = new ConsumerStream({
      pubsub,
      subscription: name,
      pittGoogleProject: PG,
    });
    await assert.rejects(stream.touch(), (e: AlertError) => {
      assert.equal(e.code, 'topic-not-found');
      assert.match(
        e.message,
        new RegExp(`projects/${PG}/topics/${name} does not exist`),
      );
      return true;
    });
    await pubsub.topic(`projects/${PG}/topics/${name}`).create();
    assert.deepEqual(await stream.touch(), {created: true});
    assert.deepEqual(await stream.touch(), {created: false});
    const [meta] = await pubsub.subscription(name).getMetadata();
    assert.equal(meta.topic, `projects/${PG}/topics/${name}`);
    assert.equal(await stream.delete(), true);
    assert.equal(await stream.delete(), false);
  });

  it('a bounded run stores through the pipeline with the stored filter; the rest is nacked, not left leased', async () => {
    const pubsub = emu.pubsub();
    const firestore = emu.firestore();
    const name = emu.uniqueId('bounded');
    const {publish} = await topicWith(pubsub, name, 20);
    // classtar >= 0.5; every fifth generated packet has a null classtar.
    await createSubscriptionStore(firestore, config).put({
      name,
      topic: `projects/${PG}/topics/${name}`,
      filter: {field: 'classtar', op: 'gte', value: 0.5},
      serverFilter: '',
      settings: {},
    });
    const pipeline = createHarnessPipeline(config, firestore, log);
    const stream = new ConsumerStream({
      pubsub,
      subscription: name,
      pittGoogleProject: PG,
      pipeline,
    });
    await stream.touch();
    const published = await publish();

    const acked: string[] = [];
    const {results, summary} = await stream.streamAlerts<{sourceId: string}>({
      returnList: true,
      flowConfigs: {maxResults: 5, timeout: 20},
      onMessage: (m, ok) => ok && acked.push(m.id),
    });
    assert.equal(summary.stopReason, 'max-results');
    assert.equal(summary.counted, 5);
    assert.equal(results.length, 5);
    assert.equal(summary.stored, 5);
    assert.equal(summary.errors, 0);
    assert.equal(summary.acked, acked.length);
    assert.equal(summary.acked, summary.stored + summary.filtered);
    assert.ok(pipeline.batches >= 1);

    // Firestore holds exactly the counted alerts, each stored by an acked message.
    const snap = await firestore
      .collection(`subscriptions/${name}/alerts`)
      .get();
    assert.deepEqual(
      snap.docs.map(d => d.get('sourceId')).sort(),
      results.map(r => r.sourceId).sort(),
    );
    for (const d of snap.docs) assert.ok(acked.includes(d.get('messageId')));
    for (const d of snap.docs) assert.ok((d.get('classtar') as number) >= 0.5);

    // Nothing left leased: the next pull (ack deadline 60 s) sees exactly the others, at once.
    const rest = await drain(
      new ConsumerStream({pubsub, subscription: name, pittGoogleProject: PG}),
    );
    assert.deepEqual(
      [...rest].sort(),
      published.filter(id => !acked.includes(id)).sort(),
    );
  });

  it('an interrupted run (abort) finishes what is in flight, acks it, and nacks the rest', async () => {
    const pubsub = emu.pubsub();
    const name = emu.uniqueId('abort');
    const {publish} = await topicWith(pubsub, name, 15, 100);
    const stream = new ConsumerStream({
      pubsub,
      subscription: name,
      pittGoogleProject: PG,
    });
    await stream.touch();
    const published = await publish();
    const ac = new AbortController();
    const acked: string[] = [];
    let calls = 0;
    const {summary} = await stream.streamAlerts({
      sendData: 'full_msg',
      userCallback: async m => {
        if (++calls === 3) ac.abort();
        await new Promise(r => setTimeout(r, 100));
        acked.push((m as SourceMessage).id);
        return {ack: true};
      },
      signal: ac.signal,
      flowConfigs: {maxResults: null, timeout: 20, maxBacklog: 4},
    });
    assert.equal(summary.stopReason, 'aborted');
    assert.equal(summary.acked, acked.length);
    assert.ok(acked.length >= 3 && acked.length <= 4, `acked ${acked.length}`);
    const rest = await drain(stream);
    assert.deepEqual(
      [...rest].sort(),
      published.filter(id => !acked.includes(id)).sort(),
    );
  });

  it('a callback answering ack: false gets the message redelivered (nack)', async () => {
    const pubsub = emu.pubsub();
    const name = emu.uniqueId('nack');
    const {publish} = await topicWith(pubsub, name, 1, 200);
    const stream = new ConsumerStream({
      pubsub,
      subscription: name,
      pittGoogleProject: PG,
    });
    await stream.touch();
    const [id] = await publish();
    const seen: number[] = [];
    const {summary} = await stream.streamAlerts({
      sendData: 'full_msg',
      userCallback: m => {
        seen.push(Date.now());
        return {ack: seen.length >= 3, result: (m as SourceMessage).id};
      },
      returnList: true,
      flowConfigs: {maxResults: 1, timeout: 20},
    });
    assert.equal(seen.length, 3);
    assert.equal(summary.nacked, 2);
    assert.equal(summary.acked, 1);
    assert.deepEqual(await drain(stream), []);
    assert.ok(id);
    // The emulator redelivers a nacked message at once.
    assert.ok(
      seen[2] - seen[0] < 3000,
      `redelivered after ${seen[2] - seen[0]} ms`,
    );
  });
});
