/**
 * `pittgoogle filter test FILTER.json PATH...`: decodes alert packets (files,
 * or directories searched recursively), applies a stored filter to each alert
 * and prints PASS / FAIL per alert, then the selectivity. The filter file is
 * validated exactly as the HTTP function and the API validate it.
 */

import {readFile} from 'node:fs/promises';

import {Command} from 'commander';

import {createDecoder} from '../alert';
import {loadConfig} from '../config';
import {PermanentError} from '../errors';
import {
  compileFilter,
  explain,
  MaybeFilter,
  parseFilter,
  toSubscriptionFilter,
} from '../filter';
import {CliIo, RegisterCommand} from './command';
import {decodeFiles, describeError} from './decode-files';

export interface FilterTestOptions {
  /** Schema source (directory or registry URL) for Confluent wire packets. */
  schemas?: string;
  /** Message attributes given to every alert, as KEY=VALUE. */
  attr?: string[];
  /** Print the leaves that decided, for every alert. */
  explain?: boolean;
  /** The subscription's topic is a Pitt-Google ZTF stream (objectId / candid attributes). */
  ztfAttributes?: boolean;
}

const HELP_AFTER = `
Output (stdout): one line per alert, "PASS" or "FAIL", then objectId, sourceId
and the file; with --explain, the leaves of the filter that held (+) and did
not (-) with the value read. The last line is the selectivity:
"selectivity: P/N passed (X%)".

stderr: which part of the filter would run server-side as a Pub/Sub
subscription filter, and files that could not be decoded (exit code 1).

Alert files carry no Pub/Sub message attributes: a filter that reads
attributes.* sees them as missing unless given with --attr KEY=VALUE.

Examples:
  $ pittgoogle filter test my-filter.json ../shared/samples/ztf
  $ pittgoogle filter test --explain --attr fid=1 f.json alert.avro`;

function parseAttributes(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) {
      throw new PermanentError(
        'bad-request',
        `--attr needs KEY=VALUE, got "${p}"`,
      );
    }
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** Runs the command; returns the exit code. */
export async function runFilterTest(
  filterFile: string,
  paths: string[],
  options: FilterTestOptions,
  io: CliIo,
): Promise<number> {
  let filter: MaybeFilter;
  let attributes: Record<string, string> | undefined;
  let schemaSource = options.schemas;
  try {
    filter = parseFilter(await readFile(filterFile, 'utf8'));
    attributes = options.attr?.length
      ? parseAttributes(options.attr)
      : undefined;
    schemaSource ??= loadConfig(io.env).schemaSource;
  } catch (e) {
    io.err(`pittgoogle filter test: ${filterFile}: ${describeError(e)}`);
    return 1;
  }
  const compiled = compileFilter(filter);
  const plan = toSubscriptionFilter(filter, {
    idAttributes: options.ztfAttributes,
  });
  io.err(
    plan.expression === null
      ? 'server-side: nothing (the whole filter runs in-process)'
      : `server-side: ${plan.expression}\nin-process: ${plan.inProcess === null ? 'nothing else' : JSON.stringify(plan.inProcess)}`,
  );
  if (compiled.readsAttributes && !attributes) {
    io.err(
      'note: the filter reads message attributes; files have none (use --attr KEY=VALUE)',
    );
  }
  const decoder = createDecoder({schemaSource});
  let total = 0;
  let passed = 0;
  const failed = await decodeFiles(paths, decoder, io, (file, alerts) => {
    for (const a of alerts) {
      const ok = compiled.matches(a, attributes);
      total++;
      if (ok) passed++;
      io.out(`${ok ? 'PASS' : 'FAIL'} ${a.objectId} ${a.sourceId} ${file}`);
      if (options.explain) {
        for (const n of explain(filter, a, attributes).nodes) {
          if (n.kind !== 'leaf' && n.kind !== 'cone') continue;
          const what =
            n.kind === 'cone'
              ? `cone distance=${n.distanceArcsec === null ? 'null' : `${n.distanceArcsec?.toFixed(3)}"`}`
              : `${n.field} ${n.op}${n.value === undefined ? '' : ` ${JSON.stringify(n.value)}`} (value: ${JSON.stringify(n.actual)})`;
          io.out(`  ${n.held ? '+' : '-'} ${n.path} ${what}`);
        }
      }
    }
  });
  const pct = total ? ((100 * passed) / total).toFixed(1) : '0.0';
  io.out(`selectivity: ${passed}/${total} passed (${pct}%)`);
  return failed ? 1 : 0;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export const registerFilterCommand: RegisterCommand = (
  program: Command,
  io: CliIo,
) => {
  const filter = program
    .command('filter')
    .description('stored user filters: try them on alert packets');
  filter
    .command('test')
    .description(
      'apply a filter (JSON file) to alert packets: PASS/FAIL per alert and the selectivity',
    )
    .argument('<filter.json>', 'the filter, as stored (JSON)')
    .argument('<path...>', 'alert files, or directories (searched recursively)')
    .option(
      '--schemas <dir|url>',
      'Confluent wire schemas: a directory or a schema registry URL (default: env SCHEMA_SOURCE)',
    )
    .option(
      '--attr <key=value>',
      'a message attribute for every alert (repeatable)',
      collect,
      [],
    )
    .option('--explain', 'print which leaves held for every alert')
    .option(
      '--ztf-attributes',
      'plan the server-side part for a ZTF stream (objectId / candid attributes)',
    )
    .addHelpText('after', HELP_AFTER)
    .action(
      async (filterFile: string, paths: string[], opts: FilterTestOptions) => {
        io.setExitCode(await runFilterTest(filterFile, paths, opts, io));
      },
    );
};
