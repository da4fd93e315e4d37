/**
 * Decoding of alert files for the CLI commands: every file under the given
 * paths, with one stderr line per path or file that fails.
 */

import {readFile} from 'node:fs/promises';

import type {Alert, Decoder} from '../alert';
import {errorMessage, isAlertError} from '../errors';
import {listFiles} from '../local/list-files';
import type {CliIo} from './command';

/** "permanent truncated: …" for our errors, the message for others. */
export function describeError(e: unknown): string {
  return isAlertError(e)
    ? `${e.kind} ${e.code}: ${e.message}`
    : errorMessage(e);
}

/**
 * Decodes every file under `paths` and hands each file's alerts to `onFile`.
 * Returns the number of paths and files that failed (each reported as
 * "PATH: reason" on stderr).
 */
export async function decodeFiles(
  paths: string[],
  decoder: Decoder,
  io: CliIo,
  onFile: (file: string, alerts: Alert[]) => void,
): Promise<number> {
  let failed = 0;
  for (const p of paths) {
    let files: string[];
    try {
      files = await listFiles(p);
    } catch (e) {
      io.err(`${p}: ${describeError(e)}`);
      failed++;
      continue;
    }
    for (const file of files) {
      let alerts: Alert[];
      try {
        alerts = await decoder.decode(await readFile(file));
      } catch (e) {
        io.err(`${file}: ${describeError(e)}`);
        failed++;
        continue;
      }
      onFile(file, alerts);
    }
  }
  return failed;
}
