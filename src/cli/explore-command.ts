/**
 * `pittgoogle explore [--port N]`: serves the explorer and its read API
 * (src/explore/) on this machine, against any Firestore: the emulator
 * (`--firestore-host`, or FIRESTORE_EMULATOR_HOST) or Google Cloud's
 * (Application Default Credentials, project from --project or
 * GOOGLE_CLOUD_PROJECT). It binds the loopback interface by default: it
 * shows your data with your credentials, to nobody else.
 */

import {createServer, Server} from 'node:http';

import {Command} from 'commander';

import {loadConfig} from '../config';
import {errorMessage} from '../errors';
import {firestoreClient} from '../local/clients';
import {LOOPBACK} from '../local/ports';
import {createLogger} from '../log';
import {CliIo, RegisterCommand} from './command';

export interface ExploreOptions {
  port: string;
  host: string;
  project?: string;
  firestoreHost?: string;
}

const HELP_AFTER = `
Serves the explorer pages at / and the read API at /api/ (docs/read-api.md)
until Ctrl-C. The Firestore is the emulator given by --firestore-host (or
FIRESTORE_EMULATOR_HOST), else Google Cloud's with Application Default
Credentials (gcloud auth application-default login); the collection names
come from the usual environment (SUBSCRIPTIONS_COLLECTION, ...). It reads only.

Examples:
  $ pittgoogle explore --firestore-host 127.0.0.1:8080 --project local-project
  $ GOOGLE_CLOUD_PROJECT=my-project pittgoogle explore --port 8090`;

function port(v: string): number {
  const n = Number(v);
  if (!/^[0-9]{1,5}$/.test(v) || n > 65535) {
    throw new Error(`--port must be an integer in 0..65535, got "${v}"`);
  }
  return n;
}

/** Starts the server; resolves with it once it listens. */
export async function startExploreServer(
  opts: ExploreOptions,
  io: CliIo,
): Promise<{server: Server; url: string; close(): Promise<void>}> {
  const env = {
    ...io.env,
    ...(opts.project ? {GOOGLE_CLOUD_PROJECT: opts.project} : {}),
  };
  const config = loadConfig(env);
  const log = createLogger({
    minSeverity: config.logLevel,
    sink: line => io.err(line),
    fields: {function: 'explore'},
  });
  const firestore = firestoreClient({
    projectId: config.projectId,
    host: opts.firestoreHost,
    env,
  });
  // Loaded here: the other commands never pay for the explorer's modules.
  const {createExploreContext} =
    require('../explore/context') as typeof import('../explore/context');
  const {handler} = createExploreContext(config, firestore, log);
  const server = createServer((req, res) => {
    handler(req, res).catch(e => {
      log.error('explore request failed', {error: errorMessage(e)});
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port(opts.port), opts.host, () => resolve());
  });
  const address = server.address();
  const p = typeof address === 'object' && address ? address.port : 0;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    url: `http://${host}:${p}/`,
    close: async () => {
      await new Promise<void>(r => server.close(() => r()));
      await firestore.terminate();
    },
  };
}

export async function runExplore(
  opts: ExploreOptions,
  io: CliIo,
): Promise<number> {
  const running = await startExploreServer(opts, io);
  io.out(`  explorer            ${running.url}`);
  io.out(`  read API            ${running.url}api/subscriptions`);
  io.out('Ctrl-C stops it.');
  await new Promise<void>(resolve => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  running.server.closeAllConnections();
  await running.close();
  return 0;
}

export const registerExploreCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  program
    .command('explore')
    .description(
      'serve the explorer and its read API against a Firestore (emulator or real)',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on', LOOPBACK)
    .option(
      '--project <id>',
      'Google Cloud project (default from the environment)',
    )
    .option(
      '--firestore-host <host:port>',
      'Firestore emulator (default FIRESTORE_EMULATOR_HOST, else Google Cloud)',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: ExploreOptions) => {
      try {
        io.setExitCode(await runExplore(opts, io));
      } catch (e) {
        io.err(`pittgoogle explore: ${errorMessage(e)}`);
        io.setExitCode(1);
      }
    });
};
