/**
 * The memory limit of a deployed instance, applied to a child process: in a
 * memory cgroup where this machine allows one (Node then sizes its heap
 * from it), else as the heap limit Node would derive.
 */

import {strict as assert} from 'node:assert';
import {execFileSync} from 'node:child_process';
import {describe, it} from 'node:test';

import {heapLimitMiBFor, memoryLimit} from '../../../src/local/memory-limit';

const PROBE = `const v8 = require('v8');
console.log(JSON.stringify({
  constrainedMiB: (process.constrainedMemory?.() ?? 0) / 1048576,
  heapLimitMiB: v8.getHeapStatistics().heap_size_limit / 1048576,
}));`;

describe('memoryLimit', () => {
  for (const cgroup of [true, false]) {
    it(`starts a child whose V8 heap is sized for the limit (${cgroup ? 'a cgroup where the machine allows it' : 'the heap flag'})`, () => {
      const unconstrained = JSON.parse(
        execFileSync(process.execPath, ['-e', PROBE], {encoding: 'utf8'}),
      ) as {heapLimitMiB: number};
      const limit = memoryLimit(512, {cgroup});
      if (!cgroup) assert.equal(limit.kind, 'heap-flag');
      try {
        const {command, args} = limit.wrap(process.execPath, ['-e', PROBE]);
        const env = {
          ...process.env,
          NODE_OPTIONS: limit.nodeOptions.join(' '),
        };
        const seen = JSON.parse(
          execFileSync(command, args, {encoding: 'utf8', env}),
        ) as {constrainedMiB: number; heapLimitMiB: number};
        if (limit.kind === 'cgroup') {
          assert.equal(seen.constrainedMiB, 512);
        }
        // Node's own sizing under a cgroup and our flag agree within a few MiB.
        assert.ok(
          Math.abs(seen.heapLimitMiB - heapLimitMiBFor(512)) < 16,
          `heap limit ${seen.heapLimitMiB} MiB under ${limit.kind}`,
        );
        assert.ok(
          seen.heapLimitMiB < unconstrained.heapLimitMiB ||
            unconstrained.heapLimitMiB < 300,
        );
      } finally {
        limit.remove();
      }
    });
  }
});
