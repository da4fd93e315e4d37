/**
 * The Pub/Sub calls the manager makes, behind an interface (tests inject
 * fakes), and their implementation with `@google-cloud/pubsub`. Every
 * failure becomes a typed error ({@link classifyPubSubError}).
 */

import type {protos, PubSub, SubscriptionMetadata} from '@google-cloud/pubsub';

import {
  AlertError,
  errorMessage,
  PermanentError,
  TransientError,
} from '../errors';

/** A subscription resource as Pub/Sub returns it. */
export type SubscriptionResourceData = protos.google.pubsub.v1.ISubscription;

export interface PubSubPort {
  /** Full path `projects/P/subscriptions/NAME` in the user's project. */
  subscriptionPath(name: string): string;
  /** true / false; undefined when we may not know (PERMISSION_DENIED on another project's topic). */
  topicExists(topic: string): Promise<boolean | undefined>;
  /** The subscription's resource, undefined when it does not exist. */
  getSubscription(name: string): Promise<SubscriptionResourceData | undefined>;
  /** Creates it; ALREADY_EXISTS and NOT_FOUND (topic) come back as `grpcCode` on the error. */
  createSubscription(
    name: string,
    topic: string,
    metadata: SubscriptionMetadata,
  ): Promise<SubscriptionResourceData>;
  /** Updates the given fields (the update mask is their names). */
  updateSubscription(
    name: string,
    metadata: SubscriptionMetadata,
  ): Promise<SubscriptionResourceData>;
  /** false when it did not exist. */
  deleteSubscription(name: string): Promise<boolean>;
  seek(name: string, time: Date): Promise<void>;
}

export const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const TRANSIENT = new Set([1, 2, 4, 8, 10, 13, 14]);

export function grpcCodeOf(e: unknown): number | undefined {
  if (e instanceof AlertError) {
    const c = e.details.grpcCode;
    return typeof c === 'number' ? c : undefined;
  }
  const code = (e as {code?: unknown} | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Pub/Sub failure → typed error. NOT_FOUND → 'not-found'; ALREADY_EXISTS,
 * FAILED_PRECONDITION → 'conflict'; INVALID_ARGUMENT → 'bad-request';
 * PERMISSION_DENIED, UNAUTHENTICATED → 'pubsub-rejected' (the function's own
 * credentials, not the caller's); UNAVAILABLE, DEADLINE_EXCEEDED and the
 * other retryable codes → transient 'pubsub-unavailable'.
 */
export function classifyPubSubError(
  e: unknown,
  what: string,
  details: Record<string, unknown> = {},
): AlertError {
  if (e instanceof AlertError) return e;
  const code = grpcCodeOf(e);
  const message = `Pub/Sub ${what}: ${errorMessage(e)}`;
  const all = {...details, grpcCode: code};
  switch (code) {
    case GRPC.NOT_FOUND:
      return new PermanentError('not-found', message, all, {cause: e});
    case GRPC.ALREADY_EXISTS:
    case GRPC.FAILED_PRECONDITION:
      return new PermanentError('conflict', message, all, {cause: e});
    case GRPC.INVALID_ARGUMENT:
    case GRPC.UNIMPLEMENTED:
      return new PermanentError('bad-request', message, all, {cause: e});
    case GRPC.PERMISSION_DENIED:
    case GRPC.UNAUTHENTICATED:
      return new PermanentError(
        'pubsub-rejected',
        `${message} (the manage function's service account needs roles/pubsub.editor in this project)`,
        all,
        {cause: e},
      );
    default:
      if (code === undefined || TRANSIENT.has(code)) {
        return new TransientError('pubsub-unavailable', message, all, {
          cause: e,
        });
      }
      return new PermanentError('pubsub-rejected', message, all, {cause: e});
  }
}

/** The port over a `PubSub` client of the user's project. */
export function createPubSubPort(
  pubsub: PubSub,
  opts: {timeoutMs?: number} = {},
): PubSubPort {
  const gaxOpts = {timeout: opts.timeoutMs ?? 30_000};
  const path = (name: string) =>
    `projects/${pubsub.projectId}/subscriptions/${name}`;
  const sub = (name: string) => pubsub.subscription(path(name));
  async function call<T>(
    what: string,
    details: Record<string, unknown>,
    op: () => Promise<T>,
  ): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw classifyPubSubError(e, what, details);
    }
  }
  return {
    subscriptionPath: path,
    async topicExists(topic) {
      try {
        await pubsub.topic(topic).getMetadata(gaxOpts);
        return true;
      } catch (e) {
        const code = grpcCodeOf(e);
        if (code === GRPC.NOT_FOUND) return false;
        // Subscribers of Pitt-Google's topics may attach but not read them.
        if (code === GRPC.PERMISSION_DENIED) return undefined;
        throw classifyPubSubError(e, 'reading the topic', {topic});
      }
    },
    async getSubscription(name) {
      try {
        const [m] = await sub(name).getMetadata(gaxOpts);
        return m;
      } catch (e) {
        if (grpcCodeOf(e) === GRPC.NOT_FOUND) return undefined;
        throw classifyPubSubError(e, 'reading the subscription', {
          subscription: name,
        });
      }
    },
    createSubscription: (name, topic, metadata) =>
      call(
        'creating the subscription',
        {subscription: name, topic},
        async () => {
          const [s] = await pubsub
            .topic(topic)
            .createSubscription(path(name), {...metadata, gaxOpts});
          const [m] = await s.getMetadata(gaxOpts);
          return m;
        },
      ),
    updateSubscription: (name, metadata) =>
      call('updating the subscription', {subscription: name}, async () => {
        const [m] = await sub(name).setMetadata(metadata, gaxOpts);
        return m;
      }),
    async deleteSubscription(name) {
      try {
        await sub(name).delete(gaxOpts);
        return true;
      } catch (e) {
        if (grpcCodeOf(e) === GRPC.NOT_FOUND) return false;
        throw classifyPubSubError(e, 'deleting the subscription', {
          subscription: name,
        });
      }
    },
    seek: (name, time) =>
      call('seeking', {subscription: name}, async () => {
        await sub(name).seek(time, gaxOpts);
      }),
  };
}
