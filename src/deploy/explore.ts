/**
 * The explore function's part of the deployment: its own runtime service
 * account with `roles/datastore.viewer` only (it reads alerts, cutouts,
 * quarantine and subscription records, and can write nothing), the function
 * itself (HTTP, gen2, nodejs22, no unauthenticated access), optional invoker
 * bindings, and how to open it privately: `gcloud run services proxy`
 * serves it on the caller's own machine with the caller's credentials, so
 * the explorer is never public.
 */

import {DeployConfig, serviceAccountEmail} from './config';
import {gcloud, Step} from './steps';

export const EXPLORE_ROLE = 'roles/datastore.viewer';

export const EXPLORE_PROXY_PORT = 8080;

function member(cfg: DeployConfig): string {
  return `serviceAccount:${serviceAccountEmail(cfg, cfg.exploreServiceAccount)}`;
}

/** The steps before the function's deploy: its account and its one role. */
export function exploreAccountSteps(cfg: DeployConfig): Step[] {
  const p = cfg.projectId;
  return [
    gcloud(
      `Create the service account ${cfg.exploreServiceAccount} (pittgoogle explore function runtime, read-only)`,
      [
        'iam',
        'service-accounts',
        'create',
        cfg.exploreServiceAccount,
        '--display-name=pittgoogle explore function runtime (read-only)',
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreAlreadyExists: true},
    ),
    gcloud(
      `Grant ${EXPLORE_ROLE} on project ${p} to ${member(cfg)}`,
      [
        'projects',
        'add-iam-policy-binding',
        p,
        `--member=${member(cfg)}`,
        `--role=${EXPLORE_ROLE}`,
        '--condition=None',
        '--quiet',
        '--format=none',
      ],
      {retryNotFound: true},
    ),
  ];
}

/** Invoker bindings of the explore function (after its deploy). */
export function exploreInvokerSteps(cfg: DeployConfig): Step[] {
  return cfg.exploreInvokers.map(m =>
    gcloud(`Allow ${m} to open the explorer`, [
      'functions',
      'add-invoker-policy-binding',
      cfg.explore.name,
      `--region=${cfg.region}`,
      `--member=${m}`,
      `--project=${cfg.projectId}`,
      '--quiet',
      '--format=none',
    ]),
  );
}

/** The teardown of what the steps above created. */
export function exploreTeardownSteps(cfg: DeployConfig): Step[] {
  const p = cfg.projectId;
  return [
    gcloud(
      `Delete the function ${cfg.explore.name}`,
      [
        'functions',
        'delete',
        cfg.explore.name,
        '--gen2',
        `--region=${cfg.region}`,
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreNotFound: true},
    ),
    gcloud(
      `Remove ${EXPLORE_ROLE} on the project from ${cfg.exploreServiceAccount}`,
      [
        'projects',
        'remove-iam-policy-binding',
        p,
        `--member=${member(cfg)}`,
        `--role=${EXPLORE_ROLE}`,
        '--condition=None',
        '--quiet',
        '--format=none',
      ],
      {ignoreNotFound: true},
    ),
    gcloud(
      `Delete the service account ${cfg.exploreServiceAccount}`,
      [
        'iam',
        'service-accounts',
        'delete',
        serviceAccountEmail(cfg, cfg.exploreServiceAccount),
        `--project=${p}`,
        '--quiet',
      ],
      {ignoreNotFound: true},
    ),
  ];
}

/** What the deploy prints at the end (and the dry run as comments). */
export function exploreOpenHint(cfg: DeployConfig): string[] {
  return [
    `The explorer (function ${cfg.explore.name}) accepts authenticated callers only. Open it privately:`,
    `  gcloud run services proxy ${cfg.explore.name} --region ${cfg.region} --port ${EXPLORE_PROXY_PORT} --project ${cfg.projectId}`,
    `  then browse http://127.0.0.1:${EXPLORE_PROXY_PORT}/ (the read API is under http://127.0.0.1:${EXPLORE_PROXY_PORT}/api/, docs/read-api.md)`,
  ];
}
