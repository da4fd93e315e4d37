/**
 * The deployment as data: {@link buildDeployPlan} turns a validated
 * {@link DeployConfig} into an ordered list of steps (./steps.ts; the
 * teardown's are in ./teardown.ts, Firestore's in ./firestore-steps.ts). A
 * step is a `gcloud` argv (never a shell string) or an authenticated REST
 * call for the two things gcloud cannot do (collection-group single-field
 * indexes, Firestore security rules).
 *
 * Values known only while deploying (the project number, the ingest URL, the
 * name of a new ruleset, the list of push subscriptions) are captured by one
 * step and referenced by later ones as `${NAME}` placeholders; the runner
 * substitutes them after validating what it captured, and the dry run prints
 * them as shell variables.
 */

import {PermanentError} from '../errors';
import {DeployConfig, FunctionSettings, INGEST_NODE_OPTIONS} from './config';
import {exploreAccountSteps, exploreInvokerSteps} from './explore';
import {indexSteps, rulesSteps} from './firestore-steps';
import type {IndexFile} from './indexes';
import {gcloud, GcloudStep, sa, Step} from './steps';

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
