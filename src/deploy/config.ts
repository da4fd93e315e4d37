/**
 * The deployment's configuration: every input of `deploy/deploy.sh` and
 * `deploy/teardown.sh`, validated in one place before any command runs.
 * Values end up as gcloud arguments, resource names and function environment
 * variables, so each one is checked against the rules of the resource it
 * names; nothing unvalidated reaches a command line.
 */

import {PITTGOOGLE_PROJECT} from '../defaults';
import {PermanentError} from '../errors';
import {parseSeverity, Severity} from '../log';
import {CUTOUTS_STORAGE, CutoutsStorage} from '../config';

/** Sizing and scaling of one function (Cloud Run service underneath). */
export interface FunctionSettings {
  /** Cloud Functions resource name (also the Cloud Run service name). */
  name: string;
  /** Memory, gcloud syntax: `512Mi`, `1Gi`. */
  memory: string;
  /** vCPUs; concurrency above 1 needs at least 1. */
  cpu: number;
  /** Concurrent requests per instance. */
  concurrency: number;
  maxInstances: number;
  minInstances: number;
  timeoutSeconds: number;
}

export interface DeployConfig {
  /** The user's project: functions, subscriptions and Firestore live here. */
  projectId: string;
  /** Its number, if known; otherwise the plan looks it up. */
  projectNumber: string | undefined;
  /** Region of both functions. */
  region: string;
  /** Location of the Firestore database (a region or nam5/eur3). */
  firestoreLocation: string;
  /** Project of the Pitt-Google topics. */
  pittGoogleProject: string;
  ingest: FunctionSettings;
  manage: FunctionSettings;
  /** The explorer and read API (read-only; ./explore.ts). */
  explore: FunctionSettings;
  /** Service account ids (the part before `@`). */
  ingestServiceAccount: string;
  manageServiceAccount: string;
  pushServiceAccount: string;
  /** The explore function's runtime account: roles/datastore.viewer only. */
  exploreServiceAccount: string;
  /** Dead-letter topic id and the pull subscription that keeps its messages. */
  deadLetterTopic: string;
  deadLetterSubscription: string;
  maxDeliveryAttempts: number;
  ackDeadlineSeconds: number;
  alertsCollection: string;
  quarantineCollection: string;
  subscriptionsCollection: string;
  cutoutsCollection: string;
  /** Where the ingest function keeps alert cutouts (CUTOUTS). */
  cutouts: CutoutsStorage;
  /** Retry policy of the subscriptions the manage API creates (its defaults). */
  retryMinBackoffSeconds: number;
  retryMaxBackoffSeconds: number;
  /** Days a quarantine document is kept (0: forever). */
  quarantineRetentionDays: number;
  schemaSource: string | undefined;
  logLevel: Severity;
  /** Emails the manage API accepts (empty: any caller Cloud Run lets in). */
  authAllowedEmails: string[];
  /** IAM members granted roles/run.invoker on the manage function. */
  manageInvokers: string[];
  /** IAM members granted roles/run.invoker on the explore function. */
  exploreInvokers: string[];
  /** Deploy deploy/firestore.rules through the Firebase Rules API. */
  deployRules: boolean;
}

/** Raw, untrusted inputs: flag values as typed by the user. */
export type RawDeployOptions = Partial<Record<DeployOptionName, string>>;

export const DEPLOY_OPTIONS = {
  project: 'Google Cloud project id (required)',
  'project-number': 'project number (looked up with gcloud when omitted)',
  region: 'region of the functions (default us-central1)',
  'firestore-location': 'Firestore location (default nam5)',
  'pittgoogle-project': 'project of the Pitt-Google topics',
  'ingest-function': 'name of the ingest function (default pittgoogle-ingest)',
  'manage-function': 'name of the manage function (default pittgoogle-manage)',
  'ingest-memory': 'memory of ingest (default 512Mi)',
  'ingest-cpu': 'vCPUs of ingest (default 1)',
  'ingest-concurrency': 'concurrent requests per ingest instance (default 16)',
  'ingest-max-instances': 'max ingest instances (default 20)',
  'ingest-min-instances': 'min ingest instances (default 0)',
  'ingest-timeout': 'ingest timeout in seconds (default 120)',
  'manage-memory': 'memory of manage (default 256Mi)',
  'manage-cpu': 'vCPUs of manage (default 1)',
  'manage-concurrency': 'concurrent requests per manage instance (default 8)',
  'manage-max-instances': 'max manage instances (default 2)',
  'manage-min-instances': 'min manage instances (default 0)',
  'manage-timeout': 'manage timeout in seconds (default 60)',
  'explore-function': 'name of the explorer function (default explore)',
  'explore-memory': 'memory of explore (default 512Mi)',
  'explore-cpu': 'vCPUs of explore (default 1)',
  'explore-concurrency':
    'concurrent requests per explore instance (default 16)',
  'explore-max-instances': 'max explore instances (default 2)',
  'explore-min-instances': 'min explore instances (default 0)',
  'explore-timeout': 'explore timeout in seconds (default 60)',
  'ingest-service-account': 'id of the ingest runtime service account',
  'manage-service-account': 'id of the manage runtime service account',
  'push-service-account': 'id of the push invoker service account',
  'explore-service-account':
    'id of the explore runtime service account (read-only)',
  'dead-letter-topic': 'dead-letter topic id (default pittgoogle-dead-letter)',
  'dead-letter-subscription': 'subscription keeping dead letters',
  'max-delivery-attempts': 'delivery attempts before dead-lettering (5..100)',
  'ack-deadline': 'push ack deadline in seconds (10..600, default 600)',
  'alerts-collection': 'Firestore subcollection of alerts (default alerts)',
  'quarantine-collection': 'Firestore subcollection of failures',
  'subscriptions-collection': 'Firestore collection of subscriptions',
  'cutouts-collection': 'Firestore subcollection of cutouts (default cutouts)',
  cutouts: 'where cutouts go: separate (own document, default), inline, drop',
  'keep-cutouts': 'deprecated: true means --cutouts=inline',
  'retry-min-backoff':
    'push retry policy of new subscriptions: minimum backoff s (0..600, default 10)',
  'retry-max-backoff':
    'push retry policy of new subscriptions: maximum backoff s (0..600, default 600)',
  'quarantine-retention-days':
    'days quarantined messages are kept (0 = forever, default 30)',
  'schema-source': 'directory or URL of Confluent-wire writer schemas',
  'log-level': 'DEBUG, INFO, NOTICE, WARNING, ERROR or CRITICAL',
  'auth-allowed-emails': 'comma list of emails the manage API accepts',
  'manage-invokers': 'comma list of IAM members allowed to call manage',
  'explore-invokers': 'comma list of IAM members allowed to open the explorer',
  rules: 'deploy deploy/firestore.rules (true/false, default true)',
} as const;

export type DeployOptionName = keyof typeof DEPLOY_OPTIONS;

/**
 * Node flags of the deployed ingest function (NODE_OPTIONS). Under a 512 MiB
 * instance Node gives V8 1 MiB semi-spaces; with ~1 MB of short-lived
 * garbage per alert (request body, decoded record, the Firestore client's
 * per-field objects) that cost ~1.6x the CPU per alert in bench:push
 * (13.5 ms vs 8.5 ms). 8 MiB semi-spaces, with the old generation's growing
 * factor that the functions set themselves (NODE_OPTIONS may not:
 * ../functions/heap-tuning.ts), cost 2-26 % less CPU per alert than 16 MiB
 * with V8's own factor and keep the resident memory near 200 MiB.
 * Benchmarks and the load test run the function with these flags under the
 * instance's memory.
 */
export const INGEST_NODE_OPTIONS = '--max-semi-space-size=8';

/** Each function's settings unless an option says otherwise (benchmarks measure under these). */
export const DEFAULT_FUNCTIONS = {
  ingest: {
    name: 'pittgoogle-ingest',
    memory: '512Mi',
    cpu: 1,
    concurrency: 16,
    maxInstances: 20,
    minInstances: 0,
    timeoutSeconds: 120,
  },
  manage: {
    name: 'pittgoogle-manage',
    memory: '256Mi',
    cpu: 1,
    concurrency: 8,
    maxInstances: 2,
    minInstances: 0,
    timeoutSeconds: 60,
  },
  explore: {
    name: 'explore',
    memory: '512Mi',
    cpu: 1,
    concurrency: 16,
    maxInstances: 2,
    minInstances: 0,
    timeoutSeconds: 60,
  },
} as const satisfies Record<string, FunctionSettings>;

function bad(message: string, details: Record<string, unknown> = {}): never {
  throw new PermanentError('bad-config', message, details);
}

// ---------------------------------------------------------------- validators

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+(-[a-z]+)+[0-9]{1,2}$/;
const MULTI_REGION = /^(nam5|eur3|nam7)$/;
const FUNCTION_NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9._-]{2,254}$/;
const COLLECTION = /^[A-Za-z0-9_-]{1,100}$/;
const EMAIL =
  /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const MEMORY = /^([1-9][0-9]{0,4})(Mi|Gi)$/;

export function validateProjectId(v: string, what = '--project'): string {
  if (!PROJECT_ID.test(v) || v.includes('--')) {
    bad(
      `${what} must be a project id: 6-30 lowercase letters, digits or ` +
        `hyphens, starting with a letter and not ending with a hyphen; got "${v}"`,
      {value: v},
    );
  }
  return v;
}

export function validateEmail(v: string, what: string): string {
  if (!EMAIL.test(v)) bad(`${what} must be an email address, got "${v}"`);
  return v;
}

function pattern(v: string, re: RegExp, what: string, rule: string): string {
  if (!re.test(v)) bad(`${what} must be ${rule}; got "${v}"`, {value: v});
  return v;
}

function int(v: string, what: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    bad(`${what} must be an integer in [${min}, ${max}], got "${v}"`);
  }
  return n;
}

function bool(v: string, what: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  return bad(`${what} must be true or false, got "${v}"`);
}

/** Memory in MiB from gcloud syntax; 128Mi..32Gi. */
export function memoryMiB(v: string, what: string): number {
  const m = MEMORY.exec(v);
  const mib = m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) : NaN;
  if (!m || mib < 128 || mib > 32768) {
    bad(
      `${what} must be a size like 256Mi or 1Gi, from 128Mi to 32Gi; got "${v}"`,
    );
  }
  return mib;
}

function cpu(v: string, what: string): number {
  const allowed = ['0.083', '0.167', '0.333', '0.583', '1', '2', '4', '6', '8'];
  if (!allowed.includes(v)) {
    bad(`${what} must be one of ${allowed.join(', ')}; got "${v}"`);
  }
  return Number(v);
}

/** A gen2 function's memory must fit its CPU, and concurrency needs a whole vCPU. */
function checkSizing(f: FunctionSettings, prefix: string): void {
  const mib = memoryMiB(f.memory, `--${prefix}-memory`);
  if (f.concurrency > 1 && f.cpu < 1) {
    bad(
      `--${prefix}-concurrency ${f.concurrency} needs --${prefix}-cpu of at ` +
        'least 1 (Cloud Run serves one request at a time below 1 vCPU)',
    );
  }
  const minMiB: Record<number, number> = {2: 1024, 4: 2048, 6: 4096, 8: 4096};
  const maxMiB = f.cpu < 1 ? 1024 : f.cpu === 1 ? 4096 : f.cpu * 4096;
  if (mib > maxMiB || mib < (minMiB[f.cpu] ?? 128)) {
    bad(
      `--${prefix}-memory ${f.memory} does not fit --${prefix}-cpu ${f.cpu} ` +
        `(allowed: ${minMiB[f.cpu] ?? 128}Mi to ${maxMiB}Mi)`,
    );
  }
  if (f.minInstances > f.maxInstances) {
    bad(`--${prefix}-min-instances must not exceed --${prefix}-max-instances`);
  }
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '');
}

const MEMBER =
  /^(user|group|serviceAccount):(.+)$|^domain:([a-z0-9.-]+\.[a-z]{2,})$/;

function member(v: string, what = '--manage-invokers'): string {
  const m = MEMBER.exec(v);
  if (!m || (m[2] !== undefined && !EMAIL.test(m[2]))) {
    bad(
      `${what} entries must be IAM members` +
        ' like user:you@example.com, ' +
        'group:team@example.com, serviceAccount:sa@p.iam.gserviceaccount.com or ' +
        `domain:example.com; got "${v}"`,
    );
  }
  return v;
}

function schemaSource(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  const url = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~/%-]*)?$/;
  const path = /^[A-Za-z0-9._/-]+$/;
  if (!url.test(v) && !(path.test(v) && !v.split('/').includes('..'))) {
    bad(
      '--schema-source must be an http(s) URL or a path inside the deployed ' +
        `source (letters, digits, '.', '_', '-', '/'); got "${v}"`,
    );
  }
  return v;
}

/** --cutouts, or the deprecated --keep-cutouts (true: inline). */
function cutoutsStorage(o: RawDeployOptions): CutoutsStorage {
  const keep =
    o['keep-cutouts'] === undefined
      ? undefined
      : bool(o['keep-cutouts'], '--keep-cutouts');
  const v = o.cutouts;
  if (v !== undefined) {
    if (!(CUTOUTS_STORAGE as readonly string[]).includes(v)) {
      bad(`--cutouts must be one of ${CUTOUTS_STORAGE.join(', ')}; got "${v}"`);
    }
    if (keep !== undefined) {
      bad('--keep-cutouts is the deprecated form of --cutouts: give only one');
    }
    return v as CutoutsStorage;
  }
  return keep === true ? 'inline' : 'separate';
}

// -------------------------------------------------------------------- parse

function fn(
  o: RawDeployOptions,
  prefix: 'ingest' | 'manage' | 'explore',
  dflt: Omit<FunctionSettings, 'name'> & {name: string},
): FunctionSettings {
  const get = (k: string): string | undefined =>
    o[`${prefix}-${k}` as DeployOptionName];
  const f: FunctionSettings = {
    name: pattern(
      get('function') ?? dflt.name,
      FUNCTION_NAME,
      `--${prefix}-function`,
      'a function name: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters',
    ),
    memory: get('memory') ?? dflt.memory,
    cpu: cpu(get('cpu') ?? String(dflt.cpu), `--${prefix}-cpu`),
    concurrency: int(
      get('concurrency') ?? String(dflt.concurrency),
      `--${prefix}-concurrency`,
      1,
      1000,
    ),
    maxInstances: int(
      get('max-instances') ?? String(dflt.maxInstances),
      `--${prefix}-max-instances`,
      1,
      1000,
    ),
    minInstances: int(
      get('min-instances') ?? String(dflt.minInstances),
      `--${prefix}-min-instances`,
      0,
      1000,
    ),
    timeoutSeconds: int(
      get('timeout') ?? String(dflt.timeoutSeconds),
      `--${prefix}-timeout`,
      1,
      3600,
    ),
  };
  checkSizing(f, prefix);
  return f;
}

/**
 * Validates raw options into a {@link DeployConfig}, or throws a
 * `PermanentError('bad-config')` naming the offending flag.
 */
export function parseDeployConfig(o: RawDeployOptions): DeployConfig {
  for (const [k, v] of Object.entries(o)) {
    if (!(k in DEPLOY_OPTIONS)) bad(`unknown option --${k}`);
    if (
      v !== undefined &&
      /[\s${}`"'\\;|&<>]/.test(v) &&
      k !== 'auth-allowed-emails' &&
      k !== 'manage-invokers' &&
      k !== 'explore-invokers'
    ) {
      bad(`--${k} contains a character that no valid value has: "${v}"`);
    }
  }
  if (!o.project)
    bad('--project is required (the id of your Google Cloud project)');
  const projectId = validateProjectId(o.project);
  const projectNumber =
    o['project-number'] === undefined
      ? undefined
      : pattern(
          o['project-number'],
          /^[1-9][0-9]{5,19}$/,
          '--project-number',
          'the numeric project number',
        );
  const region = pattern(
    o.region ?? 'us-central1',
    REGION,
    '--region',
    'a Cloud region like us-central1 or europe-west1',
  );
  const loc = o['firestore-location'] ?? 'nam5';
  if (!REGION.test(loc) && !MULTI_REGION.test(loc)) {
    bad(
      `--firestore-location must be a region like us-central1 or a multi-region (nam5, eur3); got "${loc}"`,
    );
  }
  const sa = (k: DeployOptionName, d: string) =>
    pattern(
      o[k] ?? d,
      SERVICE_ACCOUNT_ID,
      `--${k}`,
      'a service account id: 6-30 lowercase letters, digits or hyphens, starting with a letter',
    );
  const topic = (k: DeployOptionName, d: string) => {
    const v = pattern(
      o[k] ?? d,
      TOPIC_ID,
      `--${k}`,
      "a Pub/Sub id: 3-255 letters, digits, '.', '_' or '-', starting with a letter",
    );
    if (/^goog/i.test(v)) bad(`--${k} must not start with "goog"; got "${v}"`);
    return v;
  };
  const coll = (k: DeployOptionName, d: string) =>
    pattern(
      o[k] ?? d,
      COLLECTION,
      `--${k}`,
      "1-100 letters, digits, '-' or '_'",
    );
  const level = parseSeverity(o['log-level'] ?? 'INFO');
  if (!level) bad(`--log-level is not a severity: "${o['log-level']}"`);

  const cfg: DeployConfig = {
    projectId,
    projectNumber,
    region,
    firestoreLocation: loc,
    pittGoogleProject: validateProjectId(
      o['pittgoogle-project'] ?? PITTGOOGLE_PROJECT,
      '--pittgoogle-project',
    ),
    ingest: fn(o, 'ingest', DEFAULT_FUNCTIONS.ingest),
    manage: fn(o, 'manage', DEFAULT_FUNCTIONS.manage),
    explore: fn(o, 'explore', DEFAULT_FUNCTIONS.explore),
    ingestServiceAccount: sa('ingest-service-account', 'pittgoogle-ingest'),
    manageServiceAccount: sa('manage-service-account', 'pittgoogle-manage'),
    pushServiceAccount: sa('push-service-account', 'pittgoogle-push'),
    exploreServiceAccount: sa('explore-service-account', 'pittgoogle-explore'),
    deadLetterTopic: topic('dead-letter-topic', 'pittgoogle-dead-letter'),
    deadLetterSubscription: topic(
      'dead-letter-subscription',
      'pittgoogle-dead-letter-keep',
    ),
    maxDeliveryAttempts: int(
      o['max-delivery-attempts'] ?? '10',
      '--max-delivery-attempts',
      5,
      100,
    ),
    ackDeadlineSeconds: int(
      o['ack-deadline'] ?? '600',
      '--ack-deadline',
      10,
      600,
    ),
    alertsCollection: coll('alerts-collection', 'alerts'),
    quarantineCollection: coll('quarantine-collection', 'quarantine'),
    subscriptionsCollection: coll('subscriptions-collection', 'subscriptions'),
    cutoutsCollection: coll('cutouts-collection', 'cutouts'),
    cutouts: cutoutsStorage(o),
    retryMinBackoffSeconds: int(
      o['retry-min-backoff'] ?? '10',
      '--retry-min-backoff',
      0,
      600,
    ),
    retryMaxBackoffSeconds: int(
      o['retry-max-backoff'] ?? '600',
      '--retry-max-backoff',
      0,
      600,
    ),
    quarantineRetentionDays: int(
      o['quarantine-retention-days'] ?? '30',
      '--quarantine-retention-days',
      0,
      3650,
    ),
    schemaSource: schemaSource(o['schema-source']),
    logLevel: level,
    authAllowedEmails: list(o['auth-allowed-emails']).map(e =>
      validateEmail(e, '--auth-allowed-emails'),
    ),
    manageInvokers: list(o['manage-invokers']).map(m => member(m)),
    exploreInvokers: list(o['explore-invokers']).map(m =>
      member(m, '--explore-invokers'),
    ),
    deployRules: bool(o.rules ?? 'true', '--rules'),
  };
  if (
    new Set([cfg.ingest.name, cfg.manage.name, cfg.explore.name]).size !== 3
  ) {
    bad(
      '--ingest-function, --manage-function and --explore-function must differ',
    );
  }
  const accounts = [
    cfg.ingestServiceAccount,
    cfg.manageServiceAccount,
    cfg.pushServiceAccount,
    cfg.exploreServiceAccount,
  ];
  if (new Set(accounts).size !== accounts.length) {
    bad(
      'the ingest, manage, push and explore service accounts must be four ' +
        'different accounts (each gets only the roles it needs)',
    );
  }
  if (cfg.deadLetterTopic === cfg.deadLetterSubscription) {
    // Allowed by Pub/Sub (topics and subscriptions are separate namespaces),
    // but confusing in the console; keep them apart.
    bad('--dead-letter-subscription must differ from --dead-letter-topic');
  }
  if (cfg.retryMinBackoffSeconds > cfg.retryMaxBackoffSeconds) {
    bad('--retry-min-backoff must not exceed --retry-max-backoff');
  }
  const colls = [
    cfg.alertsCollection,
    cfg.quarantineCollection,
    cfg.subscriptionsCollection,
    cfg.cutoutsCollection,
  ];
  if (new Set(colls).size !== colls.length)
    bad('the four Firestore collection names must differ');
  return cfg;
}

/** `id@project.iam.gserviceaccount.com` */
export function serviceAccountEmail(cfg: DeployConfig, id: string): string {
  return `${id}@${cfg.projectId}.iam.gserviceaccount.com`;
}
