#!/usr/bin/env node
/**
 * `node build/src/deploy/main.js deploy|teardown [--flags] [--dry-run]`:
 * the program behind deploy/deploy.sh and deploy/teardown.sh. It validates
 * every input, builds the plan, then prints it (`--dry-run`) or runs it.
 */

import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {parseArgs} from 'node:util';

import {AlertError, errorMessage, PermanentError} from '../errors';
import {createLogger, Logger} from '../log';
import {DEPLOY_OPTIONS, parseDeployConfig, RawDeployOptions} from './config';
import {exploreOpenHint} from './explore';
import {parseIndexFile} from './indexes';
import {buildDeployPlan} from './plan';
import type {Step} from './steps';
import {buildTeardownPlan} from './teardown';
import {renderPlan} from './render';
import {fetchHttp, runPlan, RunnerDeps, spawnGcloud} from './runner';

/** Repository root: build/src/deploy/main.js → ../../.. */
export const ROOT = resolve(__dirname, '..', '..', '..');

const USAGE = `usage:
  deploy/deploy.sh   --project=ID [options] [--dry-run]
  deploy/teardown.sh --project=ID --confirm-project=ID [--delete-firestore] [options] [--dry-run]

options (all optional except --project):
${Object.entries(DEPLOY_OPTIONS)
  .map(([k, v]) => `  --${k.padEnd(26)} ${v}`)
  .join('\n')}
  --dry-run                    print every command without running any
  --confirm-project            teardown only: must repeat --project
  --delete-firestore           teardown only: also delete the Firestore database
`;

export interface MainDeps {
  runner: RunnerDeps;
  stdout: (text: string) => void;
  log: Logger;
  root: string;
}

function parse(argv: string[]) {
  const options: Record<string, {type: 'string' | 'boolean'}> = {};
  for (const k of Object.keys(DEPLOY_OPTIONS)) options[k] = {type: 'string'};
  options['dry-run'] = {type: 'boolean'};
  options['confirm-project'] = {type: 'string'};
  options['delete-firestore'] = {type: 'boolean'};
  options['help'] = {type: 'boolean'};
  try {
    return parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new PermanentError('bad-config', `${errorMessage(e)}\n${USAGE}`);
  }
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: string[], deps: MainDeps): Promise<number> {
  try {
    const {values, positionals} = parse(argv);
    if (values.help) {
      deps.stdout(USAGE);
      return 0;
    }
    const [command, ...rest] = positionals;
    if ((command !== 'deploy' && command !== 'teardown') || rest.length > 0) {
      throw new PermanentError(
        'bad-config',
        `expected "deploy" or "teardown"\n${USAGE}`,
      );
    }
    const raw: RawDeployOptions = {};
    for (const k of Object.keys(DEPLOY_OPTIONS) as Array<
      keyof RawDeployOptions
    >) {
      const v = values[k];
      if (typeof v === 'string') raw[k] = v;
    }
    const cfg = parseDeployConfig(raw);
    const dryRun = values['dry-run'] === true;
    let steps: Step[];
    if (command === 'deploy') {
      if (
        values['confirm-project'] !== undefined ||
        values['delete-firestore']
      ) {
        throw new PermanentError(
          'bad-config',
          '--confirm-project and --delete-firestore belong to teardown',
        );
      }
      steps = buildDeployPlan(cfg, {
        indexes: parseIndexFile(
          readFileSync(
            resolve(deps.root, 'deploy/firestore.indexes.json'),
            'utf8',
          ),
        ),
        rules: readFileSync(
          resolve(deps.root, 'deploy/firestore.rules'),
          'utf8',
        ),
      });
    } else {
      const confirm = values['confirm-project'];
      if (!dryRun && confirm !== cfg.projectId) {
        throw new PermanentError(
          'bad-request',
          'teardown deletes the functions, push subscriptions, dead-letter topic and ' +
            `service accounts of project "${cfg.projectId}"` +
            (values['delete-firestore'] ? ' and its Firestore database' : '') +
            `; confirm by repeating the project id: --confirm-project=${cfg.projectId}` +
            (confirm === undefined ? '' : ` (got "${confirm}")`),
        );
      }
      steps = buildTeardownPlan(cfg, {
        deleteFirestore: values['delete-firestore'] === true,
      });
    }
    const title = `${command} of pittgoogle-functions ${command === 'deploy' ? 'into' : 'from'} project ${cfg.projectId}`;
    const notes = command === 'deploy' ? exploreOpenHint(cfg) : [];
    if (dryRun) {
      deps.stdout(renderPlan(steps, title, notes));
      return 0;
    }
    deps.runner.out(`${title}: ${steps.length} steps`);
    await runPlan(steps, deps.runner);
    deps.runner.out(`${command} finished`);
    for (const n of notes) deps.runner.out(n);
    return 0;
  } catch (e) {
    const err =
      e instanceof AlertError
        ? e
        : new PermanentError('internal', errorMessage(e));
    deps.log.error(err.message, {code: err.code, kind: err.kind});
    return err.code === 'bad-config' || err.code === 'bad-request' ? 2 : 1;
  }
}

if (require.main === module) {
  const log = createLogger({sink: line => process.stderr.write(line + '\n')});
  const deps: MainDeps = {
    root: ROOT,
    log,
    stdout: text => process.stdout.write(text),
    runner: {
      gcloud: spawnGcloud(ROOT),
      http: fetchHttp,
      sleep: ms => new Promise(r => setTimeout(r, ms)),
      out: line => process.stdout.write(line + '\n'),
    },
  };
  void main(process.argv.slice(2), deps).then(code => {
    process.exitCode = code;
  });
}
