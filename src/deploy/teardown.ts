/**
 * The teardown as data: {@link buildTeardownPlan} turns a validated
 * {@link DeployConfig} into the ordered steps that remove what the deploy
 * made (push subscriptions first, then functions, bindings and accounts;
 * the Firestore database only when asked).
 */

import {DeployConfig} from './config';
import {exploreTeardownSteps} from './explore';
import {ROLES} from './plan';
import {gcloud, sa, Step} from './steps';

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
