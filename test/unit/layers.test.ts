/**
 * The layering of src/ that CONTRIBUTING.md describes, checked on the
 * sources' own imports: a folder imports only folders of a lower layer
 * (or itself), nothing under src/ imports test or bench code, no two
 * modules import each other in a circle, and the deployed upload leaves the
 * test and bench folders out.
 */

import {strict as assert} from 'node:assert';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import * as path from 'node:path';
import {describe, it} from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SRC = path.join(ROOT, 'src');

/** Top to bottom, as in CONTRIBUTING.md. */
const LAYERS: string[][] = [
  ['cli'],
  ['functions'],
  // explore: the read API and pages (served by functions/explore.ts).
  ['manage', 'consumer', 'local', 'deploy', 'explore', 'cost'],
  ['ingest'],
  ['store', 'filter', 'auth'],
  ['alert', 'cutouts'],
  ['config.ts'],
  ['defaults.ts', 'errors.ts', 'log.ts'],
];

function layerOf(room: string): number {
  const i = LAYERS.findIndex(l => l.includes(room));
  assert.notEqual(i, -1, `src/${room} is in no layer of CONTRIBUTING.md`);
  return LAYERS.length - i;
}

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap(e =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** src/a/b.ts → 'a'; src/config.ts → 'config.ts'. */
const roomOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

function resolveImport(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  const found = [`${base}.ts`, path.join(base, 'index.ts')].find(c =>
    existsSync(c),
  );
  return found ?? base;
}

const files = sources(SRC);
const imports = new Map<string, string[]>(
  files.map(f => [
    f,
    [...readFileSync(f, 'utf8').matchAll(/from '(\.[^']*)'/g)].map(m =>
      resolveImport(f, m[1]),
    ),
  ]),
);

describe('the layers of src/', () => {
  it('no file under src/ imports from outside src/ (test support, benchmarks)', () => {
    for (const [f, deps] of imports) {
      for (const d of deps) {
        assert.ok(
          d.startsWith(SRC + path.sep),
          `${path.relative(ROOT, f)} imports ${path.relative(ROOT, d)}`,
        );
      }
    }
  });

  it('every folder and top-level file of src/ has its layer', () => {
    for (const e of readdirSync(SRC)) layerOf(e);
  });

  it('every import goes down a layer or stays in its folder', () => {
    for (const [f, deps] of imports) {
      const from = roomOf(f);
      for (const d of deps) {
        const to = roomOf(d);
        if (to === from) continue;
        assert.ok(
          layerOf(to) < layerOf(from),
          `${path.relative(ROOT, f)} (${from}) imports ${path.relative(ROOT, d)} (${to}), a layer that is not below`,
        );
      }
    }
  });

  it('no circle of imports between modules', () => {
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      assert.notEqual(
        state.get(f),
        'open',
        `circle: ${[...trail, f].map(x => path.relative(SRC, x)).join(' → ')}`,
      );
      state.set(f, 'open');
      for (const d of imports.get(f) ?? []) visit(d, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
  });

  it('the deployed upload leaves out test/ and bench/', () => {
    const ignored = readFileSync(
      path.join(ROOT, 'deploy', 'gcloudignore'),
      'utf8',
    )
      .split('\n')
      .map(l => l.trim());
    assert.ok(ignored.includes('test/'));
    assert.ok(ignored.includes('bench/'));
  });
});
