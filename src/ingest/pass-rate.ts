/**
 * Which decode a filter's alerts get first, from how many of them it passes.
 *
 * A filter that may decide on a summary (../alert/summary-reader.ts) saves
 * the histories and cutouts of every alert it rejects, and costs every alert
 * it passes one more (summary) decode: the summary decode costs about half
 * of the full one (~0.04 against ~0.075 ms for a generated ZTF alert, in
 * process), so deciding first pays while fewer than about half of the
 * alerts pass. This keeps, per compiled filter, a moving
 * estimate of the fraction that passes (each alert's decision, either
 * decode's: they agree, test/unit/alert/summary-reader.test.ts) and says
 * to decide first while it is under one half. A filter starts at "decide
 * first" (rejecting most alerts is what filters are for); a filter that
 * passes everything switches to the full decode after 22 alerts, and back
 * after 22 rejected ones.
 */

/** Weight of one alert's decision in the estimate. */
const WEIGHT = 1 / 32;
/** Decide on a summary first while under this fraction passes. */
const THRESHOLD = 0.5;

export interface PassRates<K extends object> {
  /** True when the filter's alerts are best decided on a summary first. */
  decideFirst(filter: K): boolean;
  /** Counts one message's decisions. */
  record(filter: K, passes: readonly boolean[]): void;
  /** The current estimate (0 before any alert). */
  estimate(filter: K): number;
}

export function createPassRates<K extends object>(): PassRates<K> {
  // Keyed by the compiled filter: a reloaded filter starts again, and a
  // dropped one is forgotten with it.
  const rates = new WeakMap<K, number>();
  const estimate = (filter: K) => rates.get(filter) ?? 0;
  return {
    estimate,
    decideFirst: filter => estimate(filter) < THRESHOLD,
    record(filter, passes) {
      let rate = estimate(filter);
      for (const pass of passes) rate += ((pass ? 1 : 0) - rate) * WEIGHT;
      rates.set(filter, rate);
    },
  };
}
