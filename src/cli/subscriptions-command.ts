/**
 * `pittgoogle subscriptions touch|get|list|delete|seek`: the manage API's
 * operations from the command line, calling the subscription manager
 * directly (no HTTP) with the same validation. Configuration comes from the
 * same environment variables as the manage function (GOOGLE_CLOUD_PROJECT,
 * INGEST_URL, PUSH_SERVICE_ACCOUNT, ...; PUBSUB_EMULATOR_HOST and
 * FIRESTORE_EMULATOR_HOST select the emulators). Output: the JSON answer of
 * the corresponding API call on stdout; errors on stderr with exit code 1.
 */

import {readFile} from 'node:fs/promises';

import {loadConfig} from '../config';
import {errorMessage, isAlertError} from '../errors';
import {createFirestore} from '../functions/context';
import {validateResourceId} from '../ingest/envelope';
import {createManageContext} from '../functions/manage';
import {createLogger} from '../log';
import {
  parsePurge,
  parseSeekBody,
  parseTouchBody,
  SubscriptionManager,
} from '../subscriptions';
import {CliIo, RegisterCommand} from './command';

type Run = (
  m: SubscriptionManager,
  pittGoogleProject: string,
) => Promise<unknown>;

async function run(io: CliIo, what: string, op: Run): Promise<void> {
  let close = async () => undefined as unknown;
  try {
    const config = loadConfig(io.env);
    const log = createLogger({
      minSeverity: 'WARNING',
      sink: line => io.err(line),
    });
    const firestore = createFirestore(config);
    const ctx = createManageContext(config, firestore, log);
    close = () => firestore.terminate();
    const result = await op(ctx.manager, config.pittGoogleProject);
    io.out(JSON.stringify(result, null, 2));
  } catch (e) {
    io.err(
      `pittgoogle subscriptions ${what}: ${isAlertError(e) ? `${e.code}: ${e.message}` : errorMessage(e)}`,
    );
    io.setExitCode(1);
  } finally {
    await close().catch(() => undefined);
  }
}

interface TouchOptions {
  topic?: string;
  filter?: string;
  classtarThreshold?: string;
  classtarGtLt?: string;
  ackDeadline?: string;
  retainAcked?: boolean;
  expirationDays?: string;
  retentionDays?: string;
}

/** --retention-days: a number of days, or "forever" (null). */
function retentionDays(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'forever') return null;
  return int(v, '--retention-days');
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer`);
  return n;
}

export const registerSubscriptionsCommand: RegisterCommand = (program, io) => {
  const subs = program
    .command('subscriptions')
    .description(
      "manage the push subscriptions that deliver Pitt-Google streams to the ingest function (the manage API's operations, run locally)",
    );

  subs
    .command('touch')
    .description(
      'get or create the subscription NAME (topic: NAME in the Pitt-Google project unless --topic)',
    )
    .argument('<name>')
    .option('--topic <topic>', 'topic name or projects/P/topics/T')
    .option('--filter <file>', 'stored filter, a JSON file')
    .option('--classtar-threshold <x>', "tom_pittgoogle's threshold (0..1)")
    .option('--classtar-gt-lt <dir>', 'lt or gt (with --classtar-threshold)')
    .option('--ack-deadline <s>', 'ack deadline, seconds (10..600)')
    .option('--retain-acked', 'retain acknowledged messages (for seek)')
    .option(
      '--expiration-days <d>',
      'days of inactivity before expiry (1..365)',
    )
    .option(
      '--retention-days <d>',
      'days its stored alerts are kept (1..36500), or "forever" (the default for a new subscription); applies to alerts stored from then on',
    )
    .action((name: string, o: TouchOptions) =>
      run(io, 'touch', async (m, pg) => {
        let body: Record<string, unknown>;
        if (o.classtarThreshold !== undefined || o.classtarGtLt !== undefined) {
          if (o.filter || o.topic) {
            throw new Error(
              '--classtar-* (the tom_pittgoogle form) cannot be combined with --filter or --topic',
            );
          }
          if (o.retentionDays !== undefined) {
            throw new Error(
              '--retention-days cannot be combined with the tom_pittgoogle form (--classtar-*)',
            );
          }
          body = {
            subscription_name: name,
            classtar_threshold: o.classtarThreshold,
            classtar_gt_lt: o.classtarGtLt,
          };
        } else {
          body = {
            topic: o.topic,
            filter: o.filter
              ? JSON.parse(await readFile(o.filter, 'utf8'))
              : undefined,
            ackDeadlineSeconds: int(o.ackDeadline, '--ack-deadline'),
            retainAckedMessages: o.retainAcked || undefined,
            expirationDays: int(o.expirationDays, '--expiration-days'),
            retentionDays: retentionDays(o.retentionDays),
          };
          for (const k of Object.keys(body)) {
            if (body[k] === undefined) delete body[k];
          }
        }
        return m.touch(parseTouchBody(name, body, pg));
      }),
    );

  subs
    .command('get')
    .description(
      'configuration, filter and counts of stored / quarantined alerts',
    )
    .argument('<name>')
    .action((name: string) =>
      run(io, 'get', m => m.get(validateResourceId(name))),
    );

  subs
    .command('list')
    .description('every managed subscription')
    .action(() =>
      run(io, 'list', async m => ({subscriptions: await m.list()})),
    );

  subs
    .command('delete')
    .description(
      'delete the subscription and its stored filter (alerts stay unless --purge)',
    )
    .argument('<name>')
    .option('--purge', 'also delete its stored alerts and quarantine')
    .action((name: string, o: {purge?: boolean}) =>
      run(io, 'delete', m =>
        m.delete(validateResourceId(name), {
          purge: parsePurge(o.purge ? 'true' : undefined),
        }),
      ),
    );

  subs
    .command('seek')
    .description('replay retained messages published since TIME (ISO-8601)')
    .argument('<name>')
    .argument('<time>')
    .action((name: string, time: string) =>
      run(io, 'seek', m =>
        m.seek(validateResourceId(name), parseSeekBody({time})),
      ),
    );
};
