/**
 * The ingest pipeline for one pushed message: decode → the subscription's
 * stored filter → Firestore. Pure logic over injected ports, shared by the
 * push function and the pull consumer. It never answers HTTP: it returns an
 * outcome, or throws a TransientError for the caller to turn into a retry.
 *
 * Outcomes: every alert of the message is `stored`, `duplicate` (already
 * stored: a redelivery) or `filtered`; a permanent failure is recorded in the
 * quarantine and the message counts as handled (`quarantined`).
 */

import type {Alert} from '../alert/model';
import {
  AlertError,
  PermanentError,
  TransientError,
  errorMessage,
} from '../errors';
import type {Logger} from '../log';
import type {PushedMessage} from './envelope';
import {createPassRates} from './pass-rate';

export type AlertOutcome = 'stored' | 'duplicate' | 'filtered';
export type MessageOutcome = AlertOutcome | 'quarantined';

/** Decodes a payload into alerts (a container may hold several). */
export interface DecoderPort {
  decode(bytes: Uint8Array): Promise<Alert[]> | Alert[];
  /**
   * The alerts without their histories and cutouts where the format allows
   * (`complete: false`), else in full (../alert/decode.ts). Optional: without
   * it every message is decoded in full before the filter decides.
   */
  decodeSummary?(
    bytes: Uint8Array,
  ): Promise<{alerts: Alert[]; complete: boolean}>;
}

/** A subscription's compiled filter (and, when stored, its retention). */
export interface FilterPort {
  matches(alert: Alert, attributes: Record<string, string>): boolean;
  /** Days its alerts are kept; null or absent: forever. */
  readonly retentionDays?: number | null;
  /**
   * False when the filter reads nothing a summary decode leaves out, so it
   * may decide before the full decode (../filter/compile.ts). Absent: it
   * decides on full alerts.
   */
  readonly readsFullRecord?: boolean;
  /** The stored filter; null lets every alert pass. */
  readonly filter?: unknown;
}

/** Gives the (cached) filter of a subscription; may throw TransientError. */
export interface FilterSourcePort {
  filterFor(subscription: string): Promise<FilterPort> | FilterPort;
}

export interface StoreMeta {
  subscription: string;
  messageId?: string;
  publishTime?: string;
  attributes: Record<string, string>;
  /** The subscription's retention (documents get `expireAt`); null: forever. */
  retentionDays?: number | null;
}

/** Writes one alert idempotently (document id from the source id: src/store/layout.ts). */
export interface AlertStorePort {
  store(alert: Alert, meta: StoreMeta): Promise<'stored' | 'duplicate'>;
}

export interface QuarantineRecord {
  subscription: string;
  messageId?: string;
  publishTime?: string;
  attributes: Record<string, string>;
  reason: string;
  message: string;
  data: Buffer;
}

/** Records a permanent failure once (idempotent by message id). */
export interface QuarantinePort {
  quarantine(record: QuarantineRecord): Promise<unknown>;
}

export interface PipelineDeps {
  decoder: DecoderPort;
  filters: FilterSourcePort;
  alerts: AlertStorePort;
  quarantine: QuarantinePort;
  log: Logger;
  /** Clock for latency measurements (ms); injectable for tests. */
  now?: () => number;
}

export interface MessageResult {
  outcome: MessageOutcome;
  /** Per alert of the message (empty when quarantined). */
  alerts: {objectId: string; sourceId: string; outcome: AlertOutcome}[];
  reason?: string;
}

/** The outcome that best describes a message with several alerts. */
function summarize(outcomes: AlertOutcome[]): AlertOutcome {
  if (outcomes.includes('stored')) return 'stored';
  if (outcomes.includes('duplicate')) return 'duplicate';
  return 'filtered';
}

/** Any error that is not an AlertError is treated as transient: retrying is safe (writes are idempotent). */
function classify(e: unknown): AlertError {
  if (e instanceof AlertError) return e;
  return new TransientError(
    'internal',
    `unexpected error: ${errorMessage(e)}`,
    {},
    {cause: e},
  );
}

export function createIngestPipeline(deps: PipelineDeps) {
  const now = deps.now ?? (() => performance.now());
  const passRates = createPassRates<FilterPort>();

  async function quarantine(
    msg: PushedMessage,
    error: AlertError,
  ): Promise<MessageResult> {
    await deps.quarantine.quarantine({
      subscription: msg.subscription,
      messageId: msg.messageId,
      publishTime: msg.publishTime,
      attributes: msg.attributes,
      reason: error.code,
      message: error.message,
      data: msg.data,
    });
    return {outcome: 'quarantined', alerts: [], reason: error.code};
  }

  /**
   * The message's alerts and which of them pass. A filter that may decide
   * on a summary (and is not the pass-everything filter) does while it
   * rejects most alerts (./pass-rate.ts): a rejected alert's histories and
   * cutouts are skipped, never built, and a passing one is decoded in full
   * once more. The filter is loaded first so that the decode can be chosen
   * by it.
   */
  async function decideAlerts(
    msg: PushedMessage,
    filter: FilterPort,
  ): Promise<{alerts: Alert[]; passes: boolean[]}> {
    const {decoder} = deps;
    const attributes = msg.attributes;
    const early =
      decoder.decodeSummary !== undefined &&
      filter.readsFullRecord === false &&
      filter.filter !== null;
    if (!early || !passRates.decideFirst(filter)) {
      const alerts = await decoder.decode(msg.data);
      const passes = alerts.map(a => filter.matches(a, attributes));
      if (early) passRates.record(filter, passes);
      return {alerts, passes};
    }
    const summary = await decoder.decodeSummary!(msg.data);
    const passes = summary.alerts.map(a => filter.matches(a, attributes));
    passRates.record(filter, passes);
    if (summary.complete || !passes.includes(true)) {
      return {alerts: summary.alerts, passes};
    }
    const alerts = await decoder.decode(msg.data);
    if (alerts.length !== passes.length) {
      throw new PermanentError(
        'bad-avro',
        `the summary decode found ${passes.length} alerts, the full one ${alerts.length}`,
      );
    }
    return {alerts, passes};
  }

  async function decodeFilterStore(msg: PushedMessage): Promise<MessageResult> {
    if (msg.data.length === 0) {
      throw new PermanentError('empty-payload', 'message has no data');
    }
    const filter = await deps.filters.filterFor(msg.subscription);
    const {alerts, passes} = await decideAlerts(msg, filter);
    const meta: StoreMeta = {
      subscription: msg.subscription,
      messageId: msg.messageId,
      publishTime: msg.publishTime,
      attributes: msg.attributes,
      retentionDays: filter.retentionDays ?? null,
    };
    // The ids are kept, not the decoded alert: nothing holds its record
    // (thousands of small objects for a ZTF alert with its histories) while
    // the write is in flight, so it dies young (bench:push, GC).
    const outcomes = await Promise.all(
      alerts.map((alert, i) => {
        const {objectId, sourceId} = alert;
        const stored = passes[i]
          ? deps.alerts.store(alert, meta)
          : ('filtered' as const);
        return Promise.resolve(stored).then(outcome => ({
          objectId,
          sourceId,
          outcome: outcome as AlertOutcome,
        }));
      }),
    );
    return {outcome: summarize(outcomes.map(o => o.outcome)), alerts: outcomes};
  }

  /**
   * Handles one message. Resolves with the outcome (the message may be
   * acknowledged); rejects with a TransientError when it must be redelivered.
   * A permanent failure anywhere (undecodable, a document Firestore refuses)
   * is quarantined; one log line per message either way.
   */
  async function processMessage(msg: PushedMessage): Promise<MessageResult> {
    const started = now();
    const fields = () => ({
      messageId: msg.messageId,
      subscription: msg.subscription,
      deliveryAttempt: msg.deliveryAttempt,
      latencyMs: round(now() - started),
    });
    let err: AlertError;
    try {
      const result = await decodeFilterStore(msg);
      const {alerts} = result;
      deps.log.info(result.outcome, {
        ...fields(),
        outcome: result.outcome,
        objectId:
          alerts.length === 1
            ? alerts[0].objectId
            : alerts.map(o => o.objectId),
        sourceId:
          alerts.length === 1
            ? alerts[0].sourceId
            : alerts.map(o => o.sourceId),
        alerts: alerts.length > 1 ? alerts : undefined,
      });
      return result;
    } catch (e) {
      err = classify(e);
    }
    if (err.permanent) {
      try {
        const result = await quarantine(msg, err);
        deps.log.warn('quarantined', {
          ...fields(),
          outcome: 'quarantined',
          reason: err.code,
          error: err.message,
        });
        return result;
      } catch (qe) {
        err = classify(qe); // could not record it: retry rather than lose it
      }
    }
    deps.log.error('retry', {
      ...fields(),
      outcome: 'retry',
      reason: err.code,
      error: err.message,
    });
    throw err;
  }

  return {processMessage};
}

export type IngestPipeline = ReturnType<typeof createIngestPipeline>;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
