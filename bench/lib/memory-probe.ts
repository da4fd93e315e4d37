/**
 * Preloaded into a benchmarked function process (NODE_OPTIONS=--require):
 * writes `{"startupProbe": {...}}` once as it loads, then `{"memoryProbe": {...process.memoryUsage(), spaces}}` on stdout once
 * a second, so that the benchmark can tell the V8 heap (per space: committed
 * and used) from Buffers and native memory.
 */

import {getHeapSpaceStatistics} from 'node:v8';

// When this process started and when its modules start loading (this file
// is --require'd before the framework's main module), both as epoch ms:
// the cold start as the issue defines it runs from module load.
process.stdout.write(
  JSON.stringify({
    startupProbe: {
      processStartAt: performance.timeOrigin,
      moduleLoadAt: performance.timeOrigin + performance.now(),
    },
  }) + '\n',
);

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
