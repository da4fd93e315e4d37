/**
 * The bounded streaming-pull loop, over an injected message source (a
 * `@google-cloud/pubsub` Subscription satisfies {@link MessageSource}).
 *
 * Guarantees:
 * - a message is acked only after its handler resolved with ack: true; a
 *   handler that rejects or answers ack: false gets a nack (never left leased);
 * - at most `maxResults - counted` messages are handled at once, so the run
 *   never handles more than it may count; messages received beyond that wait
 *   in a local queue and are nacked when the bound is reached;
 * - the idle timeout runs from the last message received;
 * - stopping (bound, timeout, abort signal, stream error): handlers in
 *   flight finish and are acked, then the source is closed, and only then
 *   are the queued, late and refused messages nacked. Closing before the
 *   handlers finish would let the library nack a message whose alert was
 *   already stored; nacking before the source is closed would let the server
 *   redeliver the message at once on the still-open stream, and a message on
 *   the wire when the stream is torn down is never seen, so never nacked: it
 *   stays leased until its ack deadline (the Pub/Sub emulator redelivers a
 *   nacked message within milliseconds). The client library's close
 *   (`closeOptions.behavior: 'NACK'`) tears the stream down first and then
 *   nacks what it still holds; the loop's own nacks after it are no-ops there
 *   and the nacks a plain source needs.
 */

import {TransientError, errorMessage} from '../errors';
import type {ResolvedFlowConfigs} from './flow-config';
import {
  Counters,
  RunSummary,
  StopReason,
  emptyCounters,
  summarize,
} from './run-summary';

/** What the loop needs of a pulled message (a pubsub Message has all of it). */
export interface SourceMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime?: {toISOString(): string} | Date;
  deliveryAttempt?: number;
  /** Receive time, ms since the epoch. */
  received?: number;
  ack(): void;
  nack(): void;
}

export interface MessageSource {
  /** 'message' listeners get a {@link SourceMessage}, 'error' listeners an Error. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: 'message' | 'error', listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  close(): Promise<void>;
}

/** What a handler decides for one message. */
export interface Handled<R> {
  ack: boolean;
  /** Values to collect, one per counted result (empty: nothing counted). */
  results: R[];
  /** Per-alert outcomes of the default pipeline, for the summary. */
  stored?: number;
  filtered?: number;
  duplicates?: number;
  quarantined?: number;
}

export type MessageHandler<R> = (m: SourceMessage) => Promise<Handled<R>>;

export interface BoundedRunOptions {
  flow: ResolvedFlowConfigs;
  returnList: boolean;
  signal?: AbortSignal;
  /** Called once a second with the counters (progress). */
  onProgress?: (c: Readonly<Counters>, elapsedMs: number) => void;
  progressIntervalMs?: number;
  /** Called after each message was acked or nacked. */
  onSettled?: (m: SourceMessage, handled: Handled<unknown> | undefined) => void;
  /** Called before the source is closed (e.g. to flush batched writes). */
  beforeClose?: () => Promise<void>;
  now?: () => number;
}

export interface BoundedRunResult<R> {
  results: R[];
  summary: RunSummary;
}

export function runBounded<R>(
  source: MessageSource,
  handler: MessageHandler<R>,
  opts: BoundedRunOptions,
): Promise<BoundedRunResult<R>> {
  const now = opts.now ?? Date.now;
  const {maxResults, timeoutMs} = opts.flow;
  const started = now();
  const counters = emptyCounters();
  const latencies: number[] = [];
  const results: R[] = [];
  const queue: SourceMessage[] = [];
  let inFlight = 0;
  let stopping = false;
  let stopReason: StopReason = 'timeout';
  let stopError: string | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let finishing = false;
  /** Refused while stopping: nacked once the source is closed. */
  const toNack: SourceMessage[] = [];

  return new Promise<BoundedRunResult<R>>((resolve, reject) => {
    const settle = (m: SourceMessage, ack: boolean, h?: Handled<R>) => {
      try {
        if (ack) {
          m.ack();
          counters.acked++;
        } else {
          if (stopping) toNack.push(m);
          else m.nack();
          counters.nacked++;
        }
      } finally {
        latencies.push(now() - (m.received ?? started));
        opts.onSettled?.(m, h);
      }
    };

    const armIdle = () => {
      if (timeoutMs === null) return;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => stop('timeout'), timeoutMs);
    };

    const canDispatch = () =>
      !stopping &&
      (maxResults === null || counters.counted + inFlight < maxResults);

    const pump = () => {
      while (queue.length && canDispatch()) {
        const m = queue.shift()!;
        inFlight++;
        void handle(m);
      }
    };

    const handle = async (m: SourceMessage) => {
      let h: Handled<R> | undefined;
      try {
        h = await handler(m);
      } catch {
        counters.errors++;
        h = undefined;
      }
      try {
        if (h && h.ack) {
          counters.counted += h.results.length;
          if (opts.returnList) results.push(...h.results);
          counters.stored += h.stored ?? 0;
          counters.filtered += h.filtered ?? 0;
          counters.duplicates += h.duplicates ?? 0;
          counters.quarantined += h.quarantined ?? 0;
          settle(m, true, h);
        } else {
          settle(m, false, h);
        }
      } finally {
        inFlight--;
        if (maxResults !== null && counters.counted >= maxResults) {
          stop('max-results');
        } else {
          pump();
        }
        maybeFinish();
      }
    };

    const onMessage = (m: SourceMessage) => {
      counters.received++;
      if (stopping) {
        settle(m, false);
        return;
      }
      armIdle();
      queue.push(m);
      pump();
    };

    const onError = (e: Error) => {
      stopError = errorMessage(e);
      stop('error');
    };

    const onAbort = () => stop('aborted');

    function stop(reason: StopReason) {
      if (stopping) return;
      stopping = true;
      stopReason = reason;
      if (idleTimer) clearTimeout(idleTimer);
      for (const m of queue.splice(0)) settle(m, false);
      maybeFinish();
    }

    function maybeFinish() {
      if (!stopping || inFlight > 0 || finishing) return;
      finishing = true;
      void (async () => {
        let closeError: unknown;
        try {
          await opts.beforeClose?.();
        } catch (e) {
          closeError = e;
        }
        try {
          // Still listening: whatever arrives now is held for the nacks below.
          await source.close();
        } catch (e) {
          closeError ??= e;
        }
        for (const m of toNack) {
          try {
            m.nack();
          } catch (e) {
            closeError ??= e;
          }
        }
        source.removeListener('message', onMessage);
        source.removeListener('error', onError);
        opts.signal?.removeEventListener('abort', onAbort);
        if (progressTimer) clearInterval(progressTimer);
        const summary = summarize(
          counters,
          latencies,
          now() - started,
          stopReason,
          stopError,
        );
        if (stopReason === 'error' || closeError !== undefined) {
          const message = stopError ?? errorMessage(closeError);
          reject(
            new TransientError(
              'pull-failed',
              `streaming pull failed: ${message}`,
              {summary, results},
            ),
          );
          return;
        }
        resolve({results, summary});
      })();
    }

    if (opts.onProgress) {
      progressTimer = setInterval(
        () => opts.onProgress!(counters, now() - started),
        opts.progressIntervalMs ?? 1000,
      );
      progressTimer.unref();
    }
    source.on('message', onMessage);
    source.on('error', onError);
    if (opts.signal) {
      if (opts.signal.aborted) stop('aborted');
      else opts.signal.addEventListener('abort', onAbort, {once: true});
    }
    if (!stopping) armIdle();
  });
}
