/**
 * Classifies Firestore failures into the project's typed errors.
 * Transient (retrying can help): CANCELLED 1, UNKNOWN 2, DEADLINE_EXCEEDED 4,
 * RESOURCE_EXHAUSTED 8, ABORTED 10, INTERNAL 13, UNAVAILABLE 14, socket
 * errors, our own call timeout, and failures we cannot recognise. Also
 * transient: the deployment's own faults, NOT_FOUND 5 (no database),
 * PERMISSION_DENIED 7 and UNAUTHENTICATED 16 (a broken IAM binding) — the
 * alert is fine, so Pub/Sub keeps it until the deployment is fixed instead of
 * it being quarantined. Permanent: every other gRPC code (INVALID_ARGUMENT 3,
 * FAILED_PRECONDITION 9, OUT_OF_RANGE 11, UNIMPLEMENTED 12, ...) and the
 * client's own validation of the data.
 * ALREADY_EXISTS (6) is not an error for the stores (it means "duplicate")
 * and is handled before this.
 */

import {
  AlertError,
  errorMessage,
  PermanentError,
  TransientError,
} from '../errors';

export const ALREADY_EXISTS = 6;

const TRANSIENT_GRPC = new Set([1, 2, 4, 5, 7, 8, 10, 13, 14, 16]);
const TRANSIENT_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** The gRPC status code of a Firestore error, if it has one. */
export function grpcCode(e: unknown): number | undefined {
  const code = (e as {code?: unknown} | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function classifyFirestoreError(
  e: unknown,
  details: Record<string, unknown> = {},
): AlertError {
  if (e instanceof AlertError) return e;
  const message = errorMessage(e);
  const code = grpcCode(e);
  const all = {...details, grpcCode: code};
  if (code !== undefined) {
    if (TRANSIENT_GRPC.has(code)) {
      return new TransientError(
        'store-unavailable',
        `Firestore: ${message}`,
        all,
        {cause: e},
      );
    }
    const tooLarge = /maximum allowed size|too large|exceeds|longer than/i.test(
      message,
    );
    return new PermanentError(
      tooLarge ? 'too-large' : 'store-rejected',
      `Firestore rejected the write: ${message}`,
      all,
      {cause: e},
    );
  }
  const sysCode = (e as {code?: unknown} | null)?.code;
  if (typeof sysCode === 'string' && TRANSIENT_SOCKET.has(sysCode)) {
    return new TransientError(
      'store-unavailable',
      `Firestore: ${message}`,
      all,
      {
        cause: e,
      },
    );
  }
  // The client library's own validation of the data (no gRPC call made).
  if (
    /^Value for argument|not a valid Firestore|Couldn't serialize|Cannot use|Invalid use of/i.test(
      message,
    )
  ) {
    return new PermanentError(
      'store-rejected',
      `Firestore refused the data: ${message}`,
      all,
      {cause: e},
    );
  }
  // Unknown: retrying is the safe side (Pub/Sub redelivers, nothing is lost).
  return new TransientError('store-unavailable', `Firestore: ${message}`, all, {
    cause: e,
  });
}

/** True for the error of {@link withTimeout}: Firestore gave no answer at all in time. */
export function isCallTimeout(e: unknown): boolean {
  return (
    e instanceof TransientError &&
    e.code === 'store-unavailable' &&
    typeof e.details.timeoutMs === 'number'
  );
}

/**
 * Rejects with a transient `store-unavailable` when `promise` has not settled
 * within `ms`. This is the only effective bound: the Firestore client passes
 * its own retry settings for Commit and BatchWrite (UNAVAILABLE retried for up
 * to 600 s, 60 s per attempt) that client `clientConfig` overrides do not
 * change. The call itself goes on in the background and may still land later;
 * writes are idempotent creates, so a retry then reports 'duplicate'.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransientError(
            'store-unavailable',
            `Firestore did not answer ${what} within ${ms} ms`,
            {timeoutMs: ms},
          ),
        ),
      ms,
    );
  });
  promise.catch(() => undefined); // a late failure must not be unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
