import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  decodeQuarantineCursor,
  encodeQuarantineCursor,
  InvalidQuarantineCursorError,
} from '../../../src/store/quarantine-query';

describe('quarantine cursors', () => {
  it('round-trip, URL-safe', () => {
    const c = {
      timeNanos: '1735689600123456789',
      id: 'msgid-sha256-ab/'.slice(0, 15),
    };
    const text = encodeQuarantineCursor(c);
    assert.match(text, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeQuarantineCursor(text), c);
  });

  it('refuse anything they did not make', () => {
    const b64 = (v: unknown) =>
      Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [
      '',
      'not base64!',
      b64(['q1', '12']),
      b64(['q2', '12', 'id']),
      b64(['q1', '-1', 'id']),
      b64(['q1', '012', 'id']),
      b64(['q1', 12, 'id']),
      b64(['q1', '12', 'a/b']),
      b64(['q1', '12', '__x__']),
      b64({timeNanos: '1', id: 'x'}),
      Buffer.from('{').toString('base64url'),
    ]) {
      assert.throws(
        () => decodeQuarantineCursor(bad),
        InvalidQuarantineCursorError,
        bad,
      );
    }
  });
});
