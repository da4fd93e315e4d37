/**
 * A loopback gRPC proxy (HTTP/2 with prior knowledge, as the Firestore
 * client speaks to the emulator) that forwards every call, or answers the
 * calls it is told to throttle itself with a gRPC status, without reaching
 * the emulator: the closest the emulator allows to Firestore throttling
 * (RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED). The emulator itself
 * never throttles: it models no hotspot and no ramp.
 *
 * An answered call is a "trailers-only" response (HTTP 200, content-type
 * application/grpc, grpc-status and grpc-message in the headers), exactly
 * what a gRPC server sends for a call it refuses before any message. The
 * client library sees the status as it would from Firestore (and retries
 * Commit on RESOURCE_EXHAUSTED and ABORTED with its own backoff).
 */

import * as http2 from 'node:http2';

export interface Throttle {
  /**
   * gRPC status code to answer (8 RESOURCE_EXHAUSTED, 10 ABORTED, 4
   * DEADLINE_EXCEEDED), or codes taken in turn, one per call.
   */
  code: number | readonly number[];
  message: string;
  /** Which calls (`/google.firestore.v1.Firestore/Commit`, ...); default all. */
  methods?: RegExp;
}

export interface GrpcProxy {
  readonly host: string;
  readonly port: number;
  /** Answer matching calls with a status (null: forward everything). */
  throttle(t: Throttle | null): void;
  /** Calls forwarded and calls answered by the throttle, per method. */
  readonly forwarded: number;
  readonly throttled: Map<string, number>;
  close(): Promise<void>;
}

const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  http2.constants.HTTP2_HEADER_AUTHORITY,
  http2.constants.HTTP2_HEADER_SCHEME,
]);

function forwardable(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined && !HOP_HEADERS.has(k)) out[k] = v;
  }
  return out;
}

export async function startGrpcProxy(target: {
  host: string;
  port: number;
}): Promise<GrpcProxy> {
  let upstream: http2.ClientHttp2Session | undefined;
  const connectUpstream = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${target.host}:${target.port}`);
      upstream.on('error', () => undefined);
    }
    return upstream;
  };
  let current: Throttle | null = null;
  let turn = 0;
  let forwarded = 0;
  const throttled = new Map<string, number>();
  const sessions = new Set<http2.ServerHttp2Session>();

  const server = http2.createServer();
  server.on('session', s => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const path = String(headers[':path'] ?? '');
    const t = current;
    if (t && (!t.methods || t.methods.test(path))) {
      throttled.set(path, (throttled.get(path) ?? 0) + 1);
      const code =
        typeof t.code === 'number' ? t.code : t.code[turn++ % t.code.length];
      // Read (and drop) the request before answering, as a server would.
      stream.resume();
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(code),
          'grpc-message': encodeURIComponent(t.message),
        },
        {endStream: true},
      );
      return;
    }
    forwarded++;
    let up: http2.ClientHttp2Stream;
    try {
      up = connectUpstream().request(forwardable(headers));
    } catch {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    up.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('close', () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
    up.on('response', h => {
      if (h['grpc-status'] !== undefined) {
        // Trailers-only: the status is in the headers, nothing follows.
        stream.respond(forwardable(h), {endStream: true});
        up.resume();
        return;
      }
      stream.respond(forwardable(h), {waitForTrailers: true});
      stream.once('wantTrailers', () => {
        stream.sendTrailers(upTrailers ?? {});
      });
    });
    let upTrailers: http2.OutgoingHttpHeaders | undefined;
    up.on('trailers', h => {
      upTrailers = forwardable(h);
    });
    stream.pipe(up);
    up.pipe(stream);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    throttle(t) {
      current = t;
    },
    get forwarded() {
      return forwarded;
    },
    throttled,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sessions) s.destroy();
        upstream?.destroy();
        server.close(() => resolve());
      }),
  };
}
