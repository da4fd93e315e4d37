/**
 * What the ingest function said, per subscription, from its JSON log lines
 * (one per message: `outcome` stored | duplicate | filtered | quarantined |
 * retry, with `messageId`, `sourceId`, `latencyMs`). Feed `onLog` to
 * `startFunctionServer`; the stress suite reads deliveries, 5xx answers
 * (`retry` lines: the handler answers 5xx after each), redeliveries and the
 * per-alert outcomes from here. Kept incrementally: a load run has tens of
 * thousands of lines.
 */

/** Outcomes after which the function answered 204 (Pub/Sub acks). */
const HANDLED = new Set(['stored', 'duplicate', 'filtered', 'quarantined']);

export interface SubscriptionLog {
  /** Log lines with a message outcome (handled or retry). */
  deliveries: number;
  /** Count per outcome. */
  outcomes: Record<string, number>;
  /** Count of `retry` lines per reason code. */
  retryReasons: Record<string, number>;
  /** Deliveries per message id. */
  perMessage: Map<string, number>;
  /** `stored` answers per source id (more than one would be a duplicate write). */
  storedPerAlert: Map<string, number>;
  /** Source ids answered `stored` or `duplicate` (in Firestore), with the first such time. */
  inStore: Map<string, number>;
  /** Date.now() of the last `stored` line, and of the first one. */
  firstStoredAt: number;
  lastStoredAt: number;
  /** Date.now() of each handled / retry line (for "first success after X"). */
  handledTimes: number[];
  retryTimes: number[];
  /** Largest `latencyMs` of any line. */
  maxLatencyMs: number;
}

export interface IngestLog {
  onLog(entry: Record<string, unknown>): void;
  /** The record of one subscription (empty if it said nothing yet). */
  of(subscription: string): SubscriptionLog;
  /** Every line received, in order (with the receive time `at`). */
  readonly lines: readonly (Record<string, unknown> & {at: number})[];
}

function emptyLog(): SubscriptionLog {
  return {
    deliveries: 0,
    outcomes: {},
    retryReasons: {},
    perMessage: new Map(),
    storedPerAlert: new Map(),
    inStore: new Map(),
    firstStoredAt: 0,
    lastStoredAt: 0,
    handledTimes: [],
    retryTimes: [],
    maxLatencyMs: 0,
  };
}

const ids = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];

/**
 * A collector. `keepLines` keeps every raw line too (default false: a load
 * run would keep ~20,000 objects for nothing).
 */
export function createIngestLog(
  options: {keepLines?: boolean} = {},
): IngestLog {
  const bySub = new Map<string, SubscriptionLog>();
  const lines: (Record<string, unknown> & {at: number})[] = [];
  const of = (sub: string) => {
    let log = bySub.get(sub);
    if (!log) {
      log = emptyLog();
      bySub.set(sub, log);
    }
    return log;
  };
  return {
    lines,
    of,
    onLog(entry) {
      const at = Date.now();
      if (options.keepLines) lines.push({...entry, at});
      const outcome = entry.outcome;
      if (typeof outcome !== 'string' || typeof entry.subscription !== 'string')
        return;
      if (!HANDLED.has(outcome) && outcome !== 'retry') return;
      const log = of(entry.subscription);
      log.deliveries++;
      log.outcomes[outcome] = (log.outcomes[outcome] ?? 0) + 1;
      if (typeof entry.messageId === 'string') {
        log.perMessage.set(
          entry.messageId,
          (log.perMessage.get(entry.messageId) ?? 0) + 1,
        );
      }
      const latency = Number(entry.latencyMs);
      if (Number.isFinite(latency))
        log.maxLatencyMs = Math.max(log.maxLatencyMs, latency);
      if (outcome === 'retry') {
        const reason = String(entry.reason);
        log.retryReasons[reason] = (log.retryReasons[reason] ?? 0) + 1;
        log.retryTimes.push(at);
        return;
      }
      log.handledTimes.push(at);
      // Several alerts in one message: per-alert outcomes in `alerts`.
      const perAlert = Array.isArray(entry.alerts)
        ? (entry.alerts as {sourceId: string; outcome: string}[])
        : ids(entry.sourceId).map(sourceId => ({sourceId, outcome}));
      for (const a of perAlert) {
        if (a.outcome === 'stored') {
          log.storedPerAlert.set(
            a.sourceId,
            (log.storedPerAlert.get(a.sourceId) ?? 0) + 1,
          );
          log.firstStoredAt ||= at;
          log.lastStoredAt = at;
        }
        if (
          (a.outcome === 'stored' || a.outcome === 'duplicate') &&
          !log.inStore.has(a.sourceId)
        ) {
          log.inStore.set(a.sourceId, at);
        }
      }
    },
  };
}

/** Summary figures of one subscription's log: deliveries, 5xx, redeliveries. */
export function deliveryFigures(log: SubscriptionLog) {
  let redeliveries = 0;
  for (const n of log.perMessage.values()) redeliveries += n - 1;
  let storedTwice = 0;
  for (const n of log.storedPerAlert.values())
    storedTwice += Math.max(0, n - 1);
  return {
    deliveries: log.deliveries,
    answers5xx: log.outcomes.retry ?? 0,
    redeliveries,
    duplicateAnswers: log.outcomes.duplicate ?? 0,
    storedTwice,
    maxLatencyMs: Math.round(log.maxLatencyMs),
  };
}
