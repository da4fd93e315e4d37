/**
 * The table of test/stress/hostile.test.ts: what a case is (a request, its
 * payload for the in-process decoder, what must follow), the expectations'
 * builders, and the generated packets the cases damage.
 */

import {readdirSync, readFileSync} from 'node:fs';
import * as path from 'node:path';

import type {Firestore} from '@google-cloud/firestore';

import {
  generateLsstPacket,
  generateZtfPacket,
  lsstLikeType,
  pythonJson,
  ztfLikeType,
} from '../../helpers';
import type {SchemaRegistry} from '../../helpers';
import {
  encodedOffsetOf,
  ocfLayout,
  replaceVarintAt,
  zigzagVarint,
} from '../../helpers/avro-bytes';
import {pushEnvelope} from '../../helpers/http-request';
import {samplesDir, schemasDir} from '../../../src/local/samples';

export const SUB = 'hostile-main';
/** Schema id of the generated LSST packets (does not collide with the real 7.0 .. 11.1). */
export const GEN_ID = 9901;
// The shipped samples/ unless ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR say otherwise.
export const SAMPLES: string | undefined = samplesDir();
export const SCHEMAS: string | undefined = schemasDir();
export const NO_SAMPLES =
  'ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR not set: the real-packet cases did not run';

export function samples(
  survey: 'ztf' | 'lsst',
): {name: string; bytes: Buffer}[] {
  if (!SAMPLES || !SCHEMAS) return [];
  const dir = path.join(SAMPLES, survey);
  return readdirSync(dir)
    .sort()
    .map(f => ({name: f, bytes: readFileSync(path.join(dir, f))}));
}

export interface Req {
  server?: 'dir' | 'registry';
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Record<string, unknown>;
}

export interface Expected {
  status: number;
  /** Error code of a 4xx/5xx answer, or the quarantine reason of a 204. */
  reason?: string;
  /** New quarantine documents (anywhere): 0 or 1. */
  quarantined: 0 | 1;
  /** New alert documents. */
  stored: number;
  /** The in-process decoder: fails with this code, or decodes (null). Payload cases only. */
  decoder?: string | null;
}

export interface Case {
  name: string;
  skip?: string;
  /** Subscription of the case (quarantine and alerts are looked up there). */
  sub?: string;
  /** Changes shared state: runs alone, after the others. */
  serial?: boolean;
  /** Runs before the request (e.g. stores a filter). */
  setup?: (ctx: Ctx) => Promise<void>;
  request: (ctx: Ctx) => Req;
  /** Payload of the message, for the in-process decoder check. */
  payload?: () => Buffer;
  expect: Expected;
  /** Sends the same request again and expects this (redelivery after a fix, or acked duplicate). */
  again?: {
    setup?: (ctx: Ctx) => Promise<void>;
    expect: Expected;
    /** A new message (another message id) rather than a redelivery. */
    newMessage?: boolean;
  };
}

export interface Ctx {
  /** The case's own subscription (nothing else writes there). */
  sub: string;
  db: Firestore;
  registry: SchemaRegistry;
  messageId: string;
}

export const quarantine = (
  reason: string,
  decoder?: string | null,
): Expected => ({
  status: 204,
  reason,
  quarantined: 1,
  stored: 0,
  decoder: decoder === undefined ? reason : decoder,
});
/** Refused by the functions framework's JSON body parser before the function runs (its own 400 page). */
export const refusedByFramework: Expected = {
  status: 400,
  quarantined: 0,
  stored: 0,
};
export const bad = (reason: string, quarantined: 0 | 1 = 0): Expected => ({
  status: 400,
  reason,
  quarantined,
  stored: 0,
});
export const retry = (reason: string, status = 503): Expected => ({
  status,
  reason,
  quarantined: 0,
  stored: 0,
});
export const stored = (n = 1): Expected => ({
  status: 204,
  quarantined: 0,
  stored: n,
  decoder: null,
});
export const filtered: Expected = {status: 204, quarantined: 0, stored: 0};

/** A push of `payload` to the main subscription (or `sub`) with the case's message id. */
export function push(
  payload: () => Buffer,
  opts: {
    sub?: string;
    server?: 'dir' | 'registry';
    attributes?: Record<string, string>;
  } = {},
): (ctx: Ctx) => Req {
  return ctx => ({
    server: opts.server,
    path: `/?subscription=${opts.sub ?? ctx.sub}`,
    body: pushEnvelope(payload(), {
      messageId: ctx.messageId,
      attributes: opts.attributes,
    }),
  });
}

export function envelopeTo(
  body: Req['body'],
  headers?: Record<string, string>,
) {
  return (ctx: Ctx): Req => ({
    path: `/?subscription=${ctx.sub}`,
    body,
    headers,
  });
}

/** A payload case: pushed to `sub`, and the same bytes through the decoder. */
export function payloadCase(
  name: string,
  payload: () => Buffer,
  expect: Expected,
  extra: Partial<Case> = {},
): Case {
  return {
    name,
    payload,
    request: push(payload, {sub: extra.sub}),
    expect,
    ...extra,
  };
}

export const memo = <T>(f: () => T): (() => T) => {
  let v: T | undefined;
  return () => (v ??= f());
};

// Generated packets (deterministic).
export const ztf = memo(() =>
  generateZtfPacket({seed: 11, cutoutBytes: 500, prvCandidates: 3}),
);
export const ztfDeflate = memo(() =>
  generateZtfPacket({seed: 12, cutoutBytes: 500, codec: 'deflate'}),
);
export const lsst = memo(() =>
  generateLsstPacket({seed: 13, schemaId: GEN_ID, cutoutBytes: 64}),
);
export const layout = memo(() => ocfLayout(ztf().bytes));

export function withSchemaId(bytes: Buffer, id: number): Buffer {
  const b = Buffer.from(bytes);
  b.writeInt32BE(id, 1);
  return b;
}

/** The ZTF packet with its first record re-encoded after `change`. */
export function ztfRecordVarint(
  change: (r: Record<string, unknown>) => Record<string, unknown>,
  value: number | bigint,
): Buffer {
  const p = ztf();
  const type = ztfLikeType();
  const rec = p.records[0];
  const at = encodedOffsetOf(type, rec, change);
  const body = replaceVarintAt(type.toBuffer(rec), at, value);
  const l = layout();
  return Buffer.concat([
    p.bytes.subarray(0, l.blockStart),
    zigzagVarint(1),
    zigzagVarint(body.length),
    body,
    l.sync,
  ]);
}

/** The LSST packet with the varint of a changed field replaced. */
export function lsstRecordVarint(
  change: (r: Record<string, unknown>) => Record<string, unknown>,
  value: number | bigint,
): Buffer {
  const type = lsstLikeType(GEN_ID);
  const rec = lsst().records[0];
  const at = encodedOffsetOf(type, rec, change);
  return Buffer.concat([
    lsst().bytes.subarray(0, 5),
    replaceVarintAt(type.toBuffer(rec), at, value),
  ]);
}

export function lite(fields: Record<string, unknown>): () => Buffer {
  return () => Buffer.from(pythonJson(fields));
}

export function nested(depth: number, leaf = '1'): string {
  return '['.repeat(depth) + leaf + ']'.repeat(depth);
}

export const b64 = (b: Buffer) => b.toString('base64');
export const valid = () => ztf().bytes; // any valid payload for request-level cases
