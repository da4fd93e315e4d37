/**
 * Resident memory of processes, read from /proc (Linux): one process, a
 * whole process group (a function server and any children it started), and
 * a sampler that keeps the series of a run. Used by the benchmarks and the
 * stress suite.
 */

import {readFileSync} from 'node:fs';

import {groupMembers} from '../../src/local/process-group';

export const MiB = 1024 * 1024;

/** Resident memory of a process (VmRSS), bytes; undefined when it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Summed VmRSS of the live members of process group `pgid`, bytes (0 when none is left). */
export function groupRss(pgid: number): number {
  return groupMembers(pgid).reduce((sum, pid) => sum + (rssOf(pid) ?? 0), 0);
}

export interface RssSample {
  /** Date.now() of the sample. */
  at: number;
  bytes: number;
}

export interface RssSampler {
  readonly samples: readonly RssSample[];
  /** The largest sample so far, bytes. */
  readonly peak: number;
  /** The latest sample, bytes (0 before the first). */
  readonly last: number;
  /** The first sample taken at or after `at` (Date.now()), if any. */
  sampleAt(at: number): RssSample | undefined;
  stop(): void;
}

/**
 * Samples `read()` (e.g. `() => groupRss(pid)`) every `intervalMs`; a
 * sample of 0 (process gone, e.g. between a kill and a restart) is skipped.
 * `onSample` sees each sample as it is taken (e.g. to stop a runaway run).
 */
export function sampleRss(
  read: () => number,
  intervalMs = 250,
  onSample?: (bytes: number) => void,
): RssSampler {
  const samples: RssSample[] = [];
  let peak = 0;
  const take = () => {
    const bytes = read();
    if (bytes <= 0) return;
    samples.push({at: Date.now(), bytes});
    peak = Math.max(peak, bytes);
    onSample?.(bytes);
  };
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    samples,
    get peak() {
      return peak;
    },
    get last() {
      return samples.length ? samples[samples.length - 1].bytes : 0;
    },
    sampleAt: at => samples.find(s => s.at >= at),
    stop: () => clearInterval(timer),
  };
}
