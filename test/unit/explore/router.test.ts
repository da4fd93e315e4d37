import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {apiSegments, inertJson, splitTarget} from '../../../src/explore/router';
import {
  CONTENT_SECURITY_POLICY,
  SECURITY_HEADERS,
} from '../../../src/explore/security';

describe('explore router helpers', () => {
  it('splits request targets without normalizing dot segments', () => {
    const t = splitTarget('/api/subscriptions/../x?limit=5&band=r#frag');
    assert.equal(t.path, '/api/subscriptions/../x');
    assert.equal(t.query.get('limit'), '5');
    assert.equal(
      splitTarget('http://h:8080/api/objects/a?x=1').path,
      '/api/objects/a',
    );
    assert.equal(splitTarget('http://h:8080').path, '/');
  });

  it('decodes API segments; a trailing slash is allowed; bad escapes are null', () => {
    assert.deepEqual(apiSegments('/api/subscriptions/'), ['subscriptions']);
    assert.deepEqual(apiSegments('/api/objects/a%2Fb%20c'), [
      'objects',
      'a/b c',
    ]);
    assert.deepEqual(apiSegments('/api'), []);
    assert.equal(apiSegments('/api/objects/%E0%A4%A'), null);
  });

  it('writes JSON that is inert anywhere and parses back to the same value', () => {
    const v = {s: '</script><script>alert(1)</script>&\u2028', q: '"\''};
    const text = inertJson(v);
    assert.doesNotMatch(text, /[<>&\u2028]/);
    assert.deepEqual(JSON.parse(text), v);
  });

  it('one strict policy', () => {
    assert.equal(
      CONTENT_SECURITY_POLICY,
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    assert.equal(SECURITY_HEADERS['X-Content-Type-Options'], 'nosniff');
    assert.equal(SECURITY_HEADERS['Referrer-Policy'], 'no-referrer');
  });
});
