import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {PermanentError, TransientError} from '../../../src/errors';
import type {AlertDocument} from '../../../src/store/alert-document';
import type {ItemOutcome} from '../../../src/store/alert-store';
import {alertDocumentId} from '../../../src/store/layout';
import {createWriteBatcher} from '../../../src/store/write-batcher';

const doc = (sourceId: string, sizeBytes = 100): AlertDocument => ({
  subscription: 'ztf-loop',
  sourceId,
  documentId: alertDocumentId(sourceId),
  data: {sourceId},
  sizeBytes,
  cutouts: null,
  trimmed: [],
});

function recordingStore(
  outcome: (d: AlertDocument) => ItemOutcome = () => ({status: 'stored'}),
) {
  const calls: string[][] = [];
  return {
    calls,
    storeMany: async (docs: readonly AlertDocument[]) => {
      calls.push(docs.map(d => d.sourceId));
      return docs.map(outcome);
    },
  };
}

describe('write batcher (the pull consumer)', () => {
  it('seals a batch at maxDocs and gives each caller its own outcome', async () => {
    const store = recordingStore(d =>
      d.sourceId === '2'
        ? {status: 'duplicate'}
        : d.sourceId === '3'
          ? {
              status: 'failed',
              kind: 'permanent',
              error: new PermanentError('too-large', 'big'),
            }
          : {status: 'stored'},
    );
    const w = createWriteBatcher(store.storeMany, {maxDocs: 2});
    const results = await Promise.allSettled(
      ['1', '2', '3'].map(id => w.store(doc(id))),
    );
    await w.flush();
    assert.deepEqual(store.calls, [['1', '2'], ['3']]);
    assert.deepEqual(
      results.map(r => (r.status === 'fulfilled' ? r.value : r.reason.code)),
      ['stored', 'duplicate', 'too-large'],
    );
    assert.equal(w.batches, 2);
  });

  it('seals before a document that would pass maxBytes', async () => {
    const store = recordingStore();
    const w = createWriteBatcher(store.storeMany, {maxBytes: 250});
    const pending = ['a', 'b', 'c'].map(id => w.store(doc(id, 100)));
    await w.flush();
    await Promise.all(pending);
    assert.deepEqual(store.calls, [['a', 'b'], ['c']]);
  });

  it('counts an alert with its cutouts document as one unit of both sizes', async () => {
    const store = recordingStore();
    const w = createWriteBatcher(store.storeMany, {maxBytes: 250});
    const withCutouts = (id: string): AlertDocument => ({
      ...doc(id, 50),
      cutouts: {data: {}, sizeBytes: 100},
    });
    // 50 + 100 bytes each: counted alone (50), all three would fit in 250.
    const pending = ['a', 'b', 'c'].map(id => w.store(withCutouts(id)));
    await w.flush();
    await Promise.all(pending);
    assert.deepEqual(store.calls, [['a'], ['b'], ['c']]);
  });

  it('a storeMany that answers too few outcomes fails the rest as transient', async () => {
    const w = createWriteBatcher(async () => [{status: 'stored'}], {
      maxDocs: 2,
    });
    const [a, b] = await Promise.allSettled([
      w.store(doc('1')),
      w.store(doc('2')),
    ]);
    assert.equal(a.status, 'fulfilled');
    assert.ok(b.status === 'rejected' && b.reason instanceof TransientError);
  });
});
