import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {createFilterCache} from '../src/ingest/filter-cache';
import type {FilterPort} from '../src/ingest/pipeline';

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
});
