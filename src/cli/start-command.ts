/**
 * `pittgoogle start` (`npm start`): the local stack of src/local/stack.ts in
 * the foreground: prints the emulator hosts, a ready-to-paste query command,
 * one line per stored alert and a running summary. Ctrl-C stops everything.
 */

import {readFile} from 'node:fs/promises';

import {Command} from 'commander';

import {errorMessage, isAlertError, PermanentError} from '../errors';
import {MaybeFilter, parseFilter} from '../filter';
import {
  DEFAULT_PYTHON_FILTER,
  LocalStack,
  startLocalStack,
} from '../local/stack';
import {CliIo, RegisterCommand} from './command';

export interface StartOptions {
  samples?: string[];
  generate: string;
  rate: string;
  filter?: string;
  passAll?: boolean;
  generatedOnly?: boolean;
  loop: boolean;
  summaryEvery: string;
}

const HELP_AFTER = `
Starts the Pub/Sub and Firestore emulators on free ports, creates the topic
projects/ardent-cycling-243415/topics/ztf-loop, serves the ingest function with
the functions framework together with the manage function, creates the push
subscription ztf-loop through it (PUT /subscriptions/ztf-loop) with a stored
filter (default, in tom_pittgoogle's form: classtar_gt_lt=gt,
classtar_threshold=0.5, i.e. classtar >= 0.5), and replays packets at about one
a second, like ztf-loop: by default the real alert packets shipped in samples/
first (ZTF to ztf-loop; LSST to projects/pitt-alert-broker/topics/lsst-alerts,
whose subscription lsst-alerts stores every alert), then generated real-size
ZTF packets; --generated-only replays the generated ones alone, --samples the
files given alone. Prints one line per stored alert and a running summary;
Ctrl-C stops everything (no emulator or Java process is left behind).

Needs the Google Cloud CLI with both emulators and Java 17 (see the README).

Examples:
  $ npm start
  $ npm start -- --generated-only
  $ npm start -- --samples ../shared/samples/ztf
  $ npx pittgoogle start --pass-all --rate 5 --generate 100`;

function num(v: string, what: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new PermanentError(
      'bad-request',
      `--${what} must be a number >= ${min}, got "${v}"`,
    );
  return n;
}

export async function runStart(opts: StartOptions, io: CliIo): Promise<number> {
  const rate = num(opts.rate, 'rate', 0.01);
  const generate = num(opts.generate, 'generate', 1);
  const every = num(opts.summaryEvery, 'summary-every', 1);
  if (opts.generatedOnly && opts.samples?.length) {
    throw new PermanentError(
      'bad-request',
      '--generated-only and --samples exclude each other',
    );
  }
  let filter: MaybeFilter | undefined;
  let filterText = `classtar_gt_lt=${DEFAULT_PYTHON_FILTER.classtar_gt_lt}, classtar_threshold=${DEFAULT_PYTHON_FILTER.classtar_threshold} (tom_pittgoogle form)`;
  if (opts.passAll) {
    filter = null;
    filterText = 'none: every alert passes';
  } else if (opts.filter) {
    filter = parseFilter(await readFile(opts.filter, 'utf8'));
    filterText = opts.filter;
  }

  let interrupted = false;
  let stack: LocalStack | undefined;
  let resolveStop: () => void = () => {};
  const stopped = new Promise<void>(r => (resolveStop = r));
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      io.err(`${signal} again: exiting now`);
      process.exit(130);
    }
    interrupted = true;
    io.err(
      `${signal}: stopping the replay, the functions and the emulators...`,
    );
    resolveStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const t0 = Date.now();
  io.out(
    'starting the Pub/Sub and Firestore emulators and the ingest and manage functions...',
  );
  try {
    stack = await startLocalStack({
      samples: opts.samples,
      generatedOnly: opts.generatedOnly,
      generate,
      rate,
      filter,
      loop: opts.loop,
      onStored: a =>
        io.out(
          `stored ${a.objectId} ${a.sourceId} band ${a.band ?? '-'} mag ${a.mag?.toFixed(2) ?? '-'} classtar ${a.classtar?.toFixed(3) ?? 'null'}`,
        ),
      onWarning: m => io.err(`warning: ${m}`),
    });
  } catch (e) {
    io.err(
      `pittgoogle start: ${isAlertError(e) ? `${e.code}: ` : ''}${errorMessage(e)}`,
    );
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    return 1;
  }
  const s = stack;
  const lines = [
    `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    `  Pub/Sub emulator    ${s.pubsubHost} (process group ${s.pids.pubsub})`,
    `  Firestore emulator  ${s.firestoreHost} (process group ${s.pids.firestore})`,
    `  ingest function     ${s.functionUrl} (process group ${s.pids.ingest})`,
    `  manage function     ${s.manageUrl} (process group ${s.pids.manage})`,
    `  explorer            ${s.exploreUrl}`,
    `  topic               ${s.topic}`,
    `  subscription        ${s.subscription} in project ${s.projectId}: ${s.touchMessage}`,
    `  filter              ${filterText} → ${JSON.stringify(s.filter)}`,
    ...(s.lsst
      ? [
          `  subscription        ${s.lsst.subscription} in project ${s.projectId}: ${s.lsst.touchMessage}`,
          '  filter              none: every alert passes',
        ]
      : []),
    `  replay              ${s.replayDescription} at ${rate}/s${opts.loop ? ', looping' : ''}`,
    'Query the stored alerts from another terminal:',
    `  npx pittgoogle query --firestore-host ${s.firestoreHost} --project ${s.projectId} --subscription ${s.subscription}`,
    `  curl -s ${s.manageUrl}subscriptions/${s.subscription}     # the subscription, its filter and counts`,
    'Ctrl-C stops everything.',
  ];
  for (const l of lines) io.out(l);
  const summary = () => {
    const c = s.counts();
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    io.out(
      `[${secs}s] published ${c.published} stored ${c.stored} duplicate ${c.duplicate} filtered ${c.filtered} quarantined ${c.quarantined} retried ${c.retried}`,
    );
  };
  const timer = setInterval(summary, every * 1000);
  if (interrupted) resolveStop();
  if (!opts.loop) void s.replayDone.then(() => setTimeout(resolveStop, 3000));
  await stopped;
  clearInterval(timer);
  summary();
  await s.stop();
  io.out('stopped: emulators and functions are down');
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  return 0;
}

export const registerStartCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  program
    .command('start')
    .description(
      'run the whole job locally: emulators, ingest function, ztf-loop-like replay (npm start)',
    )
    .option(
      '--samples <path...>',
      'alert files or directories to replay (default: samples/, then generated packets)',
    )
    .option(
      '--generated-only',
      'replay generated packets only, not the real samples',
    )
    .option(
      '--generate <n>',
      'generated packets when no samples are given',
      '20',
    )
    .option('--rate <n>', 'messages per second', '1')
    .option(
      '--filter <file.json>',
      'stored filter of the subscription (default: classtar >= 0.5)',
    )
    .option('--pass-all', 'store every alert (no filter)')
    .option('--no-loop', 'publish each packet once, then stop')
    .option('--summary-every <seconds>', 'running summary interval', '10')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: StartOptions) => {
      try {
        io.setExitCode(await runStart(opts, io));
      } catch (e) {
        io.err(`pittgoogle start: ${errorMessage(e)}`);
        io.setExitCode(1);
      }
    });
};
