/**
 * Tools for bench/push.ts: a no-op push endpoint that records its requests,
 * a keep-alive HTTP poster with bounded concurrency, push envelopes like the
 * emulator's, process memory and statistics.
 */

import {readFileSync} from 'node:fs';
import * as http from 'node:http';
import {AddressInfo} from 'node:net';

import {LOOPBACK} from '../../src/local/ports';
import {groupMembers} from '../../src/local/process-group';

export {MiB, rssOf} from '../../test/helpers/process-memory';

/** A push body as the Pub/Sub emulator sends it (both spellings of the ids). */
export function pushEnvelope(
  data: Buffer,
  messageId: string,
  subscription: string,
  project: string,
): Buffer {
  const publishTime = new Date().toISOString();
  return Buffer.from(
    JSON.stringify({
      message: {
        data: data.toString('base64'),
        attributes: {},
        messageId,
        message_id: messageId,
        publishTime,
        publish_time: publishTime,
      },
      subscription: `projects/${project}/subscriptions/${subscription}`,
    }),
  );
}

export interface NoopEndpoint {
  url: string;
  /** Requests answered. */
  readonly requests: number;
  /** Distinct message ids answered. */
  readonly unique: number;
  /** Most requests open at the same time. */
  readonly maxInFlight: number;
  /** performance.now() of the first request and of the last answer. */
  readonly firstAt: number;
  readonly lastAt: number;
  /** Resolves when `n` distinct messages have been answered. */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const MESSAGE_ID = Buffer.from('"messageId":"');

/**
 * node:http endpoint that reads the whole body and answers 204 (after
 * `work()`, when given: e.g. one bare Firestore create).
 */
export async function startNoopEndpoint(
  work?: () => Promise<unknown>,
): Promise<NoopEndpoint> {
  const seen = new Set<string>();
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let firstAt = 0;
  let lastAt = 0;
  let waiter: {n: number; resolve: () => void} | undefined;
  const server = http.createServer((req, res) => {
    if (!firstAt) firstAt = performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (work) await work();
      const body = Buffer.concat(chunks);
      // The id without parsing the ~95 KB of JSON (a native search).
      const at = body.indexOf(MESSAGE_ID);
      if (at >= 0) {
        const start = at + MESSAGE_ID.length;
        seen.add(body.toString('latin1', start, body.indexOf(34, start)));
      }
      requests++;
      res.writeHead(204).end();
      inFlight--;
      lastAt = performance.now();
      if (waiter && seen.size >= waiter.n) waiter.resolve();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>(r => server.listen(0, LOOPBACK, r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    get requests() {
      return requests;
    },
    get unique() {
      return seen.size;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get firstAt() {
      return firstAt;
    },
    get lastAt() {
      return lastAt;
    },
    waitFor: (n, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (seen.size >= n) return resolve();
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no-op endpoint: ${seen.size}/${n} after timeout`),
            ),
          timeoutMs,
        );
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      }),
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface PostResult {
  /** Wall time of the whole run, ms. */
  ms: number;
  /** Per-request latency, ms. */
  latencies: number[];
  /** Count per HTTP status. */
  statuses: Record<number, number>;
}

/** One POST; resolves with the status (the body is read and dropped). */
export function post(
  agent: http.Agent,
  url: URL,
  body: Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Posts `count` bodies (made on demand by `body(i)`) to `url` with at most
 * `concurrency` requests open, over keep-alive connections (or a new
 * connection per request, as the Pub/Sub emulator's push, with
 * `keepAlive` false). `onDone(n)` is called after each answer with the
 * number answered so far.
 */
export async function postAll(
  url: string,
  count: number,
  body: (i: number) => Buffer,
  concurrency: number,
  onDone?: (done: number) => void,
  keepAlive = true,
): Promise<PostResult> {
  const agent = new http.Agent({keepAlive, maxSockets: concurrency});
  const target = new URL(url);
  const latencies: number[] = new Array(count);
  const statuses: Record<number, number> = {};
  let next = 0;
  let done = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const data = body(i);
      const t0 = performance.now();
      const status = await post(agent, target, data);
      latencies[i] = performance.now() - t0;
      statuses[status] = (statuses[status] ?? 0) + 1;
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({length: concurrency}, worker));
  const ms = performance.now() - started;
  agent.destroy();
  return {ms, latencies, statuses};
}

/** CPU time (user + system) a process has used so far, ms. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): ") S ppid ..."
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime
    return (ticks * 1000) / 100; // USER_HZ
  } catch {
    return NaN;
  }
}

/** CPU time used so far by every process of a process group (an emulator: wrapper + Java), ms. */
export function groupCpuMs(pgid: number): number {
  return groupMembers(pgid).reduce((sum, pid) => sum + (cpuMsOf(pid) || 0), 0);
}

/** CPU time used so far by this process, ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
