import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {createFilterCache} from '../../../src/ingest/filter-cache';
import type {FilterPort} from '../../../src/ingest/pipeline';

const filterNamed = (name: string): FilterPort & {name: string} => ({
  name,
  matches: () => true,
});

describe('filter cache', () => {
  it('loads once per TTL, shares concurrent loads, serves stale while reloading', async () => {
    let t = 0;
    let loads = 0;
    const cache = createFilterCache({
      ttlMs: 1000,
      now: () => t,
      load: async s => {
        loads++;
        return filterNamed(`${s}#${loads}`);
      },
    });
    const [a, b] = await Promise.all([
      cache.filterFor('s'),
      cache.filterFor('s'),
    ]);
    assert.equal(loads, 1);
    assert.equal(a, b);
    t = 999;
    assert.equal(await cache.filterFor('s'), a);
    assert.equal(loads, 1);
    t = 1000; // expired: the old filter serves this call, the reload the next
    assert.equal(await cache.filterFor('s'), a);
    await new Promise(r => setImmediate(r));
    assert.equal(loads, 2);
    assert.equal(
      (cache.filterFor('s') as FilterPort & {name: string}).name,
      's#2',
    );
  });

  it('propagates a failed first load and retries it next time', async () => {
    let fail = true;
    const cache = createFilterCache({
      ttlMs: 1000,
      load: async () => {
        if (fail) throw new Error('firestore down');
        return filterNamed('ok');
      },
    });
    await assert.rejects(async () => cache.filterFor('s'), /firestore down/);
    fail = false;
    assert.equal(
      ((await cache.filterFor('s')) as FilterPort & {name: string}).name,
      'ok',
    );
  });

  it('keeps the known filter when a reload fails, and says so', async () => {
    let t = 0;
    let fail = false;
    const stale: string[] = [];
    const cache = createFilterCache({
      ttlMs: 10,
      now: () => t,
      onStale: s => stale.push(s),
      load: async () => {
        if (fail) throw new Error('down');
        return filterNamed('v1');
      },
    });
    const first = await cache.filterFor('s');
    fail = true;
    t = 50;
    assert.equal(await cache.filterFor('s'), first);
    await new Promise(r => setImmediate(r));
    assert.deepEqual(stale, ['s']);
    assert.equal(await cache.filterFor('s'), first);
  });

  it('prime: serves the bulk-loaded filters without a load; a miss while priming waits for it', async () => {
    const loads: string[] = [];
    const cache = createFilterCache({
      ttlMs: 1000,
      load: async s => {
        loads.push(s);
        return filterNamed(`one-by-one ${s}`);
      },
    });
    let release: () => void = () => {};
    const primed = cache.prime(
      () =>
        new Promise(resolve => {
          release = () =>
            resolve([
              ['a', filterNamed('bulk a')],
              ['b', filterNamed('bulk b')],
            ]);
        }),
    );
    const duringA = cache.filterFor('a');
    const duringC = cache.filterFor('c');
    release();
    assert.equal(await primed, 2);
    const name = async (f: ReturnType<typeof cache.filterFor>) =>
      ((await f) as FilterPort & {name: string}).name;
    assert.equal(await name(duringA), 'bulk a');
    assert.equal(await name(duringC), 'one-by-one c');
    assert.equal(await name(cache.filterFor('b')), 'bulk b');
    assert.deepEqual(loads, ['c']);
  });

  it('prime: a failed bulk load is reported and leaves loading one by one', async () => {
    const failures: unknown[] = [];
    const cache = createFilterCache({
      ttlMs: 1000,
      load: async s => filterNamed(`one-by-one ${s}`),
      onPrimeFailed: e => failures.push(e),
    });
    const miss = cache.filterFor('a');
    assert.equal(
      await cache.prime(async () => {
        throw new Error('firestore down');
      }),
      0,
    );
    assert.equal(failures.length, 1);
    assert.equal(
      ((await miss) as FilterPort & {name: string}).name,
      'one-by-one a',
    );
  });

  it('prime: a filter loaded one by one after the prime started is not overwritten', async () => {
    let t = 0;
    const cache = createFilterCache({
      ttlMs: 1000,
      now: () => t,
      load: async () => filterNamed('fresh'),
    });
    // Known before the prime, then reloaded (expired) while it runs.
    await cache.filterFor('a');
    let release: () => void = () => {};
    const primed = cache.prime(
      () =>
        new Promise(resolve => {
          release = () => resolve([['a', filterNamed('bulk')]]);
        }),
    );
    t = 5000;
    cache.filterFor('a'); // expired: serves the old one, reloads
    await new Promise(r => setImmediate(r));
    release();
    assert.equal(await primed, 0);
    assert.equal(
      (cache.filterFor('a') as FilterPort & {name: string}).name,
      'fresh',
    );
  });
});
