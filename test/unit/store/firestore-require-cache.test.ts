import {strict as assert} from 'node:assert';
import {execFileSync} from 'node:child_process';
import * as path from 'node:path';
import {describe, it} from 'node:test';

const BUILD = path.join(__dirname, '..', '..', '..');
const PRIME = path.join(BUILD, 'src', 'store', 'firestore-require-cache.js');
const FUNCTIONS = path.join(BUILD, 'src', 'functions', 'index.js');

/**
 * In a fresh process: `load` (modules to require first), then Firestore,
 * then the lookup Firestore makes on every commit
 * (`require('google-gax/fallback')` from its own directory), three times.
 * Returns how many of them Node had to resolve again.
 */
function resolutionsPerCommitLookup(load: readonly string[]): number {
  const script = `
    const Module = require('node:module');
    const path = require('node:path');
    for (const m of ${JSON.stringify(load)}) require(m);
    require('@google-cloud/firestore');
    const dir = path.dirname(require.resolve('@google-cloud/firestore'));
    const fromFirestore = Module.createRequire(path.join(dir, 'index.js'));
    let resolved = 0;
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (...args) {
      resolved++;
      return resolve.apply(this, args);
    };
    for (let i = 0; i < 3; i++) fromFirestore('google-gax/fallback');
    process.stdout.write(String(resolved));
  `;
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd: path.join(BUILD, '..'),
    encoding: 'utf8',
  });
  return Number(out);
}

describe('Firestore per-commit require cache', () => {
  it('without the prime, every commit resolves google-gax/fallback again', () => {
    assert.equal(resolutionsPerCommitLookup([]), 3);
  });

  it('with the prime loaded first, the lookups are cache hits', () => {
    assert.equal(resolutionsPerCommitLookup([PRIME]), 0);
  });

  it('the functions entry point (ingest, manage) loads it before Firestore', () => {
    assert.equal(resolutionsPerCommitLookup([FUNCTIONS]), 0);
  });
});
