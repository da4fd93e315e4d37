/** Counters and latency percentiles of one bounded run, and their printable forms. Pure. */

export type StopReason = 'max-results' | 'timeout' | 'aborted' | 'error';

export interface RunSummary {
  received: number;
  acked: number;
  nacked: number;
  /** Results counted towards maxResults. */
  counted: number;
  /** Alerts stored / filtered out / already stored (default pipeline; per alert). */
  stored: number;
  filtered: number;
  duplicates: number;
  /** Messages that failed permanently and were quarantined (acked). */
  quarantined: number;
  /** Callbacks that failed (the message was nacked). */
  errors: number;
  elapsedMs: number;
  /** Receive → ack/nack, per message, ms. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  stopReason: StopReason;
  /** The error that ended the run (stopReason 'error'). */
  error?: string;
}

export type Counters = Omit<
  RunSummary,
  'elapsedMs' | 'latencyP50Ms' | 'latencyP99Ms' | 'stopReason' | 'error'
>;

export function emptyCounters(): Counters {
  return {
    received: 0,
    acked: 0,
    nacked: 0,
    counted: 0,
    stored: 0,
    filtered: 0,
    duplicates: 0,
    quarantined: 0,
    errors: 0,
  };
}

/** Nearest-rank percentile of unsorted samples; null when there are none. */
export function percentile(
  samples: readonly number[],
  p: number,
): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round = (n: number | null) =>
  n === null ? null : Math.round(n * 10) / 10;

export function summarize(
  counters: Counters,
  latencies: readonly number[],
  elapsedMs: number,
  stopReason: StopReason,
  error?: string,
): RunSummary {
  return {
    ...counters,
    elapsedMs: Math.round(elapsedMs),
    latencyP50Ms: round(percentile(latencies, 50)),
    latencyP99Ms: round(percentile(latencies, 99)),
    stopReason,
    ...(error === undefined ? {} : {error}),
  };
}

/** One line of progress, e.g. for stderr once a second. */
export function progressLine(c: Counters, elapsedMs: number): string {
  const s = elapsedMs / 1000;
  const rate = s > 0 ? Math.round(c.acked / s) : 0;
  return (
    `${s.toFixed(1)}s received ${c.received} acked ${c.acked} nacked ${c.nacked} ` +
    `stored ${c.stored} filtered ${c.filtered} duplicates ${c.duplicates} ` +
    `quarantined ${c.quarantined} errors ${c.errors} (${rate}/s)`
  );
}

/** The summary as an aligned two-column table. */
export function summaryTable(s: RunSummary): string[] {
  const rows: [string, string][] = [
    ['received', String(s.received)],
    ['acked', String(s.acked)],
    ['nacked', String(s.nacked)],
    ['counted', String(s.counted)],
    ['stored', String(s.stored)],
    ['filtered', String(s.filtered)],
    ['duplicates', String(s.duplicates)],
    ['quarantined', String(s.quarantined)],
    ['errors', String(s.errors)],
    ['elapsed', `${(s.elapsedMs / 1000).toFixed(2)} s`],
    [
      'rate',
      s.elapsedMs > 0
        ? `${Math.round((s.acked * 1000) / s.elapsedMs)} acked/s`
        : '-',
    ],
    ['latency p50', s.latencyP50Ms === null ? '-' : `${s.latencyP50Ms} ms`],
    ['latency p99', s.latencyP99Ms === null ? '-' : `${s.latencyP99Ms} ms`],
    ['stopped by', s.stopReason + (s.error ? ` (${s.error})` : '')],
  ];
  const w = Math.max(...rows.map(r => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
}
