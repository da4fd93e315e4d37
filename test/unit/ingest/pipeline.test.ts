import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import type {Alert} from '../../../src/alert/model';
import {AlertError, PermanentError, TransientError} from '../../../src/errors';
import type {PushedMessage} from '../../../src/ingest/envelope';
import {
  createIngestPipeline,
  QuarantineRecord,
  StoreMeta,
} from '../../../src/ingest/pipeline';
import {createLogger} from '../../../src/log';

function alert(sourceId: string, classtar: number | null): Alert {
  return {
    survey: 'ztf',
    format: 'avro-ocf',
    schemaVersion: '4.02',
    objectId: `ZTF${sourceId}`,
    sourceId,
    ra: 1,
    dec: 2,
    jd: 2460000.5,
    mjd: 60000,
    mag: 18,
    magErr: 0.1,
    band: 'g',
    nPrevious: 0,
    classtar,
    cutouts: {},
    record: {},
  };
}

function message(
  data: string,
  extra: Partial<PushedMessage> = {},
): PushedMessage {
  return {
    subscription: 'sub',
    messageId: 'm1',
    publishTime: '2026-11-29T00:00:00Z',
    attributes: {},
    data: Buffer.from(data),
    deliveryAttempt: undefined,
    ...extra,
  };
}

/** Ports over in-memory maps; the decoder reads "id:classtar,id:classtar" or fails on demand. */
function setup(
  opts: {
    storeError?: AlertError;
    filterError?: Error;
    quarantineError?: Error;
  } = {},
) {
  const stored = new Map<string, StoreMeta>();
  const quarantined: QuarantineRecord[] = [];
  const logs: Record<string, unknown>[] = [];
  const pipeline = createIngestPipeline({
    decoder: {
      decode(bytes) {
        const text = Buffer.from(bytes).toString();
        if (text === 'garbage')
          throw new PermanentError('unknown-format', 'not an alert');
        if (text === 'registry-down')
          throw new TransientError('registry-unavailable', 'down');
        if (text === 'bug') throw new Error('a bug');
        return text.split(',').map(p => {
          const [id, c] = p.split(':');
          return alert(id, c === 'null' ? null : Number(c));
        });
      },
    },
    filters: {
      filterFor() {
        if (opts.filterError) throw opts.filterError;
        return {matches: a => a.classtar !== null && a.classtar < 0.5};
      },
    },
    alerts: {
      async store(a, meta) {
        if (opts.storeError) throw opts.storeError;
        if (stored.has(a.sourceId)) return 'duplicate';
        stored.set(a.sourceId, meta);
        return 'stored';
      },
    },
    quarantine: {
      async quarantine(r) {
        if (opts.quarantineError) throw opts.quarantineError;
        quarantined.push(r);
      },
    },
    log: createLogger({sink: l => logs.push(JSON.parse(l))}),
  });
  return {pipeline, stored, quarantined, logs};
}

describe('ingest pipeline', () => {
  it('stores passing alerts, filters the rest, and logs one line per message', async () => {
    const {pipeline, stored, logs} = setup();
    const r = await pipeline.processMessage(
      message('100:0.1,200:0.9,300:null'),
    );
    assert.equal(r.outcome, 'stored');
    assert.deepEqual(
      r.alerts.map(a => a.outcome),
      ['stored', 'filtered', 'filtered'],
    );
    assert.deepEqual([...stored.keys()], ['100']);
    assert.equal(stored.get('100')?.messageId, 'm1');
    assert.equal(logs.length, 1);
    assert.equal(logs[0].severity, 'INFO');
    assert.equal(logs[0].outcome, 'stored');
    assert.equal(logs[0].subscription, 'sub');
    assert.equal(typeof logs[0].latencyMs, 'number');
  });

  it('reports a redelivered message as duplicate and a fully filtered one as filtered', async () => {
    const {pipeline} = setup();
    await pipeline.processMessage(message('100:0.1'));
    assert.equal(
      (await pipeline.processMessage(message('100:0.1'))).outcome,
      'duplicate',
    );
    assert.equal(
      (await pipeline.processMessage(message('5:0.9'))).outcome,
      'filtered',
    );
  });

  it('quarantines permanent failures (including empty data) and resolves, so the message is acked', async () => {
    const {pipeline, quarantined, stored} = setup();
    const r = await pipeline.processMessage(
      message('garbage', {attributes: {a: 'b'}}),
    );
    assert.equal(r.outcome, 'quarantined');
    assert.equal(r.reason, 'unknown-format');
    assert.equal(
      (await pipeline.processMessage(message(''))).reason,
      'empty-payload',
    );
    assert.equal(quarantined.length, 2);
    assert.deepEqual(quarantined[0].attributes, {a: 'b'});
    assert.equal(quarantined[0].data.toString(), 'garbage');
    assert.equal(stored.size, 0);
  });

  it('rejects with a TransientError on transient failures, quarantining nothing', async () => {
    for (const [data, opts, code] of [
      ['registry-down', {}, 'registry-unavailable'],
      ['bug', {}, 'internal'],
      [
        '1:0.1',
        {storeError: new TransientError('store-unavailable', 'x')},
        'store-unavailable',
      ],
      [
        '1:0.1',
        {filterError: new TransientError('store-unavailable', 'y')},
        'store-unavailable',
      ],
    ] as const) {
      const {pipeline, quarantined, logs} = setup(opts);
      await assert.rejects(
        pipeline.processMessage(message(data)),
        (e: AlertError) => e.kind === 'transient' && e.code === code,
      );
      assert.equal(quarantined.length, 0);
      assert.equal(logs.at(-1)?.outcome, 'retry');
    }
  });

  it('quarantines a permanent storage refusal', async () => {
    const {pipeline, quarantined} = setup({
      storeError: new PermanentError('too-large', 'document too large'),
    });
    assert.equal(
      (await pipeline.processMessage(message('1:0.1'))).outcome,
      'quarantined',
    );
    assert.equal(quarantined[0].reason, 'too-large');
  });

  it('asks for a retry when the quarantine itself cannot be written', async () => {
    const {pipeline, logs} = setup({
      quarantineError: new TransientError('store-unavailable', 'down'),
    });
    await assert.rejects(
      pipeline.processMessage(message('garbage')),
      (e: AlertError) => e.kind === 'transient',
    );
    assert.deepEqual(
      logs.map(l => l.outcome),
      ['retry'],
    );
  });
});
