/**
 * The ingest pipeline for one pushed message: decode → the subscription's
 * stored filter → Firestore. Pure logic over injected ports, shared by the
 * push function and the pull harness. It never answers HTTP: it returns an
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

export type AlertOutcome = 'stored' | 'duplicate' | 'filtered';
export type MessageOutcome = AlertOutcome | 'quarantined';

/** Decodes a payload into alerts (a container may hold several). */
export interface DecoderPort {
  decode(bytes: Uint8Array): Promise<Alert[]> | Alert[];
}

/** A subscription's compiled filter. */
export interface FilterPort {
  matches(alert: Alert, attributes: Record<string, string>): boolean;
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
}

/** Writes one alert idempotently (document id = source id). */
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
   * Handles one message. Resolves with the outcome (the message may be
   * acknowledged); rejects with a TransientError when it must be redelivered.
   */
  async function processMessage(msg: PushedMessage): Promise<MessageResult> {
    const started = now();
    const fields: Record<string, unknown> = {
      messageId: msg.messageId,
      subscription: msg.subscription,
      deliveryAttempt: msg.deliveryAttempt,
    };
    try {
      let alerts: Alert[];
      let result: MessageResult;
      try {
        if (msg.data.length === 0) {
          throw new PermanentError('empty-payload', 'message has no data');
        }
        alerts = await deps.decoder.decode(msg.data);
      } catch (e) {
        const err = classify(e);
        if (!err.permanent) throw err;
        result = await quarantine(msg, err);
        deps.log.warn('quarantined', {
          ...fields,
          outcome: 'quarantined',
          reason: err.code,
          error: err.message,
          latencyMs: round(now() - started),
        });
        return result;
      }
      const filter = await deps.filters.filterFor(msg.subscription);
      const meta: StoreMeta = {
        subscription: msg.subscription,
        messageId: msg.messageId,
        publishTime: msg.publishTime,
        attributes: msg.attributes,
      };
      const outcomes = await Promise.all(
        alerts.map(async alert => {
          const outcome: AlertOutcome = filter.matches(alert, msg.attributes)
            ? await deps.alerts.store(alert, meta)
            : 'filtered';
          return {objectId: alert.objectId, sourceId: alert.sourceId, outcome};
        }),
      );
      result = {
        outcome: summarize(outcomes.map(o => o.outcome)),
        alerts: outcomes,
      };
      deps.log.info(result.outcome, {
        ...fields,
        outcome: result.outcome,
        objectId:
          outcomes.length === 1
            ? outcomes[0].objectId
            : outcomes.map(o => o.objectId),
        sourceId:
          outcomes.length === 1
            ? outcomes[0].sourceId
            : outcomes.map(o => o.sourceId),
        alerts: outcomes.length > 1 ? outcomes : undefined,
        latencyMs: round(now() - started),
      });
      return result;
    } catch (e) {
      const err = classify(e);
      if (err.permanent) {
        // A permanent failure after decoding (e.g. a document Firestore refuses).
        const result = await quarantine(msg, err);
        deps.log.warn('quarantined', {
          ...fields,
          outcome: 'quarantined',
          reason: err.code,
          error: err.message,
          latencyMs: round(now() - started),
        });
        return result;
      }
      deps.log.error('retry', {
        ...fields,
        outcome: 'retry',
        reason: err.code,
        error: err.message,
        latencyMs: round(now() - started),
      });
      throw err;
    }
  }

  return {processMessage};
}

export type IngestPipeline = ReturnType<typeof createIngestPipeline>;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
