/** The opaque cursor of src/store/alert-query.ts: round trip, and refusal of anything it did not make. */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
} from '../../../src/store/alert-query';
import {alertDocumentId} from '../../../src/store/layout';
import {comparePaths} from '../../../src/store/shard-merge';

const id = alertDocumentId('2982177112815010003');

describe('alert cursors', () => {
  it('round-trip exactly and are URL-safe', () => {
    for (const micros of ['0', '1764720000123456', '253402300799999999']) {
      const c = {publishTimeMicros: micros, id};
      const text = encodeCursor(c);
      assert.match(text, /^[A-Za-z0-9_-]+$/);
      assert.equal(encodeURIComponent(text), text);
      assert.deepEqual(decodeCursor(text), c);
    }
  });

  it('refuse malformed, forged and foreign cursors with InvalidCursorError', () => {
    const enc = (v: unknown) =>
      Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad = [
      '',
      'x'.repeat(401),
      'abc+/=',
      'not json at all',
      enc({publishTimeMicros: '1', id}),
      enc([2, '1', id]),
      enc([1, 1, id]),
      enc([1, '-1', id]),
      enc([1, '01', id]),
      enc([1, '1.5', id]),
      enc([1, '253402300800000000', id]),
      enc([1, '1', '2982177112815010003']), // an id of the old layout
      enc([1, '1', `${id}x`]),
      enc([1, '1', 'a/b']),
      enc([1, '1', id, 'extra']),
    ];
    for (const text of bad) {
      assert.throws(
        () => decodeCursor(text),
        (e: unknown) =>
          e instanceof InvalidCursorError &&
          e.code === 'bad-request' &&
          e.details.parameter === 'cursor',
        text,
      );
    }
  });
});

describe('comparePaths', () => {
  it('compares segment by segment, as Firestore orders document names', () => {
    // Whole-string comparison would put "a-b/…" before "a/…" ('-' < '/').
    assert.ok(comparePaths(['s', 'a', 'x'], ['s', 'a-b', 'x']) < 0);
    assert.ok(comparePaths(['s', 'b', 'x'], ['s', 'a', 'y']) > 0);
    assert.equal(comparePaths(['s', 'a'], ['s', 'a']), 0);
  });
});
