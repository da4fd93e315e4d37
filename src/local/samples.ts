/**
 * Where the real alert packets are: the copies shipped in the project's
 * `samples/` (ZTF and LSST packets, the LSST writer schemas under
 * `samples/schemas/lsst/`), unless ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR
 * point elsewhere (CI points them at a shared copy). `npm start` replays
 * them; the tests that read real packets use them.
 */

import * as path from 'node:path';

/** The project's root (this file is build/src/local/samples.js). */
const ROOT = path.resolve(__dirname, '..', '..', '..');

export const SHIPPED_SAMPLES_DIR = path.join(ROOT, 'samples');
export const SHIPPED_SCHEMAS_DIR = path.join(SHIPPED_SAMPLES_DIR, 'schemas');

type Env = Readonly<Record<string, string | undefined>>;

/** Directory with `ztf/` and `lsst/` packets. */
export function samplesDir(env: Env = process.env): string {
  return env.ALERT_SAMPLES_DIR || SHIPPED_SAMPLES_DIR;
}

/** Directory with `lsst/MAJOR/MINOR/*.avsc`. */
export function schemasDir(env: Env = process.env): string {
  return env.ALERT_SCHEMAS_DIR || SHIPPED_SCHEMAS_DIR;
}
