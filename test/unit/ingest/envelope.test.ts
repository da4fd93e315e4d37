import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {AlertError} from '../../../src/errors';
import {
  parsePushRequest,
  validateResourceId,
} from '../../../src/ingest/envelope';

const data = Buffer.from('Obj\x01payload').toString('base64');
const push = {
  message: {
    data,
    attributes: {objectId: 'ZTF18abfkwnk', candid: '2188216843315010016'},
    messageId: '42',
    message_id: '42',
    publishTime: '2026-11-29T08:00:00.000Z',
  },
  subscription: 'projects/my-project/subscriptions/ztf-loop',
};

function code(e: unknown): string {
  assert.ok(e instanceof AlertError, `not an AlertError: ${e}`);
  return `${e.kind}:${e.code}`;
}

describe('parsePushRequest', () => {
  it('reads a raw Pub/Sub push envelope', () => {
    const m = parsePushRequest({
      body: push,
      headers: {'content-type': 'application/json'},
    });
    assert.equal(m.subscription, 'ztf-loop');
    assert.equal(m.messageId, '42');
    assert.equal(m.publishTime, '2026-11-29T08:00:00.000Z');
    assert.deepEqual(m.attributes, push.message.attributes);
    assert.equal(m.data.toString('latin1'), 'Obj\x01payload');
    assert.equal(m.deliveryAttempt, undefined);
  });

  it('keeps an attribute named __proto__ as an own attribute', () => {
    const m = parsePushRequest({
      body: '{"message": {"data": "AAAA", "attributes": {"__proto__": "x", "fid": "1"}}, "subscription": "ztf-loop"}',
      headers: {'content-type': 'text/plain'},
    });
    assert.deepEqual(Object.entries(m.attributes), [
      ['__proto__', 'x'],
      ['fid', '1'],
    ]);
    assert.equal(Object.getPrototypeOf(m.attributes), Object.prototype);
  });

  it('prefers the endpoint query over the body, and accepts snake_case ids', () => {
    const body = {
      message: {data, message_id: '7', publish_time: '2026-01-01T00:00:00Z'},
      subscription: 'projects/p/subscriptions/other',
      deliveryAttempt: 3,
    };
    const m = parsePushRequest({body, headers: {}, querySubscription: 'mine'});
    assert.equal(m.subscription, 'mine');
    assert.equal(m.messageId, '7');
    assert.equal(m.publishTime, '2026-01-01T00:00:00Z');
    assert.equal(m.deliveryAttempt, 3);
  });

  it('reads binary-mode and structured-mode CloudEvents', () => {
    const binary = parsePushRequest({
      body: push,
      headers: {'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished'},
    });
    assert.equal(binary.messageId, '42');
    const structured = parsePushRequest({
      body: {
        specversion: '1.0',
        type: 'google.cloud.pubsub.topic.v1.messagePublished',
        data: push,
      },
      headers: {'content-type': 'application/cloudevents+json'},
    });
    assert.equal(structured.subscription, 'ztf-loop');
    assert.equal(structured.data.toString('latin1'), 'Obj\x01payload');
  });

  it('parses bodies that arrive as text or bytes', () => {
    const m = parsePushRequest({
      body: Buffer.from(JSON.stringify(push)),
      headers: {},
    });
    assert.equal(m.messageId, '42');
  });

  const bad: [string, unknown, string | undefined, string][] = [
    ['not JSON', 'this is not json', 'sub', 'permanent:bad-envelope'],
    ['an array', '[1,2]', 'sub', 'permanent:bad-envelope'],
    [
      'no message',
      {subscription: 'projects/p/subscriptions/s'},
      undefined,
      'permanent:bad-envelope',
    ],
    [
      'message not an object',
      {message: 'x', subscription: 'abc'},
      undefined,
      'permanent:bad-envelope',
    ],
    [
      'bad base64',
      {message: {data: '***', messageId: '1'}},
      'sub',
      'permanent:bad-envelope',
    ],
    [
      // As long as valid padded base64 ('QUJDREVG'): Node's decoder skips
      // the stray characters, so only the decoded length tells.
      'bad base64 of a valid length',
      {message: {data: 'QU!DRE*G', messageId: '1'}},
      'sub',
      'permanent:bad-envelope',
    ],
    [
      'bad base64, padding inside',
      {message: {data: 'QQ==QUJD', messageId: '1'}},
      'sub',
      'permanent:bad-envelope',
    ],
    [
      'data not a string',
      {message: {data: 5}},
      'sub',
      'permanent:bad-envelope',
    ],
    [
      'attribute not a string',
      {message: {data, attributes: {a: 1}}},
      'sub',
      'permanent:bad-envelope',
    ],
    [
      'no subscription anywhere',
      {message: {data}},
      undefined,
      'permanent:bad-envelope',
    ],
    [
      'path traversal in the name',
      {message: {data}},
      '../alerts',
      'permanent:invalid-name',
    ],
    [
      'reserved Firestore id',
      {message: {data}},
      '__abc__',
      'permanent:invalid-name',
    ],
    ['goog prefix', {message: {data}}, 'googsub', 'permanent:invalid-name'],
  ];
  for (const [name, body, query, expected] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => parsePushRequest({body, headers: {}, querySubscription: query}),
        e => code(e) === expected,
      );
    });
  }

  it('keeps what can be quarantined: message id, subscription and raw data', () => {
    try {
      parsePushRequest({
        body: {message: {data: '@@@', messageId: '9'}},
        headers: {},
        querySubscription: 'sub',
      });
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof AlertError);
      assert.equal(e.details.messageId, '9');
      assert.equal(e.details.subscription, 'sub');
      assert.ok(Buffer.isBuffer(e.details.raw));
    }
  });
});

describe('validateResourceId', () => {
  it('accepts Pub/Sub names and refuses everything else', () => {
    for (const ok of ['ztf-loop', 'abc', 'a.b~c+d%e_f', 'x'.repeat(255)]) {
      assert.equal(validateResourceId(ok), ok);
    }
    for (const no of [
      'ab',
      '1abc',
      'a/b',
      'x'.repeat(256),
      'goog-x',
      '',
      'a b',
      'ünï',
    ]) {
      assert.throws(() => validateResourceId(no), /invalid subscription name/);
    }
  });
});
