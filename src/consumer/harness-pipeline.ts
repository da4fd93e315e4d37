/**
 * The default callback of the pull harness: the ingest pipeline
 * (src/ingest/pipeline.ts: decode → the subscription's stored filter →
 * Firestore, quarantine on permanent failures) with its alert writes batched
 * through {@link createBatchingAlertStore}. Same decoder, filter cache,
 * document mapping and stores as the ingest function (src/functions/context.ts).
 */

import type {Firestore} from '@google-cloud/firestore';

import {createDecoder} from '../alert';
import type {Config} from '../config';
import {PermanentError} from '../errors';
import {
  alertDocumentMapper,
  firestoreQuarantine,
  firestoreSubscriptions,
  storedFilterSource,
} from '../ingest/firestore-ports';
import {
  AlertStorePort,
  createIngestPipeline,
  FilterSourcePort,
  IngestPipeline,
  QuarantinePort,
} from '../ingest/pipeline';
import type {Logger} from '../log';
import {AlertStoreOptions, createAlertStore} from '../store/alert-store';
import {BatchingStoreOptions, createBatchingAlertStore} from './batching-store';

/**
 * Bytes per commit. The documents' estimated sizes (Firestore's size rules)
 * are ~0.6 of what goes on the wire for alert documents; the emulator does not
 * answer commits above ~4 MiB (facts.md §7), and 3 MiB estimated (~5 MiB on
 * the wire) hung in the benchmark. 1 MiB (~55 alert documents) is safe.
 */
export const HARNESS_BATCH_BYTES = 1024 * 1024;

export interface HarnessPipeline {
  pipeline: IngestPipeline;
  /** Writes pending batched alerts (called before the subscription closes). */
  flush(): Promise<void>;
  readonly batches: number;
}

export interface HarnessPipelineOptions {
  batching?: BatchingStoreOptions;
  /** storeMany strategy and bounds. Default: 'batch' (WriteBatch commits bounded by bytes and count). */
  store?: AlertStoreOptions;
  /** Replaces the subscription's stored filter (e.g. the CLI's --filter). */
  filters?: FilterSourcePort;
  /** Replaces Firestore alert writes (e.g. the CLI's --jsonl). */
  alerts?: AlertStorePort;
  /** Replaces the Firestore quarantine. */
  quarantine?: QuarantinePort;
}

export function createHarnessPipeline(
  config: Config,
  firestore: Firestore | undefined,
  log: Logger,
  options: HarnessPipelineOptions = {},
): HarnessPipeline {
  let alerts = options.alerts;
  let flush = async () => {};
  let batchesOf = () => 0;
  if (!alerts) {
    if (!firestore)
      throw new PermanentError(
        'bad-config',
        'Firestore is needed to store alerts',
      );
    const store = createAlertStore(firestore, config, {
      mode: 'batch',
      maxBatchBytes: HARNESS_BATCH_BYTES,
      ...options.store,
    });
    const batching = createBatchingAlertStore(
      docs => store.storeMany(docs),
      alertDocumentMapper(config),
      {maxBytes: HARNESS_BATCH_BYTES, ...options.batching},
    );
    alerts = batching;
    flush = () => batching.flush();
    batchesOf = () => batching.batches;
  }
  let filters = options.filters;
  if (!filters) {
    if (!firestore)
      throw new PermanentError(
        'bad-config',
        'Firestore is needed for stored filters',
      );
    filters = storedFilterSource(
      firestoreSubscriptions(firestore, config),
      config,
      log,
    );
  }
  let quarantine = options.quarantine;
  if (!quarantine) {
    if (!firestore)
      throw new PermanentError(
        'bad-config',
        'Firestore is needed for the quarantine',
      );
    quarantine = firestoreQuarantine(firestore, config);
  }
  const pipeline = createIngestPipeline({
    decoder: createDecoder({schemaSource: config.schemaSource}),
    filters,
    alerts,
    quarantine,
    log,
  });
  return {
    pipeline,
    flush,
    get batches() {
      return batchesOf();
    },
  };
}
