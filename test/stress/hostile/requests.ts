/**
 * The cases of test/stress/hostile.test.ts: the request itself (envelope,
 * transport, headers, body sizes) and hostile subscription names.
 */

import {generateZtfPacket} from '../../helpers';
import {pushEnvelope} from '../../helpers/http-request';
import {
  SUB,
  Case,
  quarantine,
  refusedByFramework,
  bad,
  stored,
  push,
  envelopeTo,
  memo,
  nested,
  b64,
  valid,
} from './case';

/** The request itself, and hostile subscription names (400, nothing written). */
export function requestCases(): Case[] {
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
  return out;
}
