/**
 * `pittgoogle fetch`: a bounded streaming pull from a subscription into
 * Firestore (the ingest pipeline: decode → the stored filter → Firestore,
 * writes batched) or into a JSON-lines file, with progress on stderr and a
 * summary table at the end. Ctrl-C stops gracefully (in-flight messages
 * finish and are acked; the rest are nacked).
 */

import {createWriteStream, WriteStream} from 'node:fs';
import {readFile} from 'node:fs/promises';

import {Command} from 'commander';

import {alertSummary} from '../alert';
import {loadConfig} from '../config';
import {
  ConsumerStream,
  progressLine,
  resolveFlowConfigs,
  RunSummary,
  summaryTable,
} from '../consumer';
import {PITTGOOGLE_PROJECT} from '../defaults';
import {AlertError, errorMessage, isAlertError} from '../errors';
import {compileFilter, parseFilter} from '../filter';
import {createFirestorePipeline} from '../ingest/firestore-pipeline';
import type {AlertStorePort, QuarantinePort} from '../ingest/pipeline';
import {createLogger} from '../log';
import {firestoreClient, pubsubClient} from '../local/clients';
import {CliIo, RegisterCommand} from './command';

export interface FetchOptions {
  subscription: string;
  maxResults: string;
  timeout: string;
  maxBacklog?: string;
  jsonl?: string;
  filter?: string;
  project?: string;
  pittgoogleProject?: string;
  pubsubHost?: string;
  firestoreHost?: string;
  touch: boolean;
  json?: boolean;
  progress: boolean;
}

const HELP_AFTER = `
Pulls from the subscription (created on the Pitt-Google topic of the same name
when missing, unless --no-touch) until --max-results alerts were counted or
nothing arrived for --timeout seconds. Counted: stored and duplicate alerts;
filtered-out and quarantined messages are acked without counting. Messages
beyond the bound are nacked (redelivered later), never left leased.

Default destination: Firestore, subscriptions/NAME/alerts/SOURCE_ID, through the
same pipeline as the ingest function (the subscription's stored filter,
idempotent writes, quarantine). --jsonl FILE writes one JSON line per passing
alert instead (filter: --filter FILE, else everything passes).

Progress: one line a second on stderr. Summary: a table on stdout (--json: one
JSON object). Exit code 1 when the pull failed or messages errored.

Examples:
  $ pittgoogle fetch --subscription ztf-loop --max-results 100 --timeout 30
  $ PUBSUB_EMULATOR_HOST=127.0.0.1:8085 FIRESTORE_EMULATOR_HOST=127.0.0.1:8080 \\
      pittgoogle fetch --max-results none --timeout 10
  $ pittgoogle fetch --jsonl alerts.jsonl --filter my-filter.json --max-results 50`;

function bound(v: string, what: string, int: boolean): number | null {
  if (/^(none|null)$/i.test(v)) return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) {
    throw new AlertError(
      'permanent',
      'bad-flow-config',
      `--${what} must be a positive ${int ? 'integer' : 'number'} or "none", got "${v}"`,
    );
  }
  return n;
}

function jsonlPorts(file: string, io: CliIo) {
  const out: WriteStream = createWriteStream(file, {flags: 'a'});
  const seen = new Set<string>();
  const alerts: AlertStorePort = {
    store: async (alert, meta) => {
      const key = `${meta.subscription}/${alert.sourceId}`;
      if (seen.has(key)) return 'duplicate';
      seen.add(key);
      const line = JSON.stringify({
        ...alertSummary(alert),
        subscription: meta.subscription,
        messageId: meta.messageId,
        publishTime: meta.publishTime,
        attributes: meta.attributes,
      });
      await new Promise<void>((resolve, reject) =>
        out.write(line + '\n', e => (e ? reject(e) : resolve())),
      );
      return 'stored';
    },
  };
  const quarantine: QuarantinePort = {
    quarantine: async r => {
      io.err(`quarantined message ${r.messageId}: ${r.reason}: ${r.message}`);
    },
  };
  const close = () => new Promise<void>(r => out.end(r));
  return {alerts, quarantine, close};
}

export async function runFetch(opts: FetchOptions, io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const projectId = opts.project ?? config.projectId;
  const log = createLogger({
    minSeverity: 'WARNING',
    sink: line => io.err(line),
  });
  const flowConfigs = {
    maxResults: bound(opts.maxResults, 'max-results', true),
    timeout: bound(opts.timeout, 'timeout', false),
    ...(opts.maxBacklog
      ? {maxBacklog: bound(opts.maxBacklog, 'max-backlog', true) ?? undefined}
      : {}),
  };
  // Refuse bad bounds before touching anything.
  resolveFlowConfigs(flowConfigs);
  const filterPort = opts.filter
    ? compileFilter(parseFilter(await readFile(opts.filter, 'utf8')))
    : undefined;
  const pubsub = pubsubClient({
    projectId,
    host: opts.pubsubHost,
    env: io.env,
  });
  const jsonl = opts.jsonl ? jsonlPorts(opts.jsonl, io) : undefined;
  const firestore = jsonl
    ? undefined
    : firestoreClient({projectId, host: opts.firestoreHost, env: io.env});
  const pipeline = createFirestorePipeline(
    firestore ? {firestore, writes: 'batched'} : undefined,
    config,
    log,
    {
      filters: jsonl
        ? {filterFor: () => filterPort ?? compileFilter(null)}
        : filterPort
          ? {filterFor: () => filterPort}
          : undefined,
      alerts: jsonl?.alerts,
      quarantine: jsonl?.quarantine,
    },
  );
  const stream = new ConsumerStream({
    pubsub,
    subscription: opts.subscription,
    pittGoogleProject: opts.pittgoogleProject ?? config.pittGoogleProject,
    pipeline,
    log,
  });
  // The client libraries leave a rejected promise behind when there are no
  // credentials at all: report it (once) instead of crashing with a trace.
  let reported = false;
  const onUnhandled = (e: unknown) => {
    if (!reported) io.err(`pittgoogle fetch: ${errorMessage(e)}`);
    reported = true;
    io.setExitCode(1);
  };
  process.on('unhandledRejection', onUnhandled);
  const ac = new AbortController();
  const onSignal = () => {
    io.err(
      'stopping: finishing the messages in flight (Ctrl-C again to force)',
    );
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let summary: RunSummary | undefined;
  let code = 0;
  try {
    if (opts.touch) {
      const {created} = await stream.touch();
      if (created) {
        io.err(
          `created subscription ${opts.subscription} on projects/${stream.pittGoogleProject}/topics/${opts.subscription}`,
        );
      }
    }
    const r = await stream.streamAlerts({
      flowConfigs,
      signal: ac.signal,
      onProgress: opts.progress
        ? (c, ms) => io.err(progressLine(c, ms))
        : undefined,
    });
    summary = r.summary;
  } catch (e) {
    summary = isAlertError(e)
      ? (e.details.summary as RunSummary | undefined)
      : undefined;
    io.err(
      `pittgoogle fetch: ${isAlertError(e) ? `${e.kind} ${e.code}: ` : ''}${errorMessage(e)}`,
    );
    reported = true;
    code = 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await jsonl?.close();
    await Promise.allSettled([pubsub.close(), firestore?.terminate()]);
    // Late rejections of the client libraries still land in onUnhandled.
    setTimeout(
      () => process.removeListener('unhandledRejection', onUnhandled),
      1000,
    ).unref();
  }
  if (summary) {
    if (opts.json) io.out(JSON.stringify(summary));
    else for (const line of summaryTable(summary)) io.out(line);
    if (summary.errors > 0) code = 1;
  }
  return code;
}

export const registerFetchCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  program
    .command('fetch')
    .description(
      'bounded streaming pull into Firestore (or a JSON-lines file), with progress and a summary',
    )
    .option(
      '--subscription <name>',
      'subscription (= Pitt-Google topic) name',
      'ztf-loop',
    )
    .option('--max-results <n|none>', 'stop after N counted alerts', '10')
    .option('--timeout <seconds|none>', 'stop after this idle time', '30')
    .option(
      '--max-backlog <n>',
      'messages leased at once (default min(1000, max-results))',
    )
    .option(
      '--jsonl <file>',
      'append passing alerts to this JSON-lines file instead of Firestore',
    )
    .option('--filter <file.json>', 'use this filter instead of the stored one')
    .option(
      '--project <id>',
      'your Google Cloud project (default: env GOOGLE_CLOUD_PROJECT)',
    )
    .option(
      '--pittgoogle-project <id>',
      `project of the Pitt-Google topics (default ${PITTGOOGLE_PROJECT})`,
    )
    .option(
      '--pubsub-host <host:port>',
      'Pub/Sub emulator (default: env PUBSUB_EMULATOR_HOST)',
    )
    .option(
      '--firestore-host <host:port>',
      'Firestore emulator (default: env FIRESTORE_EMULATOR_HOST)',
    )
    .option('--no-touch', 'do not create the subscription when it is missing')
    .option('--no-progress', 'no progress lines on stderr')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: FetchOptions) => {
      try {
        io.setExitCode(await runFetch(opts, io));
      } catch (e) {
        io.err(`pittgoogle fetch: ${errorMessage(e)}`);
        io.setExitCode(1);
      }
    });
};
