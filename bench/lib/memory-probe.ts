/**
 * Preloaded into a benchmarked function process (NODE_OPTIONS=--require):
 * writes `{"memoryProbe": {...process.memoryUsage(), spaces}}` on stdout once
 * a second, so that the benchmark can tell the V8 heap (per space: committed
 * and used) from Buffers and native memory.
 */

import {getHeapSpaceStatistics} from 'node:v8';

const timer = setInterval(() => {
  const spaces: Record<string, [number, number]> = {};
  for (const s of getHeapSpaceStatistics()) {
    spaces[s.space_name] = [s.space_size, s.space_used_size];
  }
  process.stdout.write(
    JSON.stringify({memoryProbe: {...process.memoryUsage(), spaces}}) + '\n',
  );
}, 1000);
timer.unref();
