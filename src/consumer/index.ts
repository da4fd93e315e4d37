/** The bounded streaming-pull consumer (tom_pittgoogle's ConsumerStreamPython). */

export {ConsumerStream} from './consumer-stream';
export type {
  CallbackMetadata,
  ConsumerStreamOptions,
  SendData,
  StreamAlertsOptions,
  UserCallback,
  WithMetadata,
} from './consumer-stream';
export {runBounded} from './bounded-run';
export type {
  BoundedRunResult,
  Handled,
  MessageHandler,
  MessageSource,
  SourceMessage,
} from './bounded-run';
export {interpretCallbackResult} from './callback-result';
export type {CallbackResult, Decision} from './callback-result';
export {
  resolveFlowConfigs,
  DEFAULT_MAX_RESULTS,
  DEFAULT_TIMEOUT_S,
} from './flow-config';
export type {FlowConfigs, ResolvedFlowConfigs} from './flow-config';
export {
  deletePullSubscription,
  touchPullSubscription,
  topicPath,
} from './pull-subscription';
export {percentile, progressLine, summaryTable} from './run-summary';
export type {RunSummary, StopReason} from './run-summary';
