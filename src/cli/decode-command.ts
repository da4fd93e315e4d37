/**
 * `pittgoogle decode [--schemas DIR|URL] [--full] PATH...`: decodes alert
 * packets (files, or directories searched recursively) and writes one JSON
 * line per alert on stdout. A file that fails gets one line on stderr and
 * makes the exit code 1.
 */

import {Command} from 'commander';

import {alertSummary, createDecoder, toJsonSafe} from '../alert';
import {loadConfig} from '../config';
import {CliIo, RegisterCommand} from './command';
import {decodeFiles, describeError} from './decode-files';

export interface DecodeOptions {
  /** Schema source (directory or registry URL) for Confluent wire packets. */
  schemas?: string;
  /** Add the whole decoded record (bigints as strings, bytes as base64). */
  full?: boolean;
}

const HELP_AFTER = `
Output: one JSON line per alert on stdout, with at least survey, format,
schemaVersion, objectId, sourceId (exact decimal string), ra, dec, jd, mjd,
mag, magErr, band, nPrevious, classtar and file. --full adds "record": the whole
decoded packet, with 64-bit integers as exact decimal strings, bytes
(cutouts) as base64 strings and NaN/Infinity as null.

The format is detected from the bytes: Avro container (ZTF), Confluent wire
(LSST: needs --schemas or SCHEMA_SOURCE), or lite JSON.

A file that cannot be decoded gets one line on stderr
("FILE: <permanent|transient> <reason>: <message>"); the exit code is then 1.

Examples:
  $ pittgoogle decode ../shared/samples/ztf
  $ pittgoogle decode --schemas ../shared/schemas/lsst ../shared/samples
  $ pittgoogle decode --full alert.avro | jq .record.candidate.rb`;

/** Runs the command; returns the exit code (0 all decoded, 1 some failed). */
export async function runDecode(
  paths: string[],
  options: DecodeOptions,
  io: CliIo,
): Promise<number> {
  let schemaSource = options.schemas;
  if (schemaSource === undefined) {
    try {
      schemaSource = loadConfig(io.env).schemaSource;
    } catch (e) {
      io.err(`pittgoogle decode: ${describeError(e)}`);
      return 1;
    }
  }
  const decoder = createDecoder({schemaSource});
  const failed = await decodeFiles(paths, decoder, io, (file, alerts) => {
    for (const a of alerts) {
      const line: Record<string, unknown> = {...alertSummary(a), file};
      if (options.full) line.record = toJsonSafe(a.record);
      io.out(JSON.stringify(line));
    }
  });
  return failed ? 1 : 0;
}

export const registerDecodeCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  program
    .command('decode')
    .description(
      'decode alert packets (Avro container, Confluent wire, lite JSON) to JSON lines',
    )
    .argument('<path...>', 'alert files, or directories (searched recursively)')
    .option(
      '--schemas <dir|url>',
      'Confluent wire schemas: a directory like schemas/lsst/MAJOR/MINOR/*.avsc or a schema registry URL (default: env SCHEMA_SOURCE)',
    )
    .option('--full', 'add the whole decoded record to each line')
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], opts: DecodeOptions) => {
      io.setExitCode(await runDecode(paths, opts, io));
    });
};
