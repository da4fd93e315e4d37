/**
 * `pittgoogle publish`: publishes alert packets (files or directories, or
 * generated real-size ZTF packets) to a topic, like Pitt-Google's `ztf-loop`:
 * with its attributes, at `--rate N` per second, optionally looping.
 */

import {Command} from 'commander';

import {loadConfig} from '../config';
import {PITTGOOGLE_PROJECT} from '../defaults';
import {AlertError, errorMessage, isAlertError} from '../errors';
import {pubsubClient} from '../local/clients';
import {generatedPackets, packetsFromPaths, replay} from '../local/replay';
import {CliIo, RegisterCommand} from './command';

export interface PublishOptions {
  topic: string;
  topicProject?: string;
  generate?: string;
  seed: string;
  rate?: string;
  loop?: boolean;
  createTopic?: boolean;
  pubsubHost?: string;
  schemas?: string;
  progress: boolean;
}

const HELP_AFTER = `
Each message carries the packet as data and Pitt-Google's attributes: objectId
and candid (read from the packet), kafka.topic, kafka.partition, kafka.offset
and kafka.timestamp. Without paths, --generate N real-size ZTF-like packets
(~70 KB, deterministic by --seed; every fifth has a null classtar).

The topic is projects/TOPIC_PROJECT/topics/TOPIC (default: the Pitt-Google
project, as a local emulator stand-in for ztf-loop). Progress on stderr once a
second; Ctrl-C stops.

Examples:
  $ pittgoogle publish --pubsub-host 127.0.0.1:8085 --create-topic ../shared/samples/ztf
  $ pittgoogle publish --generate 1000 --rate 200
  $ pittgoogle publish --rate 1 --loop ../shared/samples/ztf     # like ztf-loop`;

export async function runPublish(
  paths: string[],
  opts: PublishOptions,
  io: CliIo,
): Promise<number> {
  const config = loadConfig(io.env);
  const project = opts.topicProject ?? config.pittGoogleProject;
  const rate = opts.rate === undefined ? 0 : Number(opts.rate);
  if (!Number.isFinite(rate) || rate < 0) {
    throw new AlertError(
      'permanent',
      'bad-request',
      `--rate must be a number >= 0, got "${opts.rate}"`,
    );
  }
  let packets;
  if (paths.length) {
    if (opts.generate)
      throw new AlertError(
        'permanent',
        'bad-request',
        'give paths or --generate, not both',
      );
    packets = await packetsFromPaths(paths, {
      schemaSource: opts.schemas ?? config.schemaSource,
      onWarning: m => io.err(m),
    });
  } else {
    const n = Number(opts.generate ?? '');
    if (!Number.isInteger(n) || n < 1) {
      throw new AlertError(
        'permanent',
        'bad-request',
        'give packet files/directories, or --generate N (N >= 1)',
      );
    }
    packets = generatedPackets(n, Number(opts.seed) || 1);
  }
  if (!packets.length) {
    io.err('no packets found');
    return 1;
  }
  const pubsub = pubsubClient({
    projectId: project,
    host: opts.pubsubHost,
    env: io.env,
  });
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  let published = 0;
  const timer = opts.progress
    ? setInterval(() => {
        const s = (Date.now() - t0) / 1000;
        io.err(
          `${s.toFixed(1)}s published ${published} (${Math.round(published / s)}/s)`,
        );
      }, 1000)
    : undefined;
  try {
    const topic = pubsub.topic(`projects/${project}/topics/${opts.topic}`);
    if (opts.createTopic) {
      const [exists] = await topic.exists();
      if (!exists) await topic.create();
    }
    published = await replay(topic, packets, {
      rate,
      loop: opts.loop,
      signal: ac.signal,
      onPublished: (_p, _id, n) => (published = n),
    });
    const s = (Date.now() - t0) / 1000;
    io.err(
      `published ${published} message${published === 1 ? '' : 's'} to ${topic.name} in ${s.toFixed(2)} s`,
    );
    return 0;
  } finally {
    if (timer) clearInterval(timer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await pubsub.close();
  }
}

export const registerPublishCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  program
    .command('publish')
    .description(
      'publish alert packets (files, directories or generated) to a topic, like ztf-loop',
    )
    .argument('[path...]', 'alert files, or directories (searched recursively)')
    .option('--topic <name>', 'topic name', 'ztf-loop')
    .option(
      '--topic-project <id>',
      `project of the topic (default ${PITTGOOGLE_PROJECT})`,
    )
    .option('--generate <n>', 'publish N generated real-size ZTF packets')
    .option('--seed <n>', 'seed of the generated packets', '1')
    .option('--rate <n>', 'messages per second (default: as fast as possible)')
    .option('--loop', 'start again after the last packet, until Ctrl-C')
    .option('--create-topic', 'create the topic when it is missing (emulator)')
    .option(
      '--schemas <dir|url>',
      'Confluent wire schemas, to read ids of LSST packets',
    )
    .option(
      '--pubsub-host <host:port>',
      'Pub/Sub emulator (default: env PUBSUB_EMULATOR_HOST)',
    )
    .option('--no-progress', 'no progress lines on stderr')
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], opts: PublishOptions) => {
      try {
        io.setExitCode(await runPublish(paths, opts, io));
      } catch (e) {
        io.err(
          `pittgoogle publish: ${isAlertError(e) ? `${e.code}: ` : ''}${errorMessage(e)}`,
        );
        io.setExitCode(1);
      }
    });
};
