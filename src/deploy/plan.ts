/**
 * The deployment as data: {@link buildDeployPlan} and
 * {@link buildTeardownPlan} turn a validated {@link DeployConfig} into an
 * ordered list of steps. A step is a `gcloud` argv (never a shell string) or
 * an authenticated REST call for the two things gcloud cannot do
 * (collection-group single-field indexes, Firestore security rules).
 *
 * Values known only while deploying (the project number, the ingest URL, the
 * name of a new ruleset, the list of push subscriptions) are captured by one
 * step and referenced by later ones as `${NAME}` placeholders; the runner
 * substitutes them after validating what it captured, and the dry run prints
 * them as shell variables.
 */

import {PermanentError} from '../errors';
import {
  DeployConfig,
  FunctionSettings,
  INGEST_NODE_OPTIONS,
  serviceAccountEmail,
} from './config';
import {
  exploreAccountSteps,
  exploreInvokerSteps,
  exploreTeardownSteps,
} from './explore';
import {
  fieldOverrideBody,
  gcloudCanDeploy,
  IndexFile,
  renameCollections,
} from './indexes';

/** Names a later step may reference as `${NAME}`. */
export type Capture =
  'PROJECT_NUMBER' | 'INGEST_URL' | 'RULESET_NAME' | 'PUSH_SUBSCRIPTIONS';

interface StepBase {
  description: string;
  /** A failure saying the resource already exists counts as success. */
  ignoreAlreadyExists?: boolean;
  /** A failure saying the resource does not exist counts as success. */
  ignoreNotFound?: boolean;
  /**
   * IAM is eventually consistent: a service account created seconds ago may
   * not be found yet. Such steps are retried a few times on "not found".
   */
  retryNotFound?: boolean;
  /** Store the trimmed output under this name. */
  capture?: Capture;
}

export interface GcloudStep extends StepBase {
  kind: 'gcloud';
  /** Arguments after `gcloud`; may contain `${NAME}` placeholders. */
  argv: string[];
  /** Run once per line of a captured list, with `${ITEM}` bound to the line. */
  forEach?: Capture;
}

export interface HttpStep extends StepBase {
  kind: 'http';
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  /** HTTP statuses that count as success besides 2xx (e.g. 404 on update). */
  okStatuses?: number[];
  /** With `capture`: the top-level JSON field of the response to keep. */
  captureField?: string;
}

export type Step = GcloudStep | HttpStep;

export const PLACEHOLDER = /\$\{([A-Z_]+)\}/g;

/** Roles granted by the plan: the whole of what the system may do. */
export const ROLES = {
  firestore: 'roles/datastore.user',
  pubsubEditor: 'roles/pubsub.editor',
  actAs: 'roles/iam.serviceAccountUser',
  tokenCreator: 'roles/iam.serviceAccountTokenCreator',
  publisher: 'roles/pubsub.publisher',
  subscriber: 'roles/pubsub.subscriber',
} as const;

export const APIS = [
  'cloudfunctions.googleapis.com',
  'run.googleapis.com',
  'cloudbuild.googleapis.com',
  'artifactregistry.googleapis.com',
  'pubsub.googleapis.com',
  'firestore.googleapis.com',
  'iam.googleapis.com',
  'logging.googleapis.com',
] as const;

export const RULES_API = 'firebaserules.googleapis.com';

/** The Pub/Sub service agent: it pushes, dead-letters and signs OIDC tokens. */
function pubsubAgent(cfg: DeployConfig): string {
  const n = cfg.projectNumber ?? '${PROJECT_NUMBER}';
  return `serviceAccount:service-${n}@gcp-sa-pubsub.iam.gserviceaccount.com`;
}

function gcloud(
  description: string,
  argv: string[],
  extra: Partial<GcloudStep> = {},
): GcloudStep {
  return {kind: 'gcloud', description, argv, ...extra};
}

function sa(cfg: DeployConfig, id: string): string {
  return serviceAccountEmail(cfg, id);
}

/**
 * `KEY=VALUE,...` for --set-env-vars. Values may hold commas (a list of
 * emails), so the list uses gcloud's alternate delimiter syntax (`^|^`) when
 * needed, with a delimiter that no value contains.
 */
export function envVarsFlag(env: Record<string, string>): string {
  const values = Object.values(env);
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  if (!values.some(v => v.includes(','))) return pairs.join(',');
  const delim = ['|', '@@', ';', '~~'].find(
    d => !values.some(v => v.includes(d)),
  );
  if (!delim) {
    throw new PermanentError(
      'bad-config',
      'no delimiter fits the environment values',
    );
  }
  return `^${delim}^${pairs.join(delim)}`;
}

/** Environment of both functions (names as src/config.ts reads them). */
export function commonEnv(cfg: DeployConfig): Record<string, string> {
  const env: Record<string, string> = {
    GOOGLE_CLOUD_PROJECT: cfg.projectId,
    PITTGOOGLE_PROJECT: cfg.pittGoogleProject,
    ALERTS_COLLECTION: cfg.alertsCollection,
    QUARANTINE_COLLECTION: cfg.quarantineCollection,
    SUBSCRIPTIONS_COLLECTION: cfg.subscriptionsCollection,
    CUTOUTS_COLLECTION: cfg.cutoutsCollection,
    CUTOUTS: cfg.cutouts,
    QUARANTINE_RETENTION_DAYS: String(cfg.quarantineRetentionDays),
    LOG_LEVEL: cfg.logLevel,
    // Express inside the functions framework answers what it refuses itself
    // (an unparsable JSON body) with a page that shows a stack trace and
    // file paths, unless NODE_ENV is production.
    NODE_ENV: 'production',
  };
  if (cfg.schemaSource) env.SCHEMA_SOURCE = cfg.schemaSource;
  return env;
}

export function manageEnv(cfg: DeployConfig): Record<string, string> {
  const env: Record<string, string> = {
    ...commonEnv(cfg),
    INGEST_URL: '${INGEST_URL}',
    PUSH_SERVICE_ACCOUNT: sa(cfg, cfg.pushServiceAccount),
    DEAD_LETTER_TOPIC: `projects/${cfg.projectId}/topics/${cfg.deadLetterTopic}`,
    MAX_DELIVERY_ATTEMPTS: String(cfg.maxDeliveryAttempts),
    ACK_DEADLINE_SECONDS: String(cfg.ackDeadlineSeconds),
    // Redeliveries after a 5xx (e.g. Firestore throttling) back off
    // exponentially between these bounds.
    RETRY_MIN_BACKOFF_SECONDS: String(cfg.retryMinBackoffSeconds),
    RETRY_MAX_BACKOFF_SECONDS: String(cfg.retryMaxBackoffSeconds),
  };
  if (cfg.authAllowedEmails.length > 0) {
    env.AUTH_ALLOWED_EMAILS = cfg.authAllowedEmails.join(',');
  }
  return env;
}

function deployFunction(
  cfg: DeployConfig,
  f: FunctionSettings,
  entryPoint: 'ingest' | 'manage' | 'explore',
  serviceAccount: string,
  env: Record<string, string>,
): GcloudStep {
  return gcloud(
    `Deploy the ${entryPoint} function (gen2, nodejs22, authenticated callers only)`,
    [
      'functions',
      'deploy',
      f.name,
      '--gen2',
      '--runtime=nodejs22',
      `--region=${cfg.region}`,
      `--project=${cfg.projectId}`,
      '--source=.',
      '--ignore-file=deploy/gcloudignore',
      `--entry-point=${entryPoint}`,
      '--trigger-http',
      '--no-allow-unauthenticated',
      '--ingress-settings=all',
      `--service-account=${sa(cfg, serviceAccount)}`,
      `--memory=${f.memory}`,
      `--cpu=${f.cpu}`,
      `--concurrency=${f.concurrency}`,
      `--max-instances=${f.maxInstances}`,
      `--min-instances=${f.minInstances}`,
      `--timeout=${f.timeoutSeconds}s`,
      `--set-env-vars=${envVarsFlag(env)}`,
      '--quiet',
    ],
  );
}

function projectBinding(
  cfg: DeployConfig,
  member: string,
  role: string,
): GcloudStep {
  return gcloud(
    `Grant ${role} on project ${cfg.projectId} to ${member}`,
    [
      'projects',
      'add-iam-policy-binding',
      cfg.projectId,
      `--member=${member}`,
      `--role=${role}`,
      '--condition=None',
      '--quiet',
      '--format=none',
    ],
    {retryNotFound: true},
  );
}

function saBinding(
  cfg: DeployConfig,
  onAccount: string,
  member: string,
  role: string,
): GcloudStep {
  return gcloud(
    `Grant ${role} on service account ${onAccount} to ${member}`,
    [
      'iam',
      'service-accounts',
      'add-iam-policy-binding',
      sa(cfg, onAccount),
      `--project=${cfg.projectId}`,
      `--member=${member}`,
      `--role=${role}`,
      '--quiet',
      '--format=none',
    ],
    {retryNotFound: true},
  );
}

function indexSteps(cfg: DeployConfig, file: IndexFile): Step[] {
  const renamed = renameCollections(file, {
    alerts: cfg.alertsCollection,
    quarantine: cfg.quarantineCollection,
    subscriptions: cfg.subscriptionsCollection,
    cutouts: cfg.cutoutsCollection,
  });
  const steps: Step[] = [];
  for (const o of renamed.fieldOverrides) {
    if (gcloudCanDeploy(o)) {
      steps.push(
        gcloud(
          o.indexes.length === 0
            ? `Exempt ${o.collectionGroup}.${o.fieldPath} from indexing`
            : `Set the single-field indexes of ${o.collectionGroup}.${o.fieldPath}`,
          [
            'firestore',
            'indexes',
            'fields',
            'update',
            o.fieldPath,
            `--collection-group=${o.collectionGroup}`,
            '--database=(default)',
            `--project=${cfg.projectId}`,
            ...(o.indexes.length === 0
              ? ['--disable-indexes']
              : o.indexes.map(i => `--index=order=${i.order.toLowerCase()}`)),
            '--quiet',
          ],
        ),
      );
    } else {
      steps.push({
        kind: 'http',
        description:
          `Set the single-field indexes of ${o.collectionGroup}.${o.fieldPath} ` +
          '(collection-group scope: Firestore Admin API, gcloud cannot)',
        method: 'PATCH',
        url:
          `https://firestore.googleapis.com/v1/projects/${cfg.projectId}` +
          `/databases/(default)/collectionGroups/${o.collectionGroup}` +
          `/fields/${o.fieldPath}?updateMask=indexConfig`,
        body: fieldOverrideBody(o),
      });
    }
  }
  // Retention: documents expire at their expireAt (null: kept). After the
  // exemption of the same field, one field operation at a time.
  for (const o of renamed.fieldOverrides.filter(x => x.ttl)) {
    steps.push(
      gcloud(
        `Expire ${o.collectionGroup} documents at their ${o.fieldPath} (TTL policy; null keeps a document)`,
        [
          'firestore',
          'fields',
          'ttls',
          'update',
          o.fieldPath,
          `--collection-group=${o.collectionGroup}`,
          '--enable-ttl',
          '--database=(default)',
          `--project=${cfg.projectId}`,
          '--quiet',
        ],
      ),
    );
  }
  for (const i of renamed.indexes) {
    steps.push(
      gcloud(
        `Create the composite index ${i.collectionGroup}(${i.fields
          .map(
            f => `${f.fieldPath} ${f.order === 'ASCENDING' ? 'asc' : 'desc'}`,
          )
          .join(
            ', ',
          )}) [${i.queryScope === 'COLLECTION' ? 'collection' : 'collection group'}]`,
        [
          'firestore',
          'indexes',
          'composite',
          'create',
          `--collection-group=${i.collectionGroup}`,
          '--database=(default)',
          `--query-scope=${i.queryScope === 'COLLECTION' ? 'collection' : 'collection-group'}`,
          ...i.fields.map(
            f =>
              `--field-config=field-path=${f.fieldPath},order=${f.order.toLowerCase()}`,
          ),
          `--project=${cfg.projectId}`,
          '--quiet',
        ],
        {ignoreAlreadyExists: true},
      ),
    );
  }
  return steps;
}

function rulesSteps(cfg: DeployConfig, rules: string): Step[] {
  const api = `https://firebaserules.googleapis.com/v1/projects/${cfg.projectId}`;
  const release = `projects/${cfg.projectId}/releases/cloud.firestore`;
  return [
    {
      kind: 'http',
      description:
        'Upload deploy/firestore.rules as a new ruleset (Firebase Rules API)',
      method: 'POST',
      url: `${api}/rulesets`,
      body: {source: {files: [{name: 'firestore.rules', content: rules}]}},
      capture: 'RULESET_NAME',
      captureField: 'name',
    },
    {
      kind: 'http',
      description:
        'Point the Firestore release at the new ruleset (404: no release yet)',
      method: 'PATCH',
      url: `${api}/releases/cloud.firestore`,
      body: {release: {name: release, rulesetName: '${RULESET_NAME}'}},
      okStatuses: [404],
    },
    {
      kind: 'http',
      description:
        'Create the Firestore release if the update found none (409: it exists)',
      method: 'POST',
      url: `${api}/releases`,
      body: {name: release, rulesetName: '${RULESET_NAME}'},
      okStatuses: [409],
    },
  ];
}

export interface PlanInputs {
  /** deploy/firestore.indexes.json, parsed. */
  indexes: IndexFile;
  /** deploy/firestore.rules, as text. */
  rules: string;
}

export function buildDeployPlan(cfg: DeployConfig, inputs: PlanInputs): Step[] {
  const p = cfg.projectId;
  const ingestSa = `serviceAccount:${sa(cfg, cfg.ingestServiceAccount)}`;
  const manageSa = `serviceAccount:${sa(cfg, cfg.manageServiceAccount)}`;
  const pushSa = `serviceAccount:${sa(cfg, cfg.pushServiceAccount)}`;
  const PUBSUB_AGENT = pubsubAgent(cfg);
  const apis = cfg.deployRules ? [...APIS, RULES_API] : [...APIS];
  const steps: Step[] = [
    gcloud('Enable the APIs the system uses', [
      'services',
      'enable',
      ...apis,
      `--project=${p}`,
      '--quiet',
    ]),
  ];
  if (cfg.projectNumber === undefined) {
    steps.push(
      gcloud(
        'Look up the project number (it names the Pub/Sub service agent)',
        ['projects', 'describe', p, '--format=value(projectNumber)'],
        {capture: 'PROJECT_NUMBER'},
      ),
    );
  }
  steps.push(
    gcloud(
      `Create the Firestore database (native mode, ${cfg.firestoreLocation})`,
      [
        'firestore',
        'databases',
        'create',
        '--database=(default)',
        `--location=${cfg.firestoreLocation}`,
        '--type=firestore-native',
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreAlreadyExists: true},
    ),
  );
  // Indexes and rules right after the database: before any alert is written.
  steps.push(...indexSteps(cfg, inputs.indexes));
  if (cfg.deployRules) steps.push(...rulesSteps(cfg, inputs.rules));
  const accounts: Array<[string, string]> = [
    [cfg.ingestServiceAccount, 'pittgoogle ingest function runtime'],
    [cfg.manageServiceAccount, 'pittgoogle manage function runtime'],
    [cfg.pushServiceAccount, 'pittgoogle Pub/Sub push invoker'],
  ];
  for (const [id, display] of accounts) {
    steps.push(
      gcloud(
        `Create the service account ${id} (${display})`,
        [
          'iam',
          'service-accounts',
          'create',
          id,
          `--display-name=${display}`,
          `--project=${p}`,
          '--quiet',
        ],
        {ignoreAlreadyExists: true},
      ),
    );
  }
  steps.push(
    projectBinding(cfg, ingestSa, ROLES.firestore),
    projectBinding(cfg, manageSa, ROLES.firestore),
    projectBinding(cfg, manageSa, ROLES.pubsubEditor),
    saBinding(cfg, cfg.pushServiceAccount, manageSa, ROLES.actAs),
    saBinding(cfg, cfg.pushServiceAccount, PUBSUB_AGENT, ROLES.tokenCreator),
    projectBinding(cfg, PUBSUB_AGENT, ROLES.subscriber),
    gcloud(
      `Create the dead-letter topic ${cfg.deadLetterTopic}`,
      [
        'pubsub',
        'topics',
        'create',
        cfg.deadLetterTopic,
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreAlreadyExists: true},
    ),
    gcloud(
      `Create ${cfg.deadLetterSubscription}, which keeps dead letters for 7 days`,
      [
        'pubsub',
        'subscriptions',
        'create',
        cfg.deadLetterSubscription,
        `--topic=${cfg.deadLetterTopic}`,
        '--message-retention-duration=7d',
        '--expiration-period=never',
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreAlreadyExists: true},
    ),
    gcloud(
      `Grant ${ROLES.publisher} on ${cfg.deadLetterTopic} to the Pub/Sub service agent`,
      [
        'pubsub',
        'topics',
        'add-iam-policy-binding',
        cfg.deadLetterTopic,
        `--member=${PUBSUB_AGENT}`,
        `--role=${ROLES.publisher}`,
        `--project=${p}`,
        '--quiet',
        '--format=none',
      ],
      {retryNotFound: true},
    ),
    deployFunction(cfg, cfg.ingest, 'ingest', cfg.ingestServiceAccount, {
      ...commonEnv(cfg),
      NODE_OPTIONS: INGEST_NODE_OPTIONS,
    }),
    gcloud(
      'Read the ingest function URL (the push endpoint)',
      [
        'functions',
        'describe',
        cfg.ingest.name,
        '--gen2',
        `--region=${cfg.region}`,
        `--project=${p}`,
        '--format=value(serviceConfig.uri)',
      ],
      {capture: 'INGEST_URL'},
    ),
    gcloud(
      'Allow the push service account (only) to invoke ingest',
      [
        'functions',
        'add-invoker-policy-binding',
        cfg.ingest.name,
        `--region=${cfg.region}`,
        `--member=${pushSa}`,
        `--project=${p}`,
        '--quiet',
        '--format=none',
      ],
      {retryNotFound: true},
    ),
    deployFunction(
      cfg,
      cfg.manage,
      'manage',
      cfg.manageServiceAccount,
      manageEnv(cfg),
    ),
    ...cfg.manageInvokers.map(m =>
      gcloud(`Allow ${m} to call the manage API`, [
        'functions',
        'add-invoker-policy-binding',
        cfg.manage.name,
        `--region=${cfg.region}`,
        `--member=${m}`,
        `--project=${p}`,
        '--quiet',
        '--format=none',
      ]),
    ),
    // The explorer: read-only account, its own function (./explore.ts).
    ...exploreAccountSteps(cfg),
    deployFunction(
      cfg,
      cfg.explore,
      'explore',
      cfg.exploreServiceAccount,
      commonEnv(cfg),
    ),
    ...exploreInvokerSteps(cfg),
  );
  return steps;
}

export interface TeardownOptions {
  /** Also delete the Firestore database and every alert in it. */
  deleteFirestore: boolean;
}

export function buildTeardownPlan(
  cfg: DeployConfig,
  opts: TeardownOptions,
): Step[] {
  const p = cfg.projectId;
  const pushEmail = sa(cfg, cfg.pushServiceAccount);
  const steps: Step[] = [
    gcloud(
      'List the push subscriptions that deliver to ingest (those made by the manage API)',
      [
        'pubsub',
        'subscriptions',
        'list',
        `--project=${p}`,
        `--filter=pushConfig.oidcToken.serviceAccountEmail=${pushEmail}`,
        '--format=value(name)',
      ],
      {capture: 'PUSH_SUBSCRIPTIONS'},
    ),
    gcloud(
      'Delete each of those push subscriptions',
      [
        'pubsub',
        'subscriptions',
        'delete',
        '${ITEM}',
        `--project=${p}`,
        '--quiet',
      ],
      {forEach: 'PUSH_SUBSCRIPTIONS', ignoreNotFound: true},
    ),
  ];
  for (const f of [cfg.manage, cfg.ingest]) {
    steps.push(
      gcloud(
        `Delete the function ${f.name}`,
        [
          'functions',
          'delete',
          f.name,
          '--gen2',
          `--region=${cfg.region}`,
          `--project=${p}`,
          '--quiet',
        ],
        {ignoreNotFound: true},
      ),
    );
  }
  steps.push(...exploreTeardownSteps(cfg));
  steps.push(
    gcloud(
      `Delete the dead-letter subscription ${cfg.deadLetterSubscription}`,
      [
        'pubsub',
        'subscriptions',
        'delete',
        cfg.deadLetterSubscription,
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreNotFound: true},
    ),
    gcloud(
      `Delete the dead-letter topic ${cfg.deadLetterTopic}`,
      [
        'pubsub',
        'topics',
        'delete',
        cfg.deadLetterTopic,
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreNotFound: true},
    ),
  );
  const projectRoles: Array<[string, string]> = [
    [cfg.ingestServiceAccount, ROLES.firestore],
    [cfg.manageServiceAccount, ROLES.firestore],
    [cfg.manageServiceAccount, ROLES.pubsubEditor],
  ];
  for (const [id, role] of projectRoles) {
    steps.push(
      gcloud(
        `Remove ${role} on the project from ${id}`,
        [
          'projects',
          'remove-iam-policy-binding',
          p,
          `--member=serviceAccount:${sa(cfg, id)}`,
          `--role=${role}`,
          '--condition=None',
          '--quiet',
          '--format=none',
        ],
        {ignoreNotFound: true},
      ),
    );
  }
  for (const id of [
    cfg.pushServiceAccount,
    cfg.manageServiceAccount,
    cfg.ingestServiceAccount,
  ]) {
    steps.push(
      gcloud(
        `Delete the service account ${id}`,
        [
          'iam',
          'service-accounts',
          'delete',
          sa(cfg, id),
          `--project=${p}`,
          '--quiet',
        ],
        {ignoreNotFound: true},
      ),
    );
  }
  if (opts.deleteFirestore) {
    steps.push(
      gcloud(
        'Delete the Firestore database and every document in it',
        [
          'firestore',
          'databases',
          'delete',
          '--database=(default)',
          `--project=${p}`,
          '--quiet',
        ],
        {ignoreNotFound: true},
      ),
    );
  }
  return steps;
}
