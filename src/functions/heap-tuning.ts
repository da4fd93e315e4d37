/**
 * V8 heap tuning of a function instance, applied as the functions' module
 * loads (before the first request).
 *
 * Under a 512 MiB instance Node gives V8 a 256 MiB old generation, which V8
 * treats as a small device's heap: after a full GC the old generation may
 * grow to only ~1.3-1.8x its live size (~30 MB here) before the next. V8
 * starts incremental marking as soon as that room is smaller than the young
 * generation; with 16 MiB semi-spaces it always was ("Start (task): v8:
 * 31MB / 53MB / 22MB" with `--trace-incremental-marking`): marking restarted
 * right after every full GC, 14-24 mark-compacts per 1,000 alerts whether
 * or not anything had been promoted, ~12 % of the ingest function's CPU.
 * A fixed growing factor of 2 with 8 MiB semi-spaces (INGEST_NODE_OPTIONS in
 * ../deploy/config.ts) leaves the young generation room: 7-9 mark-compacts
 * per 1,000 alerts, 2-25 % less CPU per alert at 2 requests in flight and
 * 16-26 % less at 32, for 2-8 MiB more resident memory (`npm run
 * bench:variants`, bench/README.md).
 *
 * `--heap-growing-percent` is not allowed in NODE_OPTIONS, hence set here;
 * V8 reads it at every full GC. One given on the command line wins
 * (`--heap-growing-percent=0`: V8's own factor; `npm run bench:variants`
 * compares them).
 */

import {setFlagsFromString} from 'node:v8';

/** The old generation may grow to (1 + this / 100) x its live size. */
export const HEAP_GROWING_PERCENT = 100;

/** Sets the growing factor unless `execArgv` sets one; true when it did. */
export function tuneHeap(
  execArgv: readonly string[] = process.execArgv,
): boolean {
  if (execArgv.some(a => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) {
    return false;
  }
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
