import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {TransientError} from '../../../src/errors';
import {createClientRecycler} from '../../../src/store/client-recycler';
import {isCallTimeout, withTimeout} from '../../../src/store/firestore-errors';

/** Fake clients numbered in creation order; a fake clock. */
function setup(windowMs = 1000) {
  let t = 0;
  let made = 0;
  const disposed: number[] = [];
  const recycled: unknown[] = [];
  const recycler = createClientRecycler({
    create: () => ++made,
    dispose: c => {
      disposed.push(c);
      return new Promise(() => {}); // a stuck client never finishes closing
    },
    isTimeout: isCallTimeout,
    windowMs,
    now: () => t,
    onRecycle: info => recycled.push(info),
  });
  const timeout = () =>
    new TransientError('store-unavailable', 'no answer', {timeoutMs: 100});
  const fail = (e: unknown) => recycler.run(() => Promise.reject(e));
  return {
    recycler,
    disposed,
    recycled,
    at: (ms: number) => (t = ms),
    timeoutCall: () => fail(timeout()).catch(e => e),
    errorCall: () =>
      fail(new TransientError('store-unavailable', 'UNAVAILABLE')).catch(
        e => e,
      ),
    okCall: () => recycler.run(async c => c),
  };
}

describe('client recycler (a client whose connection is stuck is replaced)', () => {
  it('replaces the client once only timeouts were seen for the window', async () => {
    const s = setup(1000);
    assert.equal(s.recycler.current(), 1);
    s.at(0);
    await s.timeoutCall();
    s.at(600);
    await s.timeoutCall();
    assert.equal(s.recycler.current(), 1, 'not before the window');
    s.at(1000);
    const e = await s.timeoutCall();
    assert.ok(isCallTimeout(e), 'the caller still gets the timeout');
    assert.equal(s.recycler.current(), 2);
    assert.deepEqual(s.disposed, [1]);
    assert.equal(s.recycler.recycles, 1);
    assert.deepEqual(s.recycled, [
      {recycles: 1, timeoutsSeen: 3, sinceMs: 1000},
    ]);
    assert.equal(await s.okCall(), 2, 'later calls use the new client');
  });

  it('keeps the client when any call is answered, even with an error', async () => {
    const s = setup(1000);
    s.at(0);
    await s.timeoutCall();
    s.at(500);
    await s.errorCall(); // Firestore answered (UNAVAILABLE): the channel works
    s.at(1200);
    await s.timeoutCall();
    assert.equal(s.recycler.current(), 1);
    s.at(1500);
    await s.okCall();
    s.at(5000);
    await s.timeoutCall();
    assert.equal(s.recycler.current(), 1, 'a new run of timeouts starts over');
  });

  it('replaces at most once per window during a long outage', async () => {
    const s = setup(1000);
    for (let ms = 0; ms <= 3500; ms += 100) {
      s.at(ms);
      await s.timeoutCall();
    }
    // Timeouts from 0: replaced at 1000; new run from 1100, replaced at 2100;
    // then at 3200.
    assert.equal(s.recycler.recycles, 3);
    assert.equal(s.recycler.current(), 4);
  });

  it('ignores a late timeout of a client already replaced', async () => {
    const s = setup(1000);
    let release!: (e: unknown) => void;
    const slow = s.recycler.run(
      () => new Promise((_, reject) => (release = reject)),
    );
    s.at(0);
    await s.timeoutCall();
    s.at(1000);
    await s.timeoutCall();
    assert.equal(s.recycler.current(), 2);
    s.at(1900);
    release(new TransientError('store-unavailable', 'late', {timeoutMs: 1}));
    await slow.catch(() => undefined);
    s.at(2950);
    await s.timeoutCall(); // client 2's first timeout
    assert.equal(
      s.recycler.current(),
      2,
      'client 1 timing out late does not start a run of timeouts for client 2',
    );
  });

  it('isCallTimeout: the withTimeout error only', async () => {
    const e = await withTimeout(new Promise(() => {}), 5, 'a create').catch(
      x => x,
    );
    assert.ok(isCallTimeout(e));
    assert.ok(!isCallTimeout(new TransientError('store-unavailable', 'x')));
    assert.ok(!isCallTimeout(new Error('timeout')));
  });
});
