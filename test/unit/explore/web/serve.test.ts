import {strict as assert} from 'node:assert';
import {readdirSync, readFileSync} from 'node:fs';
import {createServer, Server} from 'node:http';
import {AddressInfo} from 'node:net';
import * as path from 'node:path';
import {gunzipSync} from 'node:zlib';
import {after, before, describe, it} from 'node:test';

import {CONTENT_SECURITY_POLICY} from '../../../../src/explore/security';
import {matchPage, rootPrefix} from '../../../../src/explore/web/pages';
import {serveWeb} from '../../../../src/explore/web/serve';

describe('explorer pages: routes', () => {
  it('matches each page route and nothing else', () => {
    assert.equal(matchPage('/'), 'subscriptions');
    assert.equal(matchPage('/s/ztf-loop'), 'alerts');
    assert.equal(matchPage('/s/ztf-loop/'), 'alerts');
    assert.equal(matchPage('/s/ztf-loop/quarantine'), 'quarantine');
    assert.equal(matchPage('/s/ztf-loop/a/2982177112815010003'), 'alert');
    assert.equal(matchPage('/o/ZTF17aaarzyp'), 'object');
    assert.equal(matchPage('/o/%3Cscript%3E'), 'object');
    for (const p of [
      '',
      '/s',
      '/s/',
      '/s/x/a',
      '/s/x/b/y',
      '/o',
      '/o/a/b',
      '/api/subscriptions',
      '/static/js/main.js',
      '/x',
    ]) {
      assert.equal(matchPage(p), null, p);
    }
  });

  it('finds the way back to the root from every depth', () => {
    assert.equal(rootPrefix('/'), './');
    assert.equal(rootPrefix('/s/x'), '../');
    assert.equal(rootPrefix('/s/x/'), '../../');
    assert.equal(rootPrefix('/s/x/a/1'), '../../../');
    assert.equal(rootPrefix('/o/x'), '../');
  });
});

describe('explorer pages: serveWeb over HTTP', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (!serveWeb(req, res)) {
        res.statusCode = 404;
        res.end('not served');
      }
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>(r => server.close(() => r())));

  it('answers each page with an HTML shell that holds no data and no inline script or style', async () => {
    for (const [p, kind, root] of [
      ['/', 'subscriptions', './'],
      ['/s/ztf-loop', 'alerts', '../'],
      ['/s/%3Cscript%3E/a/%22x', 'alert', '../../../'],
      ['/o/%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'object', '../'],
    ]) {
      const res = await fetch(base + p);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(
        res.headers.get('content-security-policy'),
        CONTENT_SECURITY_POLICY,
      );
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      const html = await res.text();
      assert.match(html, new RegExp(`<body data-page="${kind}">`));
      assert.ok(
        html.includes(
          `<script type="module" src="${root}static/js/main.js"></script>`,
        ),
        html,
      );
      // Every script has a src and is empty; no style element or attribute; no handler.
      assert.equal(html.match(/<script\b/g)?.length, 1);
      assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
      assert.doesNotMatch(html, /script%3E|&lt;script|<script>|ztf-loop|%22x/i);
    }
  });

  it('serves the compiled scripts, the chart library, the styles and the icon with their content types', async () => {
    for (const [p, type] of [
      ['/static/js/main.js', 'text/javascript; charset=utf-8'],
      ['/static/js/light-curve-chart.js', 'text/javascript; charset=utf-8'],
      ['/static/js/vendor/uplot.js', 'text/javascript; charset=utf-8'],
      ['/static/vendor/uplot.css', 'text/css; charset=utf-8'],
      ['/static/explorer.css', 'text/css; charset=utf-8'],
      ['/static/favicon.svg', 'image/svg+xml'],
    ]) {
      const res = await fetch(base + p, {
        headers: {'Accept-Encoding': 'identity'},
      });
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-type'), type, p);
      assert.equal(
        res.headers.get('content-security-policy'),
        CONTENT_SECURITY_POLICY,
      );
      assert.ok((await res.arrayBuffer()).byteLength > 100, p);
    }
    const uplot = await (
      await fetch(`${base}/static/js/vendor/uplot.js`)
    ).text();
    assert.match(uplot, /export \{ uPlot as default \}|export default/);
  });

  it('gzips when asked, and answers 304 to a matching ETag', async () => {
    const {request} = await import('node:http');
    const get = (headers: Record<string, string>) =>
      new Promise<{
        status: number;
        headers: Record<string, unknown>;
        body: Buffer;
      }>((resolve, reject) => {
        const req = request(
          `${base}/static/js/vendor/uplot.js`,
          {headers},
          res => {
            const chunks: Buffer[] = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                headers: res.headers,
                body: Buffer.concat(chunks),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const plain = await get({});
    const gz = await get({'Accept-Encoding': 'gzip, deflate'});
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < plain.body.length / 2);
    assert.deepEqual(gunzipSync(gz.body), plain.body);
    const etag = String(plain.headers.etag);
    const again = await get({'If-None-Match': etag});
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it('serves nothing else: unknown assets, path tricks, other methods', async () => {
    for (const p of [
      '/static/js/nope.js',
      '/static/js/../../../package.json',
      '/static/js/%2e%2e%2fassets.js',
      '/static/js/main.js.map',
      '/static/',
      '/static/vendor/uplot.cjs.js',
      '/api/subscriptions',
      '/s',
    ]) {
      const res = await fetch(base + p);
      assert.equal(res.status, 404, p);
      assert.equal(await res.text(), 'not served');
    }
    const post = await fetch(`${base}/`, {method: 'POST', body: 'x'});
    assert.equal(post.status, 404);
    const head = await fetch(`${base}/s/x`, {method: 'HEAD'});
    assert.equal(head.status, 200);
  });
});

describe('explorer browser code under the strict CSP', () => {
  it('never parses data as markup or code (no innerHTML, eval, new Function, inline styles set as attributes)', () => {
    const dir = path.resolve(__dirname, '../../../../src/explore/web/browser');
    const files = readdirSync(dir).filter(f => f.endsWith('.js'));
    assert.ok(files.includes('main.js') && files.length > 5);
    const uplot = require
      .resolve('uplot')
      .replace(/uPlot\.cjs\.js$/, 'uPlot.esm.js');
    for (const file of [...files.map(f => path.join(dir, f)), uplot]) {
      const code = readFileSync(file, 'utf8');
      assert.doesNotMatch(
        code,
        /\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\b/,
        file,
      );
      assert.doesNotMatch(code, /setAttribute\(\s*['"]style['"]/, file);
    }
  });
});
