import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {tuneHeap} from '../../../src/functions/heap-tuning';

describe('heap tuning', () => {
  it('leaves a growing factor given on the command line', () => {
    assert.equal(tuneHeap(['--heap-growing-percent=0']), false);
    assert.equal(
      tuneHeap(['--max-semi-space-size=8', '--heap_growing_percent=150']),
      false,
    );
  });

  it('sets it otherwise', () => {
    assert.equal(
      tuneHeap(['--max-semi-space-size=8', '--heap-growing-percentage=3']),
      true,
    );
    assert.equal(tuneHeap([]), true);
  });
});
