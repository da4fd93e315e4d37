/**
 * Replaces a client whose connection is stuck.
 *
 * The Firestore client (gRPC, @grpc/grpc-js 1.14) has no deadline on
 * establishing a connection: a peer that accepts the TCP connection but never
 * answers the HTTP/2 (or TLS) handshake — a hung server, a middlebox that
 * drops the traffic of a half-open connection — leaves the channel in
 * CONNECTING for good, and every later call waits on it. Keepalive does not
 * help (it starts once the connection is ready). Measured in the stress
 * suite (test/stress/faults.test.ts): after 10 s of a blackholed Firestore,
 * healing the network did not help; every write timed out for minutes, until
 * the process was replaced.
 *
 * The recycler watches the outcome of every call made through `run`: when
 * only call timeouts (no answer at all, not even an error) have been seen for
 * `windowMs`, it builds a new client (a new channel, a new connection) and
 * lets the old one go (`dispose`, not awaited: its abandoned calls may hang).
 * At most one replacement per `windowMs`, so an outage of the service itself
 * costs one new client per window, not one per call.
 */

export interface ClientRecyclerOptions<T> {
  create(): T;
  /** Releases a replaced client (errors are ignored; not awaited). */
  dispose?(client: T): Promise<unknown> | void;
  /** Classifies a failure: true when the call got no answer in time. */
  isTimeout(error: unknown): boolean;
  /** How long only timeouts must be seen before replacing (and between replacements), ms. */
  windowMs: number;
  now?: () => number;
  /** Told each replacement (for a log line). */
  onRecycle?(info: {
    recycles: number;
    timeoutsSeen: number;
    sinceMs: number;
  }): void;
}

export interface ClientRecycler<T> {
  /** The client to use now. */
  current(): T;
  /** Runs `op` on the current client and records whether it was answered. */
  run<R>(op: (client: T) => Promise<R>): Promise<R>;
  /** Replacements so far. */
  readonly recycles: number;
}

export function createClientRecycler<T>(
  opts: ClientRecyclerOptions<T>,
): ClientRecycler<T> {
  const now = opts.now ?? Date.now;
  let client = opts.create();
  let recycles = 0;
  /** Start of the current run of timeouts (undefined: the last call was answered). */
  let timeoutsSince: number | undefined;
  let timeoutsSeen = 0;
  let lastRecycleAt = -Infinity;

  const answered = () => {
    timeoutsSince = undefined;
    timeoutsSeen = 0;
  };

  const timedOut = (usedClient: T) => {
    // A late timeout of a client already replaced says nothing about the new one.
    if (usedClient !== client) return;
    const t = now();
    timeoutsSince ??= t;
    timeoutsSeen++;
    if (
      t - timeoutsSince >= opts.windowMs &&
      t - lastRecycleAt >= opts.windowMs
    ) {
      const old = client;
      client = opts.create();
      recycles++;
      opts.onRecycle?.({recycles, timeoutsSeen, sinceMs: t - timeoutsSince});
      lastRecycleAt = t;
      answered();
      try {
        Promise.resolve(opts.dispose?.(old)).catch(() => undefined);
      } catch {
        // disposing is best effort
      }
    }
  };

  return {
    current: () => client,
    get recycles() {
      return recycles;
    },
    async run(op) {
      const used = client;
      try {
        const result = await op(used);
        if (used === client) answered();
        return result;
      } catch (e) {
        if (opts.isTimeout(e)) timedOut(used);
        else if (used === client) answered();
        throw e;
      }
    },
  };
}
