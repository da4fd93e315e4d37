/**
 * Preloaded into a benchmarked function process (NODE_OPTIONS=--require):
 * writes `{"memoryProbe": process.memoryUsage()}` on stdout once a second,
 * so that the benchmark can tell the V8 heap from Buffers and native memory.
 */

const timer = setInterval(() => {
  process.stdout.write(
    JSON.stringify({memoryProbe: process.memoryUsage()}) + '\n',
  );
}, 1000);
timer.unref();
