/**
 * `ConsumerStream`: tom_pittgoogle's `ConsumerStreamPython` in TypeScript.
 *
 *   const stream = new ConsumerStream({pubsub, subscription: 'ztf-loop', pipeline});
 *   await stream.touch();
 *   const {results, summary} = await stream.streamAlerts({
 *     sendData: 'alert_dict', userCallback: (alert) => ({ack: true}),
 *     returnList: true, flowConfigs: {maxResults: 10, timeout: 30},
 *   });
 *
 * Without a `userCallback`, each message goes through the ingest pipeline
 * (decode → the subscription's stored filter → Firestore, writes batched):
 * stored and duplicate alerts are counted and collected as `{objectId,
 * sourceId, outcome}`; filtered and quarantined ones are acked, not counted.
 */

import type {PubSub, Subscription} from '@google-cloud/pubsub';

import {createDecoder, Decoder} from '../alert';
import type {Alert} from '../alert/model';
import {PITTGOOGLE_PROJECT} from '../defaults';
import {AlertError, errorMessage} from '../errors';
import type {FirestorePipeline} from '../ingest/firestore-pipeline';
import type {MessageResult, QuarantinePort} from '../ingest/pipeline';
import type {Logger} from '../log';
import {
  BoundedRunOptions,
  BoundedRunResult,
  Handled,
  MessageHandler,
  MessageSource,
  SourceMessage,
  runBounded,
} from './bounded-run';
import {interpretCallbackResult, type CallbackResult} from './callback-result';
import {FlowConfigs, resolveFlowConfigs} from './flow-config';
import {
  deletePullSubscription,
  touchPullSubscription,
} from './pull-subscription';

export type SendData = 'alert_dict' | 'alert_bytes' | 'full_msg';

/**
 * The metadata dict stream_alerts gives a callback with includeMetadata, in
 * tom_pittgoogle's snake_case keys (the alert's own Pub/Sub metadata is
 * MessageMetadata in src/alert/model.ts).
 */
export interface CallbackMetadata {
  message_id: string;
  publish_time: string | undefined;
  attributes: Record<string, string>;
  delivery_attempt: number | undefined;
  'kafka.timestamp'?: string;
}

/** What the callback gets with includeMetadata (not for 'full_msg', which carries its metadata). */
export interface WithMetadata<T> {
  alert: T;
  metadata: CallbackMetadata;
}

export type UserCallback<R = unknown, K = Record<string, unknown>> = (
  msg: unknown,
  userKwargs: K,
) => CallbackResult<R> | Promise<CallbackResult<R>>;

export interface StreamAlertsOptions<R = unknown, K = Record<string, unknown>> {
  /** What the callback gets: the decoded Alert (default), the payload bytes, or the whole message. */
  sendData?: SendData;
  /** Wrap alert_dict / alert_bytes as {alert, metadata}. */
  includeMetadata?: boolean;
  /** Default: the ingest pipeline into Firestore (needs `pipeline`). */
  userCallback?: UserCallback<R, K>;
  /** Collect the counted results. Default false. */
  returnList?: boolean;
  flowConfigs?: FlowConfigs;
  userKwargs?: K;
  /** Aborting stops the run gracefully (Ctrl-C). */
  signal?: AbortSignal;
  onProgress?: BoundedRunOptions['onProgress'];
  /** Called after each message was settled (with its pipeline result, if any). */
  onMessage?: (
    m: SourceMessage,
    acked: boolean,
    pipelineResult?: MessageResult,
  ) => void;
}

export interface ConsumerStreamOptions {
  pubsub: PubSub;
  /** Subscription name in the user's project (= Pitt-Google topic name). Default 'ztf-loop'. */
  subscription?: string;
  /** Project of the Pitt-Google topics. Default PITTGOOGLE_PROJECT (src/defaults.ts). */
  pittGoogleProject?: string;
  /** The default callback: the ingest pipeline, its writes batched (createFirestorePipeline). */
  pipeline?: Pick<FirestorePipeline, 'pipeline' | 'flush'>;
  /** Where a permanently undecodable message is recorded when a user callback asks for alert_dict. */
  quarantine?: QuarantinePort;
  decoder?: Decoder;
  log?: Logger;
  /** Test hook: the message source (default: the Pub/Sub subscription). */
  source?: () => MessageSource;
}

const SEND_DATA: readonly SendData[] = [
  'alert_dict',
  'alert_bytes',
  'full_msg',
];

function metadataOf(m: SourceMessage): CallbackMetadata {
  const md: CallbackMetadata = {
    message_id: m.id,
    publish_time: m.publishTime?.toISOString(),
    attributes: {...m.attributes},
    delivery_attempt: m.deliveryAttempt,
  };
  const ts = m.attributes['kafka.timestamp'];
  if (ts !== undefined) md['kafka.timestamp'] = ts;
  return md;
}

export class ConsumerStream {
  readonly subscriptionName: string;
  readonly pittGoogleProject: string;
  private readonly decoder: Decoder;

  constructor(private readonly opts: ConsumerStreamOptions) {
    this.subscriptionName = opts.subscription ?? 'ztf-loop';
    this.pittGoogleProject = opts.pittGoogleProject ?? PITTGOOGLE_PROJECT;
    this.decoder = opts.decoder ?? createDecoder();
  }

  /** Gets the pull subscription, creating it on the Pitt-Google topic if missing. */
  async touch(): Promise<{created: boolean}> {
    const {created} = await touchPullSubscription(this.opts.pubsub, {
      name: this.subscriptionName,
      topicProject: this.pittGoogleProject,
    });
    return {created};
  }

  /** Deletes the subscription (false when it did not exist). */
  delete(): Promise<boolean> {
    return deletePullSubscription(this.opts.pubsub, this.subscriptionName);
  }

  /**
   * Pulls until a bound is reached (maxResults counted results, or `timeout`
   * seconds without a message); see the module comment.
   */
  async streamAlerts<R = unknown, K = Record<string, unknown>>(
    options: StreamAlertsOptions<R, K> = {},
  ): Promise<BoundedRunResult<R>> {
    const flow = resolveFlowConfigs(options.flowConfigs);
    const sendData = options.sendData ?? 'alert_dict';
    if (!SEND_DATA.includes(sendData)) {
      throw new AlertError(
        'permanent',
        'bad-flow-config',
        `sendData must be one of ${SEND_DATA.join(', ')}, got ${JSON.stringify(sendData)}`,
      );
    }
    if (!options.userCallback && !this.opts.pipeline) {
      throw new AlertError(
        'permanent',
        'bad-config',
        'streamAlerts without a userCallback needs the default pipeline (ConsumerStreamOptions.pipeline)',
      );
    }
    const handler = options.userCallback
      ? this.userHandler<R, K>(options, sendData)
      : this.pipelineHandler<R>(options);
    const source = this.opts.source
      ? this.opts.source()
      : this.subscribe(flow.maxBacklog);
    return runBounded(source, handler, {
      flow,
      returnList: options.returnList ?? false,
      signal: options.signal,
      onProgress: options.onProgress,
      beforeClose: () => this.opts.pipeline?.flush() ?? Promise.resolve(),
    });
  }

  private subscribe(maxBacklog: number): MessageSource {
    const sub: Subscription = this.opts.pubsub.subscription(
      this.subscriptionName,
      {
        flowControl: {maxMessages: maxBacklog, allowExcessMessages: false},
        // Nack what the library holds when closed (our own stop has already
        // settled every message it handed to us).
        closeOptions: {behavior: 'NACK'},
      },
    );
    return sub as unknown as MessageSource;
  }

  private pipelineHandler<R>(
    options: Pick<StreamAlertsOptions<R>, 'onMessage'>,
  ): MessageHandler<R> {
    const pipeline = this.opts.pipeline!.pipeline;
    const subscription = this.subscriptionName;
    return async m => {
      let result: MessageResult | undefined;
      try {
        result = await pipeline.processMessage({
          subscription,
          messageId: m.id,
          publishTime: m.publishTime?.toISOString(),
          attributes: m.attributes,
          data: m.data,
          deliveryAttempt: m.deliveryAttempt,
        });
      } catch (e) {
        options.onMessage?.(m, false);
        throw e;
      }
      const h: Handled<R> = {
        ack: true,
        results: result.alerts
          .filter(a => a.outcome !== 'filtered')
          .map(a => a as unknown as R),
        stored: result.alerts.filter(a => a.outcome === 'stored').length,
        filtered: result.alerts.filter(a => a.outcome === 'filtered').length,
        duplicates: result.alerts.filter(a => a.outcome === 'duplicate').length,
        quarantined: result.outcome === 'quarantined' ? 1 : 0,
      };
      options.onMessage?.(m, true, result);
      return h;
    };
  }

  private userHandler<R, K>(
    options: StreamAlertsOptions<R, K>,
    sendData: SendData,
  ): MessageHandler<R> {
    const callback = options.userCallback!;
    const kwargs = (options.userKwargs ?? {}) as K;
    const log = this.opts.log;
    const wrap = (data: unknown, m: SourceMessage) =>
      options.includeMetadata ? {alert: data, metadata: metadataOf(m)} : data;

    return async m => {
      let items: unknown[];
      if (sendData === 'full_msg') items = [m];
      else if (sendData === 'alert_bytes') items = [wrap(m.data, m)];
      else {
        let alerts: Alert[];
        try {
          alerts = await this.decoder.decode(m.data);
        } catch (e) {
          if (e instanceof AlertError && e.permanent) {
            // Never redeliver an undecodable message forever: record it and ack.
            log?.warn('quarantined', {
              messageId: m.id,
              reason: e.code,
              error: e.message,
            });
            await this.opts.quarantine?.quarantine({
              subscription: this.subscriptionName,
              messageId: m.id,
              publishTime: m.publishTime?.toISOString(),
              attributes: m.attributes,
              reason: e.code,
              message: e.message,
              data: m.data,
            });
            options.onMessage?.(m, true);
            return {ack: true, results: [], quarantined: 1};
          }
          throw e;
        }
        items = alerts.map(a => wrap(a, m));
      }
      const results: R[] = [];
      for (const item of items) {
        let d;
        try {
          d = interpretCallbackResult<R>(await callback(item, kwargs), item);
        } catch (e) {
          log?.error('userCallback failed; the message will be redelivered', {
            messageId: m.id,
            error: errorMessage(e),
          });
          options.onMessage?.(m, false);
          throw e;
        }
        if (!d.ack) {
          options.onMessage?.(m, false);
          return {ack: false, results: []};
        }
        if (d.counted) results.push(d.value as R);
      }
      options.onMessage?.(m, true);
      return {ack: true, results};
    };
  }
}
