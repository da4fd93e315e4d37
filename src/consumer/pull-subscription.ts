/**
 * The minimal pull-subscription lifecycle of tom_pittgoogle's
 * ConsumerStreamPython: `touch` gets the subscription in the user's project, creating it on the
 * Pitt-Google topic of the same name when it is missing (a missing topic is
 * a clear PermanentError); `delete` deletes it, ignoring "not found".
 *
 * Scope: pull subscriptions for the consumer only. Push subscriptions, stored
 * filters and server-side filters are the management function's
 * (src/manage); this module does not write them.
 */

import type {PubSub, Subscription} from '@google-cloud/pubsub';

import {PermanentError, TransientError, errorMessage} from '../errors';
import {validateResourceId} from '../ingest/envelope';

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

export interface PullSubscriptionOptions {
  /** Subscription name in the user's project; the topic has the same name. */
  name: string;
  /** Project of the Pitt-Google topics. */
  topicProject: string;
  /** Ack deadline of a created subscription, seconds. Default 60. */
  ackDeadlineSeconds?: number;
}

export function topicPath(project: string, name: string): string {
  return `projects/${project}/topics/${name}`;
}

const code = (e: unknown) => (e as {code?: unknown})?.code;

/** Gets or creates the pull subscription; returns whether it was created. */
export async function touchPullSubscription(
  pubsub: PubSub,
  opts: PullSubscriptionOptions,
): Promise<{subscription: Subscription; created: boolean}> {
  const name = validateResourceId(opts.name);
  const subscription = pubsub.subscription(name);
  try {
    const [exists] = await subscription.exists();
    if (exists) return {subscription, created: false};
    const topic = pubsub.topic(topicPath(opts.topicProject, name));
    const [topicExists] = await topic.exists();
    if (!topicExists) {
      throw new PermanentError(
        'topic-not-found',
        `the Pitt-Google topic ${topic.name} does not exist: check the subscription name (e.g. ztf-loop, ztf-alerts) and the topic project (${opts.topicProject})`,
        {topic: topic.name},
      );
    }
    try {
      await topic.createSubscription(name, {
        ackDeadlineSeconds: opts.ackDeadlineSeconds ?? 60,
      });
      return {subscription, created: true};
    } catch (e) {
      if (code(e) === ALREADY_EXISTS) return {subscription, created: false};
      throw e;
    }
  } catch (e) {
    if (e instanceof PermanentError) throw e;
    throw new TransientError(
      'pull-failed',
      `could not get or create subscription ${name}: ${errorMessage(e)}`,
      {subscription: name},
      {cause: e},
    );
  }
}

/** Deletes the subscription; false when it did not exist. */
export async function deletePullSubscription(
  pubsub: PubSub,
  name: string,
): Promise<boolean> {
  try {
    await pubsub.subscription(validateResourceId(name)).delete();
    return true;
  } catch (e) {
    if (code(e) === NOT_FOUND) return false;
    if (e instanceof PermanentError) throw e;
    throw new TransientError(
      'pull-failed',
      `could not delete subscription ${name}: ${errorMessage(e)}`,
      {subscription: name},
      {cause: e},
    );
  }
}
