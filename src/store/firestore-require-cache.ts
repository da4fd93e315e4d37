/**
 * Makes the Firestore client's per-commit `require` a cache hit.
 *
 * `@google-cloud/firestore` (9.4.1) builds the options of every call that
 * has retry codes — every commit — with
 * `new (require('google-gax/fallback').RetryOptions)(...)`: a `require` per
 * commit. Node answers a repeated `require` from its relative-resolve cache
 * (keyed by the requiring module's directory and the specifier), but fills
 * that cache only when the request loads the module for the first time; a
 * module found already loaded (google-gax loads `fallback.js` itself, as
 * Firestore loads it) is resolved again on every call, and a bare specifier
 * resolved through a package's `exports` is not kept in the path cache
 * either. So each commit walked node_modules again: ~5 `stat` calls, ~45 µs
 * on these machines (more on a sandboxed file system); 4 % of the ingest
 * function's CPU in a profile at 2 requests in flight, 8 % less CPU per
 * alert once cached (bench/README.md).
 *
 * Loading `google-gax/fallback` first from Firestore's own directory, before
 * anything else loads google-gax, records the relative-resolve cache entry
 * that every later lookup from there hits. It must run before
 * `@google-cloud/firestore` is first required: import this module first.
 * If the layout ever differs (another Firestore, google-gax already loaded),
 * nothing breaks: the lookups are just not cached.
 */

import {createRequire} from 'node:module';
import * as path from 'node:path';

/** Firestore's build directory (where its `require` calls are made from). */
function firestoreSourceDir(): string {
  return path.dirname(require.resolve('@google-cloud/firestore'));
}

/**
 * Loads google-gax's fallback module as Firestore requires it, from
 * Firestore's directory. Returns false (and changes nothing) when it cannot.
 */
export function primeFirestoreRequireCache(): boolean {
  try {
    const fromFirestore = createRequire(
      path.join(firestoreSourceDir(), 'require-cache-prime.js'),
    );
    if (require.cache[fromFirestore.resolve('google-gax/fallback')]) {
      return false; // already loaded by someone else: too late to help
    }
    fromFirestore('google-gax/fallback');
    return true;
  } catch {
    return false;
  }
}

primeFirestoreRequireCache();
