import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {loadConfig} from '../../../src/config';
import {PermanentError} from '../../../src/errors';
import {createFirestorePipeline} from '../../../src/ingest/firestore-pipeline';
import {createLogger} from '../../../src/log';
import {generateLiteJson} from '../../helpers';

const config = loadConfig({});
const log = createLogger({sink: () => undefined});
const passAll = {filterFor: () => ({matches: () => true})};
const alerts = {store: async () => 'stored' as const};
const quarantine = {quarantine: async () => undefined};

describe('the ingest pipeline over Firestore', () => {
  it('without Firestore, every port must be given; a missing one is a bad-config error naming it', () => {
    const cases: Array<[object, RegExp]> = [
      [{filters: passAll, quarantine}, /to store alerts/],
      [{alerts, quarantine}, /for stored filters/],
      [{alerts, filters: passAll}, /for the quarantine/],
    ];
    for (const [overrides, message] of cases) {
      assert.throws(
        () => createFirestorePipeline(undefined, config, log, overrides),
        (e: unknown) =>
          e instanceof PermanentError &&
          e.code === 'bad-config' &&
          message.test(e.message),
      );
    }
  });

  it('with every port given, messages go through them (no Firestore touched)', async () => {
    const stored: string[] = [];
    const p = createFirestorePipeline(undefined, config, log, {
      filters: passAll,
      alerts: {
        store: async a => {
          stored.push(a.objectId);
          return 'stored';
        },
      },
      quarantine,
    });
    const packet = generateLiteJson({seed: 5});
    const result = await p.pipeline.processMessage({
      subscription: 'ztf-lite',
      messageId: '1',
      publishTime: undefined,
      attributes: {},
      data: packet.bytes,
      deliveryAttempt: undefined,
    });
    assert.equal(p.filters, undefined);
    assert.equal(p.batches, 0);
    await p.flush();
    assert.deepEqual(
      {outcome: result.outcome, stored},
      {
        outcome: 'stored',
        stored: [packet.expected[0].objectId],
      },
    );
  });
});
