/**
 * The vocabulary of the deployment plans (./plan.ts, ./teardown.ts,
 * ./explore.ts, ./firestore-steps.ts): a step is a `gcloud` argv (never a
 * shell string) or an authenticated REST call, and may capture a value that
 * later steps reference as a `${NAME}` placeholder.
 */

import {DeployConfig, serviceAccountEmail} from './config';

/** Names a later step may reference as `${NAME}`. */
export type Capture =
  'PROJECT_NUMBER' | 'INGEST_URL' | 'RULESET_NAME' | 'PUSH_SUBSCRIPTIONS';

export interface StepBase {
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

/** A gcloud step. */
export function gcloud(
  description: string,
  argv: string[],
  extra: Partial<GcloudStep> = {},
): GcloudStep {
  return {kind: 'gcloud', description, argv, ...extra};
}

export function sa(cfg: DeployConfig, id: string): string {
  return serviceAccountEmail(cfg, id);
}
