/**
 * Which messages a push subscription still holds unacknowledged, checked on
 * the Pub/Sub emulator after a run.
 *
 * A push subscription cannot simply be pulled from: the emulator keeps
 * pushing, and a message whose push is still open (or whose answer was lost)
 * is leased, so a pull made at once would not see it. A second subscription
 * on the topic proves nothing either: it gets its own copy of every message,
 * whatever the first one acked. So:
 * 1. detach the push endpoint (`modifyPushConfig({})`: the subscription
 *    becomes a pull subscription, nothing more is pushed);
 * 2. wait past the ack deadline (plus a margin) from the detach: every lease
 *    of a push that was open then has expired, and a nacked (5xx) message is
 *    available at once anyway;
 * 3. synchronous pulls until one comes back empty: what they return is
 *    exactly what was never acknowledged (acked messages are gone; the
 *    subscriptions here do not retain acked messages unless a test seeks).
 * Measured on the emulator (test/stress/faults.test.ts runs a control): of
 * five pushed messages, one answered 500 and one never answered, the pull
 * made right after the detach returned nothing and the one made past the
 * deadline returned exactly those two.
 * Pulled messages are not acked (nacked at once), so the subscription is left
 * as it was found, minus its push endpoint.
 */

import type {Subscription} from '@google-cloud/pubsub';

import {sleep} from './wait';

export interface UnackedMessage {
  messageId: string;
  bytes: number;
  attributes: Record<string, string>;
}

interface PullResponse {
  receivedMessages?: {
    ackId?: string | null;
    message?: {
      messageId?: string | null;
      data?: Uint8Array | string | null;
      attributes?: Record<string, string> | null;
    } | null;
  }[];
}

interface SubscriberStub {
  pull(
    req: {
      subscription: string;
      maxMessages: number;
      returnImmediately: boolean;
    },
    opts: {timeout: number},
  ): Promise<[PullResponse]>;
  modifyAckDeadline(req: {
    subscription: string;
    ackIds: string[];
    ackDeadlineSeconds: number;
  }): Promise<unknown>;
}

/**
 * Detaches `subscription`'s push endpoint now and resolves, after its ack
 * deadline (`ackDeadlineSeconds`, as it was created) and `marginMs`, with
 * the messages it still holds. Start it as soon as a run is over: the wait
 * overlaps whatever the test does next.
 */
export async function unackedAfterPush(
  subscription: Subscription,
  ackDeadlineSeconds: number,
  marginMs = 2000,
): Promise<UnackedMessage[]> {
  await subscription.modifyPushConfig({});
  const detachedAt = Date.now();
  const client = (await subscription.pubsub.getClientAsync_({
    client: 'SubscriberClient',
  })) as unknown as SubscriberStub;
  await sleep(detachedAt + ackDeadlineSeconds * 1000 + marginMs - Date.now());
  const found = new Map<string, UnackedMessage>();
  for (let round = 0; round < 100; round++) {
    const [res] = await client.pull(
      {
        subscription: subscription.name,
        maxMessages: 1000,
        returnImmediately: true,
      },
      {timeout: 10_000},
    );
    const received = res.receivedMessages ?? [];
    const fresh = received.filter(r => !found.has(r.message?.messageId ?? ''));
    for (const r of received) {
      const m = r.message ?? {};
      const data = m.data ?? '';
      found.set(m.messageId ?? '', {
        messageId: m.messageId ?? '',
        bytes: typeof data === 'string' ? data.length : data.byteLength,
        attributes: m.attributes ?? {},
      });
    }
    const ackIds = received.flatMap(r => (r.ackId ? [r.ackId] : []));
    if (ackIds.length) {
      // Hand them back (nack) rather than hold them until the deadline.
      await client.modifyAckDeadline({
        subscription: subscription.name,
        ackIds,
        ackDeadlineSeconds: 0,
      });
    }
    // Nacked messages come straight back: stop once nothing new arrives.
    if (fresh.length === 0) break;
  }
  return [...found.values()];
}
