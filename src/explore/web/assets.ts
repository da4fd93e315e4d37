/**
 * The explorer's static assets, all served by the function itself (no CDN:
 * a deployed explorer needs no network beyond Google's):
 * - `js/NAME.js`: the compiled browser code (./browser/, built by
 *   ./tsconfig.json into build/src/explore/web/browser/);
 * - `vendor/uplot.js`, `vendor/uplot.css`: the chart library, from
 *   node_modules (a runtime dependency);
 * - `explorer.css`, `favicon.svg`: from ./static/ in the sources (deployed
 *   with them: the upload is the sources, built in the cloud).
 * Only names of this table or of compiled .js files are served; a name is
 * never turned into a path unless it matches a plain file-name pattern.
 */

import {createHash} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import * as path from 'node:path';
import {gzipSync} from 'node:zlib';

/** The package root (this file is build/src/explore/web/assets.js). */
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const BROWSER_DIR = path.join(__dirname, 'browser');
const STATIC_DIR = path.join(ROOT, 'src', 'explore', 'web', 'static');

export interface Asset {
  contentType: string;
  body: Buffer;
  /** Gzipped body when it is smaller, else null. */
  gzipped: Buffer | null;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function uplotFile(name: string): string {
  // The package's main entry is dist/uPlot.cjs.js; its ES module and CSS
  // sit beside it.
  return path.join(
    path.dirname(require.resolve('uplot', {paths: [ROOT]})),
    name,
  );
}

/** Fixed names → files. */
function fixedFile(name: string): string | null {
  switch (name) {
    case 'js/vendor/uplot.js':
      return uplotFile('uPlot.esm.js');
    case 'vendor/uplot.css':
      return uplotFile('uPlot.min.css');
    case 'explorer.css':
    case 'favicon.svg':
      return path.join(STATIC_DIR, name);
    default:
      return null;
  }
}

function fileOf(name: string): string | null {
  const fixed = fixedFile(name);
  if (fixed) return fixed;
  const m = /^js\/([a-z0-9-]+\.js)$/.exec(name);
  return m ? path.join(BROWSER_DIR, m[1]) : null;
}

const cache = new Map<string, Asset | null>();

/** The asset `name` (the path below /static/), or null when there is none. */
export function findAsset(name: string): Asset | null {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const file = fileOf(name);
  let asset: Asset | null = null;
  if (file && existsSync(file)) {
    const body = readFileSync(file);
    const gz = gzipSync(body);
    asset = {
      contentType: TYPES[path.extname(file)] ?? 'application/octet-stream',
      body,
      gzipped: gz.length < body.length ? gz : null,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    };
  }
  // Unknown names are not remembered (the table would grow with requests).
  if (asset) cache.set(name, asset);
  return asset;
}
