/**
 * `pittgoogle query`: reads stored alerts from Firestore: one subscription's
 * alerts (or all subscriptions'), by objectId, time window (jd), magnitude
 * range and band; prints a table or JSON lines. Every read goes through
 * src/store/alert-query.ts (the storage layout's shards and document ids),
 * whose query shapes are the deployed index recipes (src/deploy/recipes.ts).
 */

import {Command} from 'commander';
import type {Firestore, QueryDocumentSnapshot} from '@google-cloud/firestore';

import {Config, loadConfig} from '../config';
import {AlertError, errorMessage, isAlertError} from '../errors';
import {firestoreClient} from '../local/clients';
import {
  AlertCursor,
  listAlerts,
  listAllAlerts,
  objectAlerts,
  windowAlerts,
} from '../store/alert-query';
import {CliIo, RegisterCommand} from './command';

export interface QueryOptions {
  subscription?: string;
  allSubscriptions?: boolean;
  objectId?: string;
  since?: string;
  until?: string;
  magMin?: string;
  magMax?: string;
  band?: string;
  limit: string;
  json?: boolean;
  project?: string;
  firestoreHost?: string;
}

const HELP_AFTER = `
Time bounds are ISO dates/times (UTC) or Julian dates of the observation;
--since is inclusive, --until exclusive. Results are ordered by jd (with a
time window or an objectId), else newest first by publish time. Every query
reads each shard of the storage layout and merges the answers; in Google
Cloud it needs the composite indexes that \`deploy\` creates (Firestore's
error names any missing one). --all-subscriptions combines with --object-id
only (or lists the newest alerts of every subscription); with --object-id the
other filters apply to that object's alerts.

Output: a table (objectId, sourceId, band, mag, jd, time, ra, dec, classtar),
or with --json one JSON object per alert (the stored fields without record,
histories, cutouts and tom).

Examples:
  $ pittgoogle query --firestore-host 127.0.0.1:8080 --subscription ztf-loop
  $ pittgoogle query --object-id ZTF18abfkwnk --all-subscriptions --json
  $ pittgoogle query --since 2025-03-01 --until 2025-03-02 --mag-max 18.5 --band r`;

const JD_UNIX_EPOCH = 2440587.5;

/** An ISO date/time or a Julian date → JD. */
export function toJd(v: string, what: string): number {
  const n = Number(v);
  if (v.trim() !== '' && Number.isFinite(n) && n > 2_000_000) return n;
  const t = Date.parse(
    /[zZ]|[+-]\d\d:?\d\d$/.test(v) || !/T/.test(v) ? v : v + 'Z',
  );
  if (Number.isNaN(t)) {
    throw new AlertError(
      'permanent',
      'bad-request',
      `--${what} must be an ISO date/time or a Julian date, got "${v}"`,
    );
  }
  return t / 86_400_000 + JD_UNIX_EPOCH;
}

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) {
    throw new AlertError(
      'permanent',
      'bad-request',
      `--${what} must be a number, got "${v}"`,
    );
  }
  return n;
}

const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'];

function jdIso(jd: unknown): string {
  return typeof jd === 'number'
    ? new Date((jd - JD_UNIX_EPOCH) * 86_400_000).toISOString().slice(0, 19) +
        'Z'
    : '-';
}

function plain(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === 'record' || k === 'histories' || k === 'tom') continue;
    const ts = v as {toDate?: () => Date};
    out[k] = typeof ts?.toDate === 'function' ? ts.toDate().toISOString() : v;
  }
  return out;
}

export function formatTable(rows: Record<string, unknown>[]): string[] {
  const cols = [
    'objectId',
    'sourceId',
    'band',
    'mag',
    'jd',
    'time',
    'ra',
    'dec',
    'classtar',
  ];
  const fmt = (r: Record<string, unknown>, c: string): string => {
    const v = c === 'time' ? jdIso(r.jd) : r[c];
    if (v === null || v === undefined) return '-';
    if (typeof v === 'number') {
      return c === 'jd'
        ? v.toFixed(5)
        : c === 'ra' || c === 'dec'
          ? v.toFixed(5)
          : v.toFixed(3);
    }
    return String(v);
  };
  const cells = rows.map(r => cols.map(c => fmt(r, c)));
  const widths = cols.map((c, i) =>
    Math.max(c.length, ...cells.map(row => row[i].length)),
  );
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cols), ...cells.map(line)];
}

export async function runQuery(opts: QueryOptions, io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const limit = num(opts.limit, 'limit')!;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new AlertError(
      'permanent',
      'bad-request',
      '--limit must be an integer in [1, 10000]',
    );
  }
  const band = opts.band?.toLowerCase();
  if (band !== undefined && !BANDS.includes(band)) {
    throw new AlertError(
      'permanent',
      'bad-request',
      `--band must be one of ${BANDS.join(', ')}`,
    );
  }
  const since =
    opts.since === undefined ? undefined : toJd(opts.since, 'since');
  const until =
    opts.until === undefined ? undefined : toJd(opts.until, 'until');
  const magMin = num(opts.magMin, 'mag-min');
  const magMax = num(opts.magMax, 'mag-max');
  if (
    opts.allSubscriptions &&
    !opts.objectId &&
    (band ||
      since !== undefined ||
      until !== undefined ||
      magMin !== undefined ||
      magMax !== undefined)
  ) {
    throw new AlertError(
      'permanent',
      'bad-request',
      '--all-subscriptions combines with --object-id only (or alone: the newest alerts of every subscription)',
    );
  }
  const db = firestoreClient({
    projectId: opts.project ?? config.projectId,
    host: opts.firestoreHost,
    env: io.env,
  });
  try {
    const docs = await read(db, config, {
      subscription: opts.allSubscriptions
        ? undefined
        : (opts.subscription ?? 'ztf-loop'),
      objectId: opts.objectId,
      band,
      since,
      until,
      magMin,
      magMax,
      limit,
    });
    const rows = docs.map(d => plain(d.data()));
    if (opts.json) for (const r of rows) io.out(JSON.stringify(r));
    else {
      for (const line of formatTable(rows)) io.out(line);
      io.err(`${rows.length} alert${rows.length === 1 ? '' : 's'}`);
    }
    return 0;
  } finally {
    await db.terminate();
  }
}

/** The top-level fields of an alert document (not record, histories, tom). */
const SUMMARY_FIELDS = [
  'objectId',
  'sourceId',
  'subscription',
  'survey',
  'format',
  'schemaVersion',
  'band',
  'mag',
  'magErr',
  'jd',
  'mjd',
  'ra',
  'dec',
  'classtar',
  'nPrevious',
  'publishTime',
  'ingestTime',
  'messageId',
  'shard',
  'cutouts',
  'cutoutsStored',
  'trimmed',
  'expireAt',
  'attributes',
];

interface ReadQuery {
  /** undefined: every subscription. */
  subscription: string | undefined;
  objectId?: string;
  band?: string;
  since?: number;
  until?: number;
  magMin?: number;
  magMax?: number;
  limit: number;
}

/** The alerts the options ask for, through src/store/alert-query.ts. */
async function read(
  db: Firestore,
  config: Config,
  q: ReadQuery,
): Promise<QueryDocumentSnapshot[]> {
  const select = SUMMARY_FIELDS;
  if (q.objectId) {
    // One object's light curve: every filter applies to it in memory.
    const all = await objectAlerts(db, config, q.objectId, {select});
    const inRange = (v: unknown, min?: number, max?: number, open = false) =>
      (min === undefined && max === undefined) ||
      (typeof v === 'number' &&
        (min === undefined || v >= min) &&
        (max === undefined || (open ? v < max : v <= max)));
    return all
      .filter(
        d =>
          (q.subscription === undefined ||
            d.get('subscription') === q.subscription) &&
          (q.band === undefined || d.get('band') === q.band) &&
          inRange(d.get('jd'), q.since, q.until, true) &&
          inRange(d.get('mag'), q.magMin, q.magMax),
      )
      .slice(0, q.limit);
  }
  if (q.subscription === undefined) {
    return listAllAlerts(db, config, {limit: q.limit, select});
  }
  if (q.since !== undefined || q.until !== undefined) {
    return windowAlerts(db, config, {
      subscription: q.subscription,
      jdMin: q.since,
      jdMax: q.until,
      band: q.band,
      magMin: q.magMin,
      magMax: q.magMax,
      limit: q.limit,
      select,
    });
  }
  // Newest first, in pages of at most 500 (listAlerts' bound).
  const out: QueryDocumentSnapshot[] = [];
  let after: AlertCursor | null = null;
  while (out.length < q.limit) {
    const page: {docs: QueryDocumentSnapshot[]; next: AlertCursor | null} =
      await listAlerts(db, config, {
        subscription: q.subscription,
        limit: Math.min(500, q.limit - out.length),
        after,
        band: q.band,
        magMin: q.magMin,
        magMax: q.magMax,
        select,
      });
    out.push(...page.docs);
    if (!page.next) break;
    after = page.next;
  }
  return out;
}

export const registerQueryCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  program
    .command('query')
    .description(
      'query stored alerts in Firestore: by objectId, time window, magnitude range, band',
    )
    .option(
      '--subscription <name>',
      'the subscription whose alerts to read',
      'ztf-loop',
    )
    .option(
      '--all-subscriptions',
      "read every subscription's alerts (collection group)",
    )
    .option('--object-id <id>', 'one object (e.g. ZTF18abfkwnk)')
    .option('--since <iso|jd>', 'observed at or after (jd)')
    .option('--until <iso|jd>', 'observed before (jd)')
    .option('--mag-min <mag>', 'magnitude at least')
    .option('--mag-max <mag>', 'magnitude at most')
    .option('--band <band>', 'u, g, r, i, z or y (ZTF fid 1/2/3 = g/r/i)')
    .option('--limit <n>', 'most alerts to print', '20')
    .option('--json', 'one JSON object per alert')
    .option(
      '--project <id>',
      'your Google Cloud project (default: env GOOGLE_CLOUD_PROJECT)',
    )
    .option(
      '--firestore-host <host:port>',
      'Firestore emulator (default: env FIRESTORE_EMULATOR_HOST)',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: QueryOptions) => {
      try {
        io.setExitCode(await runQuery(opts, io));
      } catch (e) {
        io.err(
          `pittgoogle query: ${isAlertError(e) ? `${e.code}: ` : ''}${errorMessage(e)}`,
        );
        io.setExitCode(1);
      }
    });
};
