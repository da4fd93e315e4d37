/**
 * The whole job on one machine (`npm start`): both emulators on free ports,
 * the Pitt-Google-like topic `ztf-loop` in project `ardent-cycling-243415`,
 * the ingest and management functions served by the real functions
 * framework, a push subscription with a stored default filter created
 * through the management API (PUT /subscriptions/ztf-loop), and a replay of real-size
 * packets at about one a second, like `ztf-loop`: the real packets shipped in
 * samples/ first, then generated ones (src/local/replay-plan.ts). Real LSST
 * packets go to `projects/pitt-alert-broker/topics/lsst-alerts`, with a push
 * subscription `lsst-alerts` that stores every alert (the ingest function
 * reads their writer schemas from samples/schemas/lsst). Stored alerts are watched
 * with a Firestore listener; the function's JSON log lines give the running
 * outcome counts. `stop()` ends everything: the replay, the function's
 * process group and the emulators' (no Java process left behind).
 */

import * as path from 'node:path';

import type {Firestore} from '@google-cloud/firestore';
import type {PubSub, Topic} from '@google-cloud/pubsub';

import {LOCAL_PROJECT, PITTGOOGLE_PROJECT} from '../defaults';
import {errorMessage, PermanentError, TransientError} from '../errors';
import {fromPythonForm, MaybeFilter, validateFilter} from '../filter';
import {firestoreClient, pubsubClient} from './clients';
import {RunningEmulators, startEmulators} from './emulators';
import {FunctionServer, startFunctionServer} from './function-server';
import {findFreePort, LOOPBACK} from './ports';
import {Packet, replay} from './replay';
import {planReplay, ReplayPlan} from './replay-plan';
import {schemasDir} from './samples';

export const STACK_PROJECT = LOCAL_PROJECT;
export const LOOP_NAME = 'ztf-loop';
export const LSST_PROJECT = 'pitt-alert-broker';
export const LSST_NAME = 'lsst-alerts';

/** tom_pittgoogle's form: classtar >= 0.5 (point-like sources); null classtar fails. */
export const DEFAULT_PYTHON_FILTER = {
  classtar_threshold: 0.5,
  classtar_gt_lt: 'gt',
} as const;

export interface StoredAlertEvent {
  subscription: string;
  objectId: string;
  sourceId: string;
  band: string | null;
  mag: number | null;
  classtar: number | null;
  publishTime: string | null;
}

export interface StackCounts {
  published: number;
  stored: number;
  duplicate: number;
  filtered: number;
  quarantined: number;
  retried: number;
}

export interface StackOptions {
  /** Directory (or files) of packets to replay; default: samples/, then generated packets. */
  samples?: string[];
  /** Generated packets when no samples are given. Default 20. */
  generate?: number;
  /** Replay generated packets only (not the real samples). */
  generatedOnly?: boolean;
  /** Messages per second. Default 1 (like ztf-loop). */
  rate?: number;
  /** Stored filter of the subscription (validated). Default: classtar >= 0.5. */
  filter?: MaybeFilter;
  /** Start again after the last packet. Default true. */
  loop?: boolean;
  onStored?: (e: StoredAlertEvent) => void;
  onWarning?: (message: string) => void;
}

export interface LocalStack {
  pubsubHost: string;
  firestoreHost: string;
  functionUrl: string;
  projectId: string;
  topic: string;
  subscription: string;
  filter: MaybeFilter;
  /** Base URL of the management function (the subscriptions REST API). */
  manageUrl: string;
  /** What the management function answered to the touch of the subscription. */
  touchMessage: string;
  /** Base URL of the explore function (the explorer pages and the read API under /api/). */
  exploreUrl: string;
  /** The LSST topic and subscription, when there are LSST packets to replay. */
  lsst: {topic: string; subscription: string; touchMessage: string} | null;
  /** What is replayed, in words. */
  replayDescription: string;
  /** Process groups (emulators, functions), for checks that nothing is left. */
  pids: {
    pubsub: number;
    firestore: number;
    ingest: number;
    manage: number;
    explore: number;
  };
  counts(): StackCounts;
  /** Resolves when the replay ended (never with loop, until stop()). */
  replayDone: Promise<number>;
  stop(): Promise<void>;
}

export interface LoopSubscriptionContext {
  /** Base URL of the manage function. */
  manageUrl: string;
  name: string;
  /** The touch body's filter part: tom_pittgoogle's form, or {filter}. */
  body: Record<string, unknown>;
}

/**
 * Creates (touches) the push subscription to the ingest function, with its
 * stored filter, through the management function: PUT /subscriptions/NAME.
 * Returns the function's message.
 */
export async function createLoopSubscription(
  ctx: LoopSubscriptionContext,
): Promise<string> {
  const url = new URL(
    `subscriptions/${encodeURIComponent(ctx.name)}`,
    ctx.manageUrl,
  );
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'PUT',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(ctx.body),
    });
  } catch (e) {
    throw new TransientError(
      'emulator-failed',
      `manage function unreachable at ${url}: ${errorMessage(e)}`,
    );
  }
  const text = await res.text();
  if (res.status !== 200 && res.status !== 201) {
    throw new TransientError(
      'emulator-failed',
      `PUT ${url.pathname} answered ${res.status}: ${text.slice(0, 500)}`,
    );
  }
  return (JSON.parse(text) as {message?: string}).message ?? '';
}

export async function startLocalStack(
  opts: StackOptions = {},
): Promise<LocalStack> {
  const filter =
    opts.filter === undefined
      ? fromPythonForm(DEFAULT_PYTHON_FILTER)
      : validateFilter(opts.filter);
  const planP = planReplay({
    samples: opts.samples,
    generate: opts.generate,
    generatedOnly: opts.generatedOnly,
    schemaSource: path.join(schemasDir(), 'lsst'),
    onWarning: opts.onWarning,
  });
  const [emulators, plan] = await Promise.all([
    startEmulators({pubsub: true, firestore: true}),
    planP.catch(e => {
      throw new PermanentError(
        'bad-request',
        `cannot read the samples: ${errorMessage(e)}`,
      );
    }),
  ]);
  if (!plan.ztf.length && !plan.lsst.length) {
    await emulators.stop();
    throw new PermanentError(
      'bad-request',
      `no packets found in ${opts.samples?.join(', ')}`,
    );
  }
  const cleanups: Array<() => Promise<unknown>> = [() => emulators.stop()];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      await c().catch(e => opts.onWarning?.(`stopping: ${errorMessage(e)}`));
    }
  };
  try {
    return await wire(emulators, plan, filter, opts, cleanups, stopAll);
  } catch (e) {
    await stopAll();
    throw e;
  }
}

async function wire(
  emulators: RunningEmulators,
  plan: ReplayPlan,
  filter: MaybeFilter,
  opts: StackOptions,
  cleanups: Array<() => Promise<unknown>>,
  stopAll: () => Promise<void>,
): Promise<LocalStack> {
  const pubsubHost = emulators.pubsub!.host;
  const firestoreHost = emulators.firestore!.host;
  const counts: StackCounts = {
    published: 0,
    stored: 0,
    duplicate: 0,
    filtered: 0,
    quarantined: 0,
    retried: 0,
  };
  const onLogEntry = (entry: {outcome?: unknown}) => {
    {
      switch (entry.outcome) {
        case 'stored':
        case 'duplicate':
        case 'filtered':
        case 'quarantined':
          counts[entry.outcome]++;
          break;
        case 'retry':
          counts.retried++;
          break;
      }
    }
  };
  const env = {
    FIRESTORE_EMULATOR_HOST: firestoreHost,
    PUBSUB_EMULATOR_HOST: pubsubHost,
    GOOGLE_CLOUD_PROJECT: STACK_PROJECT,
    PITTGOOGLE_PROJECT,
    LOG_LEVEL: 'INFO',
    FILTER_CACHE_TTL_MS: '2000',
    SCHEMA_SOURCE: path.join(schemasDir(), 'lsst'),
  };
  const ingestPort = await findFreePort();
  const functionUrl = `http://${LOOPBACK}:${ingestPort}/`;
  const started = await Promise.allSettled([
    startFunctionServer({
      target: 'ingest',
      env,
      port: ingestPort,
      onLog: onLogEntry,
    }),
    // Locally: no ID-token check (AUTH_ALLOWED_EMAILS unset), no OIDC push auth.
    startFunctionServer({
      target: 'manage',
      env: {...env, INGEST_URL: functionUrl, ACK_DEADLINE_SECONDS: '60'},
    }),
    // The explorer and its read API, over the same Firestore.
    startFunctionServer({target: 'explore', env}),
  ]);
  for (const r of started) {
    if (r.status === 'fulfilled') cleanups.push(() => r.value.stop());
  }
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const [ingest, manage, explore] = started.map(
    r => (r as PromiseFulfilledResult<FunctionServer>).value,
  );
  const manageUrl = `http://${LOOPBACK}:${manage.port}/`;

  const pubsub = pubsubClient({projectId: STACK_PROJECT, host: pubsubHost});
  const firestore = firestoreClient({
    projectId: STACK_PROJECT,
    host: firestoreHost,
  });
  cleanups.push(() =>
    Promise.allSettled([pubsub.close(), firestore.terminate()]),
  );
  const topicName = `projects/${PITTGOOGLE_PROJECT}/topics/${LOOP_NAME}`;
  const topic = await ensureTopic(pubsub, topicName);
  const touchMessage = await createLoopSubscription({
    manageUrl,
    name: LOOP_NAME,
    body: opts.filter === undefined ? {...DEFAULT_PYTHON_FILTER} : {filter},
  });
  let lsst: LocalStack['lsst'] = null;
  if (plan.lsst.length) {
    const lsstTopic = `projects/${LSST_PROJECT}/topics/${LSST_NAME}`;
    await ensureTopic(pubsub, lsstTopic);
    lsst = {
      topic: lsstTopic,
      subscription: LSST_NAME,
      touchMessage: await createLoopSubscription({
        manageUrl,
        name: LSST_NAME,
        body: {topic: lsstTopic, filter: null},
      }),
    };
  }

  for (const sub of lsst ? [LOOP_NAME, LSST_NAME] : [LOOP_NAME]) {
    const unsubscribe = watchStored(firestore, sub, opts);
    cleanups.push(async () => unsubscribe());
  }

  const ac = new AbortController();
  const publish = (t: Topic, packets: Packet[], loop: boolean) =>
    replay(t, packets, {
      rate: opts.rate ?? 1,
      loop,
      signal: ac.signal,
      onPublished: () => counts.published++,
    });
  const replayDone = Promise.all([
    publish(topic, plan.ztf, opts.loop ?? true),
    // Real LSST packets once (they share one diaSourceId: one is stored).
    lsst ? publish(pubsub.topic(lsst.topic), plan.lsst, false) : 0,
  ])
    .then(([a, b]) => a + b)
    .catch(e => {
      opts.onWarning?.(`publishing stopped: ${errorMessage(e)}`);
      return counts.published;
    });
  cleanups.push(async () => {
    ac.abort();
    await replayDone;
  });

  return {
    pubsubHost,
    firestoreHost,
    functionUrl,
    projectId: STACK_PROJECT,
    topic: topicName,
    subscription: LOOP_NAME,
    filter,
    manageUrl,
    exploreUrl: `http://${LOOPBACK}:${explore.port}/`,
    touchMessage,
    lsst,
    replayDescription: plan.description,
    pids: {
      pubsub: emulators.pubsub!.pid,
      firestore: emulators.firestore!.pid,
      ingest: ingest.pid,
      manage: manage.pid,
      explore: explore.pid,
    },
    counts: () => ({...counts}),
    replayDone,
    stop: stopAll,
  };
}

async function ensureTopic(pubsub: PubSub, name: string): Promise<Topic> {
  const topic = pubsub.topic(name);
  const [exists] = await topic.exists();
  if (!exists) await topic.create();
  return topic;
}

/** Reports each alert stored under `subscription` (a Firestore listener). */
function watchStored(
  firestore: Firestore,
  subscription: string,
  opts: StackOptions,
): () => void {
  return firestore
    .collection('subscriptions')
    .doc(subscription)
    .collection('alerts')
    .onSnapshot(
      snap => {
        for (const change of snap.docChanges()) {
          if (change.type !== 'added') continue;
          const d = change.doc.data();
          const pt = d.publishTime as {toDate?: () => Date} | null;
          opts.onStored?.({
            subscription,
            objectId: String(d.objectId),
            sourceId: String(d.sourceId ?? change.doc.id),
            band: (d.band as string | null) ?? null,
            mag: (d.mag as number | null) ?? null,
            classtar: (d.classtar as number | null) ?? null,
            publishTime: pt?.toDate ? pt.toDate().toISOString() : null,
          });
        }
      },
      e =>
        opts.onWarning?.(
          `alert listener (${subscription}): ${errorMessage(e)}`,
        ),
    );
}
