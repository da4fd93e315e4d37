import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {PermanentError, TransientError} from '../../../src/errors';
import type {AlertDocument} from '../../../src/store/alert-document';
import type {ItemOutcome} from '../../../src/store/alert-store';
import {alertDocumentId} from '../../../src/store/layout';
import {createWriteCoalescer} from '../../../src/store/write-coalescer';

const doc = (sourceId: string, subscription = 'ztf-loop'): AlertDocument => ({
  subscription,
  sourceId,
  documentId: alertDocumentId(sourceId),
  data: {sourceId},
  sizeBytes: 100,
  cutouts: null,
  trimmed: [],
});

/** A storeMany that records its calls and answers from `outcome`. */
function recordingStore(
  outcome: (d: AlertDocument) => ItemOutcome = () => ({status: 'stored'}),
) {
  const calls: string[][] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | undefined;
  return {
    calls,
    /** Holds every commit until `open()`. */
    hold() {
      gate = new Promise(r => (release = r));
    },
    open: () => release(),
    storeMany: async (docs: AlertDocument[]) => {
      calls.push(docs.map(d => d.sourceId));
      await gate;
      return docs.map(outcome);
    },
  };
}

const turn = () => new Promise(r => setImmediate(r));

describe('write coalescer', () => {
  it('writes the alerts queued in one turn with one commit, each caller getting its own outcome', async () => {
    const store = recordingStore(d =>
      d.sourceId === '2' ? {status: 'duplicate'} : {status: 'stored'},
    );
    const w = createWriteCoalescer(store);
    const outcomes = await Promise.all(
      ['1', '2', '3'].map(id => w.store(doc(id))),
    );
    assert.deepEqual(outcomes, ['stored', 'duplicate', 'stored']);
    assert.deepEqual(store.calls, [['1', '2', '3']]);
  });

  it('writes a lone alert alone, right after its turn', async () => {
    const store = recordingStore();
    const w = createWriteCoalescer(store);
    const first = w.store(doc('1'));
    assert.deepEqual(store.calls, [], 'not before the turn ends');
    await turn();
    assert.deepEqual(store.calls, [['1']]);
    assert.equal(await first, 'stored');
    assert.equal(await w.store(doc('2')), 'stored');
    assert.deepEqual(store.calls, [['1'], ['2']]);
  });

  it('commits at once when the queue holds maxCount alerts', async () => {
    const store = recordingStore();
    const w = createWriteCoalescer({...store, maxCount: 20});
    const ids = Array.from({length: 45}, (_, i) => String(i));
    const pending = ids.map(id => w.store(doc(id)));
    assert.deepEqual(
      store.calls.map(c => c.length),
      [20, 20],
      'two full commits before the turn ends',
    );
    await Promise.all(pending);
    assert.deepEqual(
      store.calls.map(c => c.length),
      [20, 20, 5],
    );
    assert.deepEqual(store.calls.flat(), ids);
  });

  it('rejects only the caller whose write failed, with its own error', async () => {
    const refused = new PermanentError('store-rejected', 'refused');
    const store = recordingStore(d =>
      d.sourceId === 'bad'
        ? {status: 'failed', kind: 'permanent', error: refused}
        : {status: 'stored'},
    );
    const w = createWriteCoalescer(store);
    const [a, bad, b] = await Promise.allSettled(
      ['a', 'bad', 'b'].map(id => w.store(doc(id))),
    );
    assert.deepEqual(a, {status: 'fulfilled', value: 'stored'});
    assert.deepEqual(b, {status: 'fulfilled', value: 'stored'});
    assert.equal(bad.status, 'rejected');
    assert.equal((bad as PromiseRejectedResult).reason, refused);
  });

  it('rejects every caller of a commit whose store threw', async () => {
    const w = createWriteCoalescer({
      storeMany: async () => {
        throw new Error('boom');
      },
    });
    const settled = await Promise.allSettled(
      ['a', 'b'].map(id => w.store(doc(id))),
    );
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const e = (s as PromiseRejectedResult).reason;
      assert.ok(e instanceof TransientError && e.message === 'boom');
    }
  });

  it('puts the same alert queued twice into two commits', async () => {
    const store = recordingStore();
    const w = createWriteCoalescer(store);
    await Promise.all([
      w.store(doc('1')),
      w.store(doc('2')),
      w.store(doc('1')),
      w.store(doc('1', 'other-subscription')),
    ]);
    assert.deepEqual(store.calls, [
      ['1', '2'],
      ['1', '1'],
    ]);
  });

  it('does not wait for a commit in flight: later alerts go in the next one', async () => {
    const store = recordingStore();
    store.hold();
    const w = createWriteCoalescer(store);
    const first = w.store(doc('1'));
    await turn();
    const second = w.store(doc('2'));
    await turn();
    assert.deepEqual(store.calls, [['1'], ['2']], 'two commits in flight');
    store.open();
    assert.deepEqual(await Promise.all([first, second]), ['stored', 'stored']);
  });
});
