/**
 * Raw HTTP requests for tests of hostile input: the path is sent exactly as
 * given (no URL normalization of `..` or percent-escapes, unlike fetch), any
 * body bytes and headers, and the answer's status and body are returned.
 */

import {request} from 'node:http';

export interface RawRequest {
  port: number;
  host?: string;
  method?: string;
  /** Sent verbatim, e.g. `/../etc?subscription=%00`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
}

export function rawRequest(req: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body =
      req.body === undefined
        ? undefined
        : Buffer.isBuffer(req.body)
          ? req.body
          : Buffer.from(req.body);
    const r = request(
      {
        host: req.host ?? '127.0.0.1',
        port: req.port,
        method: req.method ?? 'POST',
        path: req.path,
        headers: {
          ...(body ? {'content-length': String(body.length)} : {}),
          ...req.headers,
        },
        timeout: req.timeoutMs ?? 60_000,
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
          });
        });
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer to ${req.path}`)));
    r.on('error', reject);
    r.end(body);
  });
}

/** The error code of a `{"error": {"code": ...}}` answer. */
export function errorCode(a: RawAnswer): string | undefined {
  const e = (a.json as {error?: {code?: unknown}} | undefined)?.error;
  return typeof e?.code === 'string' ? e.code : undefined;
}

export interface PushEnvelopeOptions {
  messageId?: string;
  attributes?: Record<string, string>;
  /** Full or short subscription name in the envelope (omitted when undefined). */
  subscription?: string;
  publishTime?: string;
}

/** A Pub/Sub push request body carrying `data` (base64-encoded here). */
export function pushEnvelope(
  data: Uint8Array,
  opts: PushEnvelopeOptions = {},
): Record<string, unknown> {
  return {
    message: {
      data: Buffer.from(data).toString('base64'),
      attributes: opts.attributes ?? {},
      messageId: opts.messageId,
      publishTime: opts.publishTime ?? new Date().toISOString(),
    },
    ...(opts.subscription === undefined
      ? {}
      : {subscription: opts.subscription}),
  };
}
