import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {classifyFirestoreError} from '../../../src/store/firestore-errors';

const grpc = (code: number, message = 'x') =>
  Object.assign(new Error(message), {code});

describe('classifyFirestoreError', () => {
  it('retries outages and deployment faults, quarantines what Firestore refuses for the data', () => {
    const table: [unknown, string][] = [
      [grpc(14), 'transient:store-unavailable'],
      [grpc(4), 'transient:store-unavailable'],
      [grpc(8), 'transient:store-unavailable'],
      [grpc(7, 'PERMISSION_DENIED'), 'transient:store-unavailable'],
      [grpc(16), 'transient:store-unavailable'],
      [grpc(5, 'database not found'), 'transient:store-unavailable'],
      [
        Object.assign(new Error('connect'), {code: 'ECONNREFUSED'}),
        'transient:store-unavailable',
      ],
      [grpc(3, 'INVALID_ARGUMENT: bad value'), 'permanent:store-rejected'],
      [
        grpc(3, 'document exceeds the maximum allowed size'),
        'permanent:too-large',
      ],
    ];
    for (const [error, expected] of table) {
      const e = classifyFirestoreError(error);
      assert.equal(
        `${e.kind}:${e.code}`,
        expected,
        String((error as Error).message),
      );
    }
  });
});
