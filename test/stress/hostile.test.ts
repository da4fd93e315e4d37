/**
 * Hostile input, one named case at a time, through the push endpoint of the
 * ingest function served by the real functions framework (child process)
 * with the Firestore emulator, and (for payloads) through the decoder in
 * process. Each case asserts the answer's class and reason, what reached
 * Firestore (exactly one quarantine document with that reason, or none, or
 * the stored alerts), and that the function is still alive and healthy: a
 * valid alert sent right after it is stored. Figures: cases tried; valid
 * alerts lost, stored twice or quarantined (all must be 0).
 */

import {strict as assert} from 'node:assert';
import {mkdtemp, rm} from 'node:fs/promises';
import {readdirSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {deflateRawSync} from 'node:zlib';
import {after, before, describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';

import {createDecoder, Decoder} from '../../src/alert';
import {isAlertError} from '../../src/errors';
import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {
  generateLiteJson,
  generateLsstPacket,
  generateZtfPacket,
  lsstLikeSchemaText,
  lsstLikeType,
  ocfHeader,
  pythonJson,
  startSchemaRegistry,
  writeMixedSchemaDir,
  writeOcf,
  ztfLikeSchemaText,
  ztfLikeType,
} from '../helpers';
import type {SchemaRegistry} from '../helpers';
import {
  encodedOffsetOf,
  ocfLayout,
  replaceVarintAt,
  zigzagVarint,
} from '../helpers/avro-bytes';
import {useEmulators} from '../helpers/emulator-fixture';
import {
  errorCode,
  pushEnvelope,
  rawRequest,
  RawAnswer,
} from '../helpers/http-request';
import {samplesDir, schemasDir} from '../../src/local/samples';
import {recordFigure, scaled} from '../helpers/stress-report';

const SUB = 'hostile-main';
/** Schema id of the generated LSST packets (does not collide with the real 7.0 .. 11.1). */
const GEN_ID = 9901;
// The shipped samples/ unless ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR say otherwise.
const SAMPLES: string | undefined = samplesDir();
const SCHEMAS: string | undefined = schemasDir();
const NO_SAMPLES =
  'ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR not set: the real-packet cases did not run';

function samples(survey: 'ztf' | 'lsst'): {name: string; bytes: Buffer}[] {
  if (!SAMPLES || !SCHEMAS) return [];
  const dir = path.join(SAMPLES, survey);
  return readdirSync(dir)
    .sort()
    .map(f => ({name: f, bytes: readFileSync(path.join(dir, f))}));
}

// ---------------------------------------------------------------------------
// the table

interface Req {
  server?: 'dir' | 'registry';
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Record<string, unknown>;
}

interface Expected {
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

interface Case {
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

interface Ctx {
  /** The case's own subscription (nothing else writes there). */
  sub: string;
  db: Firestore;
  registry: SchemaRegistry;
  messageId: string;
}

const quarantine = (reason: string, decoder?: string | null): Expected => ({
  status: 204,
  reason,
  quarantined: 1,
  stored: 0,
  decoder: decoder === undefined ? reason : decoder,
});
/** Refused by the functions framework's JSON body parser before the function runs (its own 400 page). */
const refusedByFramework: Expected = {status: 400, quarantined: 0, stored: 0};
const bad = (reason: string, quarantined: 0 | 1 = 0): Expected => ({
  status: 400,
  reason,
  quarantined,
  stored: 0,
});
const retry = (reason: string, status = 503): Expected => ({
  status,
  reason,
  quarantined: 0,
  stored: 0,
});
const stored = (n = 1): Expected => ({
  status: 204,
  quarantined: 0,
  stored: n,
  decoder: null,
});
const filtered: Expected = {status: 204, quarantined: 0, stored: 0};

/** A push of `payload` to the main subscription (or `sub`) with the case's message id. */
function push(
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

function envelopeTo(body: Req['body'], headers?: Record<string, string>) {
  return (ctx: Ctx): Req => ({
    path: `/?subscription=${ctx.sub}`,
    body,
    headers,
  });
}

/** A payload case: pushed to `sub`, and the same bytes through the decoder. */
function payloadCase(
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

const memo = <T>(f: () => T): (() => T) => {
  let v: T | undefined;
  return () => (v ??= f());
};

// Generated packets (deterministic).
const ztf = memo(() =>
  generateZtfPacket({seed: 11, cutoutBytes: 500, prvCandidates: 3}),
);
const ztfDeflate = memo(() =>
  generateZtfPacket({seed: 12, cutoutBytes: 500, codec: 'deflate'}),
);
const lsst = memo(() =>
  generateLsstPacket({seed: 13, schemaId: GEN_ID, cutoutBytes: 64}),
);
const layout = memo(() => ocfLayout(ztf().bytes));

function withSchemaId(bytes: Buffer, id: number): Buffer {
  const b = Buffer.from(bytes);
  b.writeInt32BE(id, 1);
  return b;
}

/** The ZTF packet with its first record re-encoded after `change`. */
function ztfRecordVarint(
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
function lsstRecordVarint(
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

function lite(fields: Record<string, unknown>): () => Buffer {
  return () => Buffer.from(pythonJson(fields));
}

function nested(depth: number, leaf = '1'): string {
  return '['.repeat(depth) + leaf + ']'.repeat(depth);
}

const b64 = (b: Buffer) => b.toString('base64');
const valid = () => ztf().bytes; // any valid payload for request-level cases

let filterSeed = 0;

function filterCase(
  name: string,
  filter: unknown,
  expect: Expected,
  fix?: unknown,
): Case {
  const sub = `hostile-filter-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
  const putFilter = (f: unknown) => async (ctx: Ctx) => {
    await ctx.db.collection('subscriptions').doc(sub).set({
      name: sub,
      topic: 'projects/ardent-cycling-243415/topics/ztf-loop',
      filter: f,
      serverFilter: '',
      settings: {},
    });
  };
  return {
    name: `stored filter: ${name}`,
    sub,
    setup: putFilter(filter),
    // A fresh packet per case: its alert is not stored anywhere yet.
    request: push(
      memo(
        () =>
          generateZtfPacket({seed: 900 + ++filterSeed, cutoutBytes: 0}).bytes,
      ),
      {sub},
    ),
    expect,
    again:
      fix === undefined ? undefined : {setup: putFilter(fix), expect: stored()},
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (...c: Case[]) => out.push(...c);

  // --- the request itself (envelope, transport) ---
  add(
    {
      name: 'non-JSON body (text/plain)',
      request: envelopeTo('not json at all', {
        'content-type': 'text/plain',
      }),
      expect: bad('bad-envelope', 1),
    },
    {
      name: 'malformed JSON body (application/json, refused by the framework)',
      request: envelopeTo('{"message": {"data": "AAAA"', {
        'content-type': 'application/json',
      }),
      expect: refusedByFramework,
    },
    {
      name: 'JSON array body',
      request: envelopeTo([1, 2, 3] as unknown as Record<string, unknown>),
      expect: bad('bad-envelope'),
    },
    {
      name: 'JSON null body (refused by the framework)',
      request: envelopeTo('null', {
        'content-type': 'application/json',
      }),
      expect: refusedByFramework,
    },
    {
      name: 'empty body',
      request: envelopeTo('', {
        'content-type': 'application/json',
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: 'no message',
      request: envelopeTo({subscription: 'hostile-x'}),
      expect: bad('bad-envelope'),
    },
    {
      name: 'message is a string',
      request: envelopeTo({message: 'AAAA'}),
      expect: bad('bad-envelope'),
    },
    {
      name: 'attributes only (no data)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {
          message: {attributes: {objectId: 'ZTF1'}, messageId: ctx.messageId},
        },
      }),
      payload: () => Buffer.alloc(0),
      expect: quarantine('empty-payload'),
    },
    {
      name: 'empty data',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {message: {data: '', messageId: ctx.messageId}},
      }),
      expect: quarantine('empty-payload', undefined),
    },
    {
      name: 'data is a number',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {message: {data: 12345, messageId: ctx.messageId}},
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: 'bad base64 (!!!)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {message: {data: '!!!not base64', messageId: ctx.messageId}},
      }),
      expect: bad('bad-envelope', 1),
    },
    {
      name: 'bad base64 (length 4n+1)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {message: {data: 'AAAAA', messageId: ctx.messageId}},
      }),
      expect: bad('bad-envelope', 1),
    },
    {
      name: 'attribute value not a string',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {
          message: {
            data: b64(valid()),
            attributes: {fid: 1},
            messageId: ctx.messageId,
          },
        },
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: 'attributes is an array',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: {
          message: {
            data: b64(valid()),
            attributes: ['a'],
            messageId: ctx.messageId,
          },
        },
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: 'deeply nested JSON envelope (attributes 100,000 levels)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        headers: {'content-type': 'application/json'},
        body: `{"message": {"messageId": "${ctx.messageId}", "data": "AAAA", "attributes": {"x": ${nested(100_000)}}}}`,
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: 'deeply nested JSON body (1,000,000 levels of arrays)',
      request: envelopeTo(nested(1_000_000), {
        'content-type': 'application/json',
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: 'structured CloudEvent whose data is not an envelope',
      request: envelopeTo('{"specversion": "1.0", "data": "x"}', {
        'content-type': 'application/cloudevents+json',
      }),
      expect: bad('bad-envelope', 1),
    },
    {
      name: 'GET instead of POST',
      request: ctx => ({method: 'GET', path: `/?subscription=${ctx.sub}`}),
      expect: {
        status: 405,
        reason: 'method-not-allowed',
        quarantined: 0,
        stored: 0,
      },
    },
    {
      name: 'wrong content type text/plain with a valid envelope (accepted)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        headers: {'content-type': 'text/plain'},
        body: JSON.stringify(
          pushEnvelope(generateZtfPacket({seed: 31, cutoutBytes: 0}).bytes, {
            messageId: ctx.messageId,
          }),
        ),
      }),
      expect: stored(),
    },
    {
      name: 'wrong content type application/octet-stream with a valid envelope (accepted)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        headers: {'content-type': 'application/octet-stream'},
        body: JSON.stringify(
          pushEnvelope(generateZtfPacket({seed: 32, cutoutBytes: 0}).bytes, {
            messageId: ctx.messageId,
          }),
        ),
      }),
      expect: stored(),
    },
    {
      name: 'wrong content type application/x-www-form-urlencoded',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: JSON.stringify(pushEnvelope(valid(), {messageId: ctx.messageId})),
      }),
      expect: bad('bad-envelope'),
    },
    {
      name: '10 MB message of garbage (quarantined, first 256 KiB kept)',
      request: push(memo(() => Buffer.alloc(10 * 1000 * 1000, 0x41))),
      payload: memo(() => Buffer.alloc(10 * 1000 * 1000, 0x41)),
      expect: quarantine('unknown-format'),
    },
    {
      name: '10 MB non-JSON body (application/json, refused by the framework)',
      request: envelopeTo(Buffer.alloc(10 * 1000 * 1000, 0x41), {
        'content-type': 'application/json',
      }),
      expect: refusedByFramework,
    },
    {
      name: '10 MB non-JSON body (text/plain)',
      request: envelopeTo(Buffer.alloc(10 * 1000 * 1000, 0x41), {
        'content-type': 'text/plain',
      }),
      expect: bad('bad-envelope', 1),
    },
    {
      name: '20 MB body (413)',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({message: {data: 'A'.repeat(20 * 1024 * 1024)}}),
      }),
      expect: {status: 413, reason: 'too-large', quarantined: 0, stored: 0},
    },
    {
      name: 'hostile message id (../../x) on a bad payload',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: pushEnvelope(Buffer.from('garbage'), {messageId: '../../x'}),
      }),
      expect: quarantine('unknown-format', undefined),
    },
    {
      name: 'hostile message id (2 KB) on a bad payload',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        body: pushEnvelope(Buffer.from('garbage'), {
          messageId: 'm'.repeat(2048),
        }),
      }),
      expect: quarantine('unknown-format', undefined),
    },
    {
      name: 'reserved attribute keys (__x__, __proto__) on a valid alert',
      request: ctx => ({
        path: `/?subscription=${ctx.sub}`,
        headers: {'content-type': 'application/json'},
        body: `{"message": {"messageId": "${ctx.messageId}", "data": "${b64(generateZtfPacket({seed: 33, cutoutBytes: 0}).bytes)}", "attributes": {"__x__": "1", "__proto__": "2", "constructor": "3"}}}`,
      }),
      expect: stored(),
    },
  );

  // --- hostile subscription names (query, path, envelope): 400, nothing written ---
  const names: [string, string][] = [
    ['path traversal ../../etc in the query', '/?subscription=../../etc'],
    ['a slash in the query', '/?subscription=abc%2Fdef'],
    ['unicode in the query', '/?subscription=%C3%B1ame-sub'],
    ['2 KB name in the query', `/?subscription=${'a'.repeat(2048)}`],
    ['reserved __x__ in the query', '/?subscription=__x__'],
    ['empty name in the query', '/?subscription='],
    ['NUL in the query', '/?subscription=abc%00def'],
    ['newline in the query', '/?subscription=abc%0Adef'],
    ['goog prefix in the query', '/?subscription=goog-sub'],
    ['two names in the query', `/?subscription=${SUB}&subscription=other-sub`],
    ['bracket syntax in the query (no name at all)', '/?subscription[a]=b'],
    ['encoded traversal in the path', '/..%2F..%2Fetc'],
    ['.. as the path name', '/subscriptions/%2E%2E'],
    ['right-to-left override in the path', '/abc%E2%80%AEdef'],
    ['reserved __x__ in the path', '/__x__'],
    [
      'bad percent-encoding in the path (refused by the framework)',
      '/abc%zzdef',
    ],
  ];
  for (const [what, p] of names) {
    add({
      name: `hostile subscription name: ${what}`,
      request: ctx => ({
        path: p,
        body: pushEnvelope(valid(), {messageId: ctx.messageId}),
      }),
      // Express's simple query parser reads `subscription[a]` as another key.
      expect: what.includes('framework')
        ? refusedByFramework
        : bad(what.startsWith('bracket') ? 'bad-envelope' : 'invalid-name'),
    });
  }
  const envelopeNames: [string, unknown][] = [
    ['traversal in the envelope', 'projects/p/subscriptions/../../x'],
    ['extra segment in the envelope', 'projects/p/subscriptions/a/b'],
    ['object in the envelope', {name: 'x'}],
    ['control characters in the envelope', 'abc\u0001\u0002def'],
  ];
  for (const [what, s] of envelopeNames) {
    add({
      name: `hostile subscription name: ${what}`,
      request: ctx => ({
        path: '/',
        body: {
          ...pushEnvelope(valid(), {messageId: ctx.messageId}),
          subscription: s,
        },
      }),
      expect: bad('invalid-name'),
    });
  }

  // --- payloads: truncated ---
  const cuts = [4, 5, 17, 100];
  const full = ztf().bytes.length;
  const l = () => layout();
  add(
    payloadCase(
      'ZTF OCF cut to 1 byte (no magic left)',
      () => ztf().bytes.subarray(0, 1),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'ZTF OCF cut to 3 bytes (no magic left)',
      () => ztf().bytes.subarray(0, 3),
      quarantine('unknown-format'),
    ),
  );
  for (const c of cuts) {
    add(
      payloadCase(
        `ZTF OCF truncated at byte ${c}`,
        () => ztf().bytes.subarray(0, c),
        quarantine('truncated'),
      ),
    );
  }
  const mid = [
    ['in the schema', 5000],
    ['just before the sync marker', -1],
    ['right after the header', 0],
    ['inside the record', 1],
    ['in the cutouts', 2],
    ['1 byte short', 3],
  ] as const;
  for (const [where, k] of mid) {
    const cut = () =>
      k === 5000
        ? 5000
        : k === -1
          ? l().blockStart - 1
          : k === 0
            ? l().blockStart
            : k === 1
              ? l().recordStart + 200
              : k === 2
                ? full - 600
                : full - 1;
    add(
      payloadCase(
        `ZTF OCF truncated ${where}`,
        () => ztf().bytes.subarray(0, cut()),
        quarantine('truncated'),
      ),
    );
  }
  for (let i = 0; i < scaled(0, 40); i++) {
    const c = Math.floor(((i + 1) * full) / 42);
    add(
      payloadCase(
        `ZTF OCF truncated at byte ${c} (full scale)`,
        () => ztf().bytes.subarray(0, c),
        quarantine('truncated'),
      ),
    );
  }
  add(
    payloadCase(
      'ZTF OCF deflate truncated',
      () => ztfDeflate().bytes.subarray(0, ztfDeflate().bytes.length - 40),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent truncated to its 3 first bytes',
      () => lsst().bytes.subarray(0, 3),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent truncated after the header',
      () => lsst().bytes.subarray(0, 5),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent truncated mid-record',
      () => lsst().bytes.subarray(0, 60),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST Confluent 1 byte short',
      () => lsst().bytes.subarray(0, lsst().bytes.length - 1),
      quarantine('truncated'),
    ),
  );
  for (const s of samples('ztf')) {
    add(
      payloadCase(
        `real ZTF ${s.name} truncated by half`,
        () => s.bytes.subarray(0, s.bytes.length >> 1),
        quarantine('truncated'),
      ),
    );
  }
  for (const s of samples('lsst')) {
    add(
      payloadCase(
        `real LSST ${s.name} truncated by 7 bytes`,
        () => s.bytes.subarray(0, s.bytes.length - 7),
        quarantine('truncated'),
      ),
    );
    // The samples share one source id: each is stored under its own subscription.
    const sub = `hostile-${s.name.split('.').slice(0, 2).join('-').replace('_', '-')}`;
    add(
      payloadCase(`real LSST ${s.name} stored`, () => s.bytes, stored(), {sub}),
    );
  }
  if (samples('ztf').length === 0) {
    add({
      name: 'real ZTF and LSST packets',
      skip: NO_SAMPLES,
      request: () => ({}),
      expect: filtered,
    });
  }

  // --- payloads: bit flips, wrong magic ---
  const flip =
    (bytes: () => Buffer, at: (b: Buffer) => number, mask = 0xff) =>
    () => {
      const b = Buffer.from(bytes());
      b[at(b)] ^= mask;
      return b;
    };
  add(
    payloadCase(
      'bit flip in the OCF magic (Obj\\x03)',
      flip(
        () => ztf().bytes,
        () => 3,
        0x02,
      ),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'bit flip in the sync marker after the block',
      flip(
        () => ztf().bytes,
        b => b.length - 1,
      ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'bit flip in the header sync marker',
      flip(
        () => ztf().bytes,
        () => l().blockStart - 3,
      ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'bit flip in the schema JSON',
      () => {
        const b = Buffer.from(ztf().bytes);
        b[b.indexOf('{', b.indexOf('avro.schema'))] = 0x58;
        return b;
      },
      quarantine('bad-schema'),
    ),
    payloadCase(
      'bit flip in the codec name (nulm)',
      () => {
        const b = Buffer.from(ztf().bytes);
        b[b.indexOf('null', 4) + 3] ^= 0x01;
        return b;
      },
      quarantine('unsupported-codec'),
    ),
    payloadCase(
      'wrong magic: ZIP',
      () => Buffer.from('PK\x03\x04 a zip file', 'latin1'),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'wrong magic: Confluent magic byte 0x01',
      () => {
        const b = Buffer.from(lsst().bytes);
        b[0] = 1;
        return b;
      },
      quarantine('unknown-format'),
    ),
    payloadCase(
      'wrong magic: a Confluent header on an OCF body',
      () => Buffer.concat([lsst().bytes.subarray(0, 5), ztf().bytes]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'wrong magic: an OCF magic on a Confluent body',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          lsst().bytes.subarray(5),
        ]),
      quarantine('bad-header'),
    ),
    payloadCase(
      'wrong magic: UTF-8 BOM then binary',
      () => Buffer.from([0xef, 0xbb, 0xbf, 0x00, 0x01]),
      quarantine('unknown-format'),
    ),
  );
  for (const s of samples('ztf').slice(0, 2)) {
    add(
      payloadCase(
        `real ZTF ${s.name} sync marker flipped`,
        flip(
          () => s.bytes,
          b => b.length - 5,
        ),
        quarantine('bad-avro'),
      ),
    );
  }

  // --- payloads: huge declared lengths (no allocation, no loop) ---
  const header = memo(() =>
    ocfHeader(ztfLikeSchemaText(), 'null', Buffer.alloc(16, 0x5a)),
  );
  add(
    payloadCase(
      'OCF header declares 2^40 metadata entries',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          zigzagVarint(2 ** 40),
          Buffer.alloc(64),
        ]),
      quarantine('bad-header'),
    ),
    payloadCase(
      'OCF header key length 2^50',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          zigzagVarint(1),
          zigzagVarint(2 ** 50),
          Buffer.alloc(64),
        ]),
      quarantine('truncated'),
    ),
    payloadCase(
      'OCF header value length -5',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          zigzagVarint(1),
          zigzagVarint(1),
          Buffer.from('a'),
          zigzagVarint(-5),
          Buffer.alloc(64),
        ]),
      quarantine('bad-header'),
    ),
    payloadCase(
      'OCF header varint of 11 bytes',
      () =>
        Buffer.concat([
          Buffer.from('Obj\x01', 'latin1'),
          Buffer.alloc(11, 0xff),
          Buffer.alloc(64),
        ]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF block declares 2^40 records',
      () =>
        Buffer.concat([
          header(),
          zigzagVarint(2 ** 40),
          zigzagVarint(10),
          Buffer.alloc(10),
          Buffer.alloc(16, 0x5a),
        ]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF block declares 2^52 bytes',
      () =>
        Buffer.concat([
          header(),
          zigzagVarint(1),
          zigzagVarint(2 ** 52),
          Buffer.alloc(100),
        ]),
      quarantine('truncated'),
    ),
    payloadCase(
      'OCF block declares -10 bytes',
      () =>
        Buffer.concat([
          header(),
          zigzagVarint(1),
          zigzagVarint(-10),
          Buffer.alloc(100),
        ]),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record string length 2^40 (schemavsn)',
      () => ztfRecordVarint(r => ({...r, schemavsn: 'x'.repeat(200)}), 2 ** 40),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record string length -3',
      () => ztfRecordVarint(r => ({...r, schemavsn: 'x'.repeat(200)}), -3),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record array count 2^40 (prv_candidates)',
      () => ztfRecordVarint(r => ({...r, prv_candidates: []}), 2 ** 40),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record array count -2^62',
      () => ztfRecordVarint(r => ({...r, prv_candidates: []}), -(2n ** 62n)),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF record bytes length 2^53 (cutout)',
      () =>
        ztfRecordVarint(
          r => ({
            ...r,
            cutoutScience: {
              ...(r.cutoutScience as object),
              stampData: Buffer.alloc(1),
            },
          }),
          2 ** 53,
        ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'OCF deflate bomb (one block inflating past 64 MiB)',
      memo(() =>
        Buffer.concat([
          ocfHeader(ztfLikeSchemaText(), 'deflate', Buffer.alloc(16, 0x5a)),
          zigzagVarint(1),
          ...(() => {
            const z = deflateRawSync(Buffer.alloc(80 * 1024 * 1024));
            return [zigzagVarint(z.length), z];
          })(),
          Buffer.alloc(16, 0x5a),
        ]),
      ),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'LSST string length 2^40 (band)',
      () =>
        lsstRecordVarint(
          r => ({
            ...r,
            diaSource: {...(r.diaSource as object), band: 'xyzxyz'},
          }),
          2 ** 40,
        ),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST array count 2^40 (prvDiaSources)',
      () => lsstRecordVarint(r => ({...r, prvDiaSources: []}), 2 ** 40),
      quarantine('truncated'),
    ),
    payloadCase(
      'LSST bytes length -7 (cutout)',
      () =>
        lsstRecordVarint(r => ({...r, cutoutDifference: Buffer.alloc(3)}), -7),
      quarantine('bad-avro'),
    ),
    payloadCase(
      'LSST trailing bytes after the record',
      () => Buffer.concat([lsst().bytes, Buffer.from([1, 2, 3])]),
      quarantine('bad-avro'),
    ),
  );

  // --- payloads: schema ids ---
  add(
    payloadCase(
      'unknown Confluent schema id 4242 (directory)',
      () => withSchemaId(lsst().bytes, 4242),
      quarantine('unknown-schema'),
    ),
    payloadCase(
      'Confluent schema id -1 (directory)',
      () => withSchemaId(lsst().bytes, -1),
      quarantine('unknown-schema'),
    ),
    payloadCase(
      'Confluent schema id 0 (directory)',
      () => withSchemaId(lsst().bytes, 0),
      quarantine('unknown-schema'),
    ),
    payloadCase(
      'Confluent schema id 2^31-1 (directory)',
      () => withSchemaId(lsst().bytes, 2 ** 31 - 1),
      quarantine('unknown-schema'),
    ),
    {
      name: 'unknown Confluent schema id 4243 (registry 404)',
      payload: () => withSchemaId(lsst().bytes, 4243),
      request: push(() => withSchemaId(lsst().bytes, 4243), {
        server: 'registry',
      }),
      expect: quarantine('unknown-schema'),
    },
    {
      name: 'known Confluent schema id through the registry',
      payload: () => lsst().bytes,
      request: push(() => lsst().bytes, {server: 'registry'}),
      expect: stored(),
    },
    {
      name: 'registry down (503): retried, then stored once it is back',
      serial: true,
      setup: async ctx => {
        ctx.registry.forceStatus = 503;
      },
      request: push(
        () => generateLsstPacket({seed: 14, schemaId: GEN_ID + 1}).bytes,
        {server: 'registry'},
      ),
      expect: retry('registry-unavailable'),
      again: {
        setup: async ctx => {
          ctx.registry.forceStatus = undefined;
        },
        expect: stored(),
      },
    },
  );

  // --- payloads: lite JSON ---
  const liteBase = {
    objectId: 'ZTF24hostile',
    candid: 2n ** 60n + 7n,
    ra: 10.5,
    dec: -5.25,
    magpsf: 18.1,
    jd: 2460000.5,
    fid: 1,
  };
  add(
    payloadCase(
      'lite JSON truncated',
      () => generateLiteJson({seed: 3}).bytes.subarray(0, 30),
      quarantine('bad-json'),
    ),
    payloadCase(
      'lite JSON not UTF-8',
      () => Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      quarantine('bad-json'),
    ),
    payloadCase(
      'lite JSON nested 100,000 levels',
      () => Buffer.from(`{"a": ${nested(100_000)}}`),
      quarantine('bad-json'),
    ),
    payloadCase(
      'lite JSON top-level array',
      () => Buffer.from('[{"objectId": "x"}]'),
      quarantine('unknown-format'),
    ),
    payloadCase(
      'lite JSON candid is a float',
      lite({...liteBase, candid: 1.5}),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON objectId is an object',
      lite({...liteBase, objectId: {a: 1}}),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON candid is "../x" (not a document id)',
      lite({...liteBase, candid: '../x'}),
      quarantine('invalid-alert', null),
    ),
    payloadCase(
      'lite JSON candid is "__x__"',
      lite({...liteBase, candid: '__x__'}),
      quarantine('invalid-alert', null),
    ),
    payloadCase(
      'lite JSON candid of 2 KB',
      lite({...liteBase, candid: '9'.repeat(2048)}),
      quarantine('invalid-alert', null),
    ),
    payloadCase(
      'lite JSON alert_lite is a number',
      lite({alert_lite: 5}),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON __proto__ carrying the ids',
      () =>
        Buffer.from(
          '{"__proto__": {"objectId": "ZTF24proto", "candid": 123456789}, "ra": 1}',
        ),
      quarantine('invalid-alert'),
    ),
    payloadCase(
      'lite JSON ra, dec, magpsf are strings (stored with nulls)',
      lite({
        ...liteBase,
        candid: 2n ** 60n + 8n,
        ra: 'east',
        dec: [],
        magpsf: {},
      }),
      stored(),
    ),
  );

  // --- duplicated source ids ---
  add(
    {
      name: 'duplicated source id: two messages, one alert',
      request: push(memo(() => generateLiteJson({seed: 40}).bytes)),
      payload: memo(() => generateLiteJson({seed: 40}).bytes),
      expect: stored(),
      again: {
        expect: {status: 204, quarantined: 0, stored: 0},
        newMessage: true,
      },
    },
    payloadCase(
      'duplicated source id: two records of one container',
      memo(() => {
        const rec = generateZtfPacket({seed: 41, cutoutBytes: 0}).records[0];
        return writeOcf(ztfLikeType(), ztfLikeSchemaText(), [rec, rec]);
      }),
      stored(1),
    ),
  );

  // --- hostile stored filters: transient (the alert waits in Pub/Sub until the filter is fixed) ---
  const deep = (n: number): unknown =>
    n === 0 ? {field: 'mag', op: 'lt', value: 20} : {not: deep(n - 1)};
  add(
    filterCase('invalid JSON text', '{"all": [', retry('invalid-filter')),
    filterCase('a number', 5, retry('invalid-filter')),
    filterCase(
      'an array',
      [{field: 'mag', op: 'lt', value: 1}],
      retry('invalid-filter'),
    ),
    filterCase(
      'huge (2,000 leaves)',
      {
        any: Array.from({length: 2000}, (_, i) => ({
          field: 'mag',
          op: 'lt',
          value: i,
        })),
      },
      retry('invalid-filter'),
    ),
    filterCase('deep nesting (18 levels)', deep(17), retry('invalid-filter')),
    filterCase(
      'unknown operator (fixed afterwards)',
      {field: 'mag', op: 'regex', value: '.*'},
      retry('invalid-filter'),
      {field: 'mag', op: 'lt', value: 99},
    ),
    filterCase(
      'field __proto__.polluted',
      {field: '__proto__.polluted', op: 'eq', value: 'x'},
      retry('invalid-filter'),
    ),
    filterCase(
      'field candidate.constructor.prototype',
      {field: 'candidate.constructor.prototype', op: 'exists'},
      retry('invalid-filter'),
    ),
    filterCase(
      'constructor key as a node',
      {constructor: {field: 'mag', op: 'lt', value: 1}},
      retry('invalid-filter'),
    ),
    filterCase(
      'code in a value (not evaluated)',
      {field: 'objectId', op: 'eq', value: 'process.exit(1)'},
      filtered,
    ),
    filterCase(
      'valid filter that rejects everything',
      {field: 'mag', op: 'lt', value: -100},
      filtered,
    ),
  );
  return out;
}

// ---------------------------------------------------------------------------

describe('hostile input through the ingest push endpoint and the decoder', () => {
  const emu = useEmulators({firestore: true});
  const project = `hostile-${Date.now().toString(36)}`;
  const logs: Record<string, unknown>[] = [];
  let fnDir: FunctionServer;
  let fnReg: FunctionServer;
  let registry: SchemaRegistry;
  let schemaDir: string;
  let db: Firestore;
  let decoderDir: Decoder;
  let decoderReg: Decoder;
  const table = cases();
  let tried = 0;
  const validIds: string[] = [];
  const expectedTotals = {q: 0, a: 0};

  before(async () => {
    schemaDir = await mkdtemp(path.join(tmpdir(), 'hostile-schemas-'));
    await writeMixedSchemaDir(
      schemaDir,
      [GEN_ID, GEN_ID + 1],
      SCHEMAS && path.join(SCHEMAS, 'lsst'),
    );
    registry = await startSchemaRegistry({
      [GEN_ID]: lsstLikeSchemaText(GEN_ID),
      [GEN_ID + 1]: lsstLikeSchemaText(GEN_ID + 1),
    });
    const env = {
      FIRESTORE_EMULATOR_HOST: emu.emulators.firestore!.host,
      GOOGLE_CLOUD_PROJECT: project,
      // Each filter case has its own subscription: a long TTL spares a read per message.
      FILTER_CACHE_TTL_MS: '60000',
      STORE_TIMEOUT_MS: '10000',
      // As deployed (src/deploy/plan.ts commonEnv): the framework's own error
      // pages then carry no stack trace.
      NODE_ENV: 'production',
    };
    [fnDir, fnReg] = await Promise.all([
      startFunctionServer({
        target: 'ingest',
        env: {...env, SCHEMA_SOURCE: schemaDir},
        onLog: e => logs.push(e),
      }),
      startFunctionServer({
        target: 'ingest',
        env: {...env, SCHEMA_SOURCE: registry.url},
        onLog: e => logs.push(e),
      }),
    ]);
    db = emu.firestore(project);
    decoderDir = createDecoder({schemaSource: schemaDir});
    decoderReg = createDecoder({schemaSource: registry.url});
  });

  after(async () => {
    await Promise.all([fnDir?.stop(), fnReg?.stop()]);
    await registry?.close();
    if (schemaDir) await rm(schemaDir, {recursive: true, force: true});
  });

  /** Documents of one subscription's quarantine and alerts. */
  const docsOf = async (sub: string) => {
    const ref = db.collection('subscriptions').doc(sub);
    const [q, a] = await Promise.all([
      ref.collection('quarantine').get(),
      ref.collection('alerts').select().get(),
    ]);
    return {q: q.docs.map(d => d.data()), a: a.size};
  };

  async function send(c: Case, ctx: Ctx): Promise<RawAnswer> {
    const r = c.request(ctx);
    const fn = r.server === 'registry' ? fnReg : fnDir;
    const body =
      r.body === undefined ||
      typeof r.body === 'string' ||
      Buffer.isBuffer(r.body)
        ? r.body
        : JSON.stringify(r.body);
    return rawRequest({
      port: fn.port,
      method: r.method,
      path: r.path ?? '/',
      headers:
        r.headers ??
        (r.body !== undefined ? {'content-type': 'application/json'} : {}),
      body,
    });
  }

  function checkAnswer(c: Case, e: Expected, answer: RawAnswer) {
    const what = `${c.name}: ${answer.status} ${answer.text.slice(0, 300)}`;
    assert.equal(answer.status, e.status, what);
    if (e.status !== 204) {
      if (e.reason) assert.equal(errorCode(answer), e.reason, what);
      else {
        // The framework's own page, without a stack trace or file paths.
        assert.match(answer.text, /Bad Request|SyntaxError|URIError/, what);
        assert.doesNotMatch(answer.text, /node_modules|\n\s+at /, what);
      }
    }
  }

  /**
   * What reached the case's subscription: `quarantined` / `stored` documents
   * in all. (That nothing reached any other place is checked once for all
   * cases at the end, with counts over every subscription.)
   */
  async function checkFirestore(
    c: Case,
    sub: string,
    quarantined: number,
    stored: number,
    reason?: string,
  ) {
    const {q, a} = await docsOf(sub);
    assert.equal(q.length, quarantined, `${c.name}: quarantine documents`);
    assert.equal(a, stored, `${c.name}: alert documents`);
    for (const d of q) {
      assert.equal(d.reason, reason, c.name);
      assert.ok(
        typeof d.message === 'string' && d.message.length > 10,
        `${c.name}: a clear message`,
      );
      assert.equal(typeof d.dataLength, 'number');
      assert.ok(
        d.data.length <= 256 * 1024,
        'the quarantine keeps at most 256 KiB',
      );
    }
  }

  async function runCase(c: Case, i: number) {
    tried++;
    const ctx: Ctx = {
      sub: c.sub ?? `hostile-case-${i}`,
      db,
      registry,
      messageId: `hostile-${i}`,
    };
    await c.setup?.(ctx);
    if (c.payload && c.expect.decoder !== undefined) {
      const d = c.request(ctx).server === 'registry' ? decoderReg : decoderDir;
      try {
        await d.decode(c.payload());
        assert.equal(
          c.expect.decoder,
          null,
          `${c.name}: the decoder accepted it`,
        );
      } catch (e) {
        assert.ok(isAlertError(e), `${c.name}: untyped ${String(e)}`);
        assert.equal(e.code, c.expect.decoder, `${c.name}: ${e.message}`);
        assert.equal(e.kind, 'permanent');
      }
    }
    const e = c.expect;
    checkAnswer(c, e, await send(c, ctx));
    let q = e.quarantined;
    let stored = e.stored;
    if (c.again) {
      await checkFirestore(c, ctx.sub, q, stored, e.reason);
      await c.again.setup?.(ctx);
      const actx = c.again.newMessage
        ? {...ctx, messageId: `${ctx.messageId}-b`}
        : ctx;
      checkAnswer(c, c.again.expect, await send(c, actx));
      q += c.again.expect.quarantined;
      stored += c.again.expect.stored;
    } else if (e.quarantined && e.status === 204) {
      // Redelivered: acknowledged again, and still one quarantine document.
      assert.equal((await send(c, ctx)).status, 204, `${c.name}: redelivery`);
    }
    expectedTotals.q += q;
    expectedTotals.a += stored;
    // Still alive and healthy: a valid alert sent next is stored.
    const p = generateZtfPacket({
      seed: 100_000 + i,
      cutoutBytes: 100,
      prvCandidates: 2,
    });
    const id = p.expected[0].sourceId;
    validIds.push(id);
    const [ok] = await Promise.all([
      rawRequest({
        port: fnDir.port,
        path: `/?subscription=${SUB}`,
        headers: {'content-type': 'application/json'},
        body: JSON.stringify(pushEnvelope(p.bytes, {messageId: `valid-${i}`})),
      }),
      q || stored
        ? checkFirestore(
            c,
            ctx.sub,
            q,
            stored,
            e.reason ?? c.again?.expect.reason,
          )
        : undefined,
    ]);
    assert.equal(ok.status, 204, `valid alert after ${c.name}: ${ok.text}`);
    // Its log line says stored (the documents are counted at the end).
    const deadline = Date.now() + 15_000;
    while (!logs.some(l => l.outcome === 'stored' && l.sourceId === id)) {
      assert.ok(Date.now() < deadline, `valid alert after ${c.name} stored`);
      await new Promise(r => setTimeout(r, 20));
    }
  }

  // Cases run six at a time (each has its own subscription); those that
  // change shared state (the registry's answers) run alone afterwards.
  describe('cases', {concurrency: 6}, () => {
    table.forEach((c, i) => {
      if (!c.serial)
        it(c.name, c.skip ? {skip: c.skip} : {}, () => runCase(c, i));
    });
  });
  describe('cases that change shared state', () => {
    table.forEach((c, i) => {
      if (c.serial) it(c.name, () => runCase(c, i));
    });
  });

  it('at least 50 named cases; nothing written elsewhere; the function never crashed', async () => {
    assert.ok(table.length >= 50, `${table.length} cases`);
    assert.equal(
      new Set(table.map(c => c.name)).size,
      table.length,
      'names are unique',
    );
    const dead = await Promise.race([
      Promise.all([fnDir.exited, fnReg.exited]).then(() => true),
      new Promise(r => setTimeout(() => r(false), 100)),
    ]);
    assert.equal(dead, false);
    assert.ok(
      !/FATAL|heap out of memory|Maximum call stack/i.test(
        fnDir.output() + fnReg.output(),
      ),
    );
    const [allQ, allA] = await Promise.all([
      db.collectionGroup('quarantine').count().get(),
      db.collectionGroup('alerts').count().get(),
    ]);
    assert.equal(
      allQ.data().count,
      expectedTotals.q,
      'quarantine documents, all subscriptions',
    );
    assert.equal(
      allA.data().count,
      expectedTotals.a + validIds.length,
      'alert documents, all subscriptions',
    );
    const quarantinedValid = (
      await db
        .collectionGroup('quarantine')
        .where('messageId', '>=', 'valid-')
        .where('messageId', '<', 'valid.')
        .get()
    ).size;
    // Per alert and subscription: a message with several alerts logs each one's outcome.
    const storedLogs = logs
      .flatMap(l =>
        Array.isArray(l.alerts)
          ? (l.alerts as Record<string, unknown>[]).map(a => ({
              ...a,
              subscription: l.subscription,
            }))
          : [l],
      )
      .filter(a => a.outcome === 'stored')
      .map(a => `${a.subscription}/${a.sourceId}`);
    const storedValid = validIds.filter(id =>
      storedLogs.includes(`${SUB}/${id}`),
    );
    const duplicated = storedLogs.length - new Set(storedLogs).size;
    const figure = {
      lost: validIds.length - storedValid.length,
      duplicated,
      quarantinedValid,
    };
    recordFigure({
      suite: 'hostile',
      name: 'named hostile cases through the push endpoint and the decoder, a valid alert after each',
      tried,
      ...figure,
      details: {
        'valid alerts': validIds.length,
        'cases skipped': table.filter(c => c.skip).length,
      },
    });
    assert.deepEqual(figure, {lost: 0, duplicated: 0, quarantinedValid: 0});
  });
});
