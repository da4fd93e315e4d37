/**
 * Executes a plan. gcloud runs through `child_process.spawn('gcloud', argv)`
 * with no shell, so no value is ever parsed by a shell; REST steps use fetch
 * with a token from `gcloud auth print-access-token`. Both are injected, so
 * tests run the runner against fakes.
 */

import {spawn} from 'node:child_process';

import {PermanentError, TransientError} from '../errors';
import {Capture, HttpStep, PLACEHOLDER, Step} from './steps';
import {projectOf, renderStep} from './render';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type GcloudFn = (argv: string[]) => Promise<CommandResult>;

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export type HttpFn = (
  req: HttpRequest,
) => Promise<{status: number; text: string}>;

export interface RunnerDeps {
  gcloud: GcloudFn;
  http: HttpFn;
  sleep: (ms: number) => Promise<void>;
  /** Progress lines for the user. */
  out: (line: string) => void;
}

const ALREADY_EXISTS = /already exists|ALREADY_EXISTS/i;
const NOT_FOUND = /not found|NOT_FOUND|does not exist/i;

/** What a captured value must look like before it reaches another command. */
const CAPTURED: Record<Capture, RegExp> = {
  PROJECT_NUMBER: /^[1-9][0-9]{5,19}$/,
  INGEST_URL: /^https:\/\/[a-z0-9.-]+(\/[A-Za-z0-9._~/-]*)?$/,
  RULESET_NAME:
    /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/rulesets\/[A-Za-z0-9-]{1,100}$/,
  PUSH_SUBSCRIPTIONS:
    /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}\n?)*$/,
};

/** The real gcloud: spawned without a shell; its stderr is shown live. */
export function spawnGcloud(
  cwd: string,
  options: {showStderr?: boolean; command?: string} = {},
): GcloudFn {
  const showStderr = options.showStderr ?? true;
  const command = options.command ?? 'gcloud';
  return argv =>
    new Promise((resolve, reject) => {
      const child = spawn(command, argv, {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (showStderr) process.stderr.write(d);
      });
      child.on('error', e =>
        reject(
          new PermanentError(
            'bad-config',
            (e as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'gcloud is not installed or not on the PATH (install the Google Cloud CLI)'
              : `could not start gcloud: ${e.message}`,
          ),
        ),
      );
      child.on('close', code => resolve({code: code ?? 1, stdout, stderr}));
    });
}

export const fetchHttp: HttpFn = async req => {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
  });
  return {status: res.status, text: await res.text()};
};

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    new RegExp(PLACEHOLDER.source, 'g'),
    (_m, name: string) => {
      const v = vars[name];
      if (v === undefined) {
        throw new PermanentError(
          'internal',
          `plan bug: \${${name}} used before it was captured`,
        );
      }
      return v;
    },
  );
}

function checkCapture(name: Capture, value: string): string {
  if (!CAPTURED[name].test(value)) {
    throw new PermanentError(
      'internal',
      `unexpected ${name} from the command: ${JSON.stringify(value.slice(0, 200))}`,
    );
  }
  return value;
}

function failure(step: Step, n: number, detail: string): TransientError {
  return new TransientError(
    'internal',
    `step ${n} failed (${step.description}): ${detail}`,
    {
      step: n,
    },
  );
}

/** Runs the steps in order; stops at the first failure it may not ignore. */
export async function runPlan(
  steps: Step[],
  deps: RunnerDeps,
): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  let token: string | undefined;
  const accessToken = async () => {
    if (token === undefined) {
      const r = await deps.gcloud(['auth', 'print-access-token']);
      if (r.code !== 0 || !/^[A-Za-z0-9._~+/=-]+$/.test(r.stdout.trim())) {
        throw new PermanentError(
          'bad-config',
          `could not get an access token (run "gcloud auth login"): ${r.stderr.trim()}`,
        );
      }
      token = r.stdout.trim();
    }
    return token;
  };

  for (const [i, step] of steps.entries()) {
    const n = i + 1;
    deps.out(`[${n}/${steps.length}] ${step.description}`);
    deps.out(`  $ ${renderStep(step)}`);
    if (step.kind === 'http') {
      await runHttp(step, n, vars, deps, accessToken);
      continue;
    }
    const items = step.forEach
      ? (vars[step.forEach] ?? '').split('\n').filter(s => s !== '')
      : [undefined];
    for (const item of items) {
      const argv = step.argv.map(a =>
        substitute(a, item === undefined ? vars : {...vars, ITEM: item}),
      );
      let r = await deps.gcloud(argv);
      for (
        let attempt = 1;
        r.code !== 0 && step.retryNotFound && attempt <= 4;
        attempt++
      ) {
        if (!NOT_FOUND.test(r.stderr)) break;
        deps.out(
          `  (not visible yet: IAM changes take a moment; retry ${attempt}/4)`,
        );
        await deps.sleep(10_000 * attempt);
        r = await deps.gcloud(argv);
      }
      if (r.code !== 0) {
        if (step.ignoreAlreadyExists && ALREADY_EXISTS.test(r.stderr)) {
          deps.out('  (already exists: kept as it is)');
        } else if (step.ignoreNotFound && NOT_FOUND.test(r.stderr)) {
          deps.out('  (not found: nothing to delete)');
        } else {
          throw failure(
            step,
            n,
            lastLine(r.stderr) || `gcloud exited with ${r.code}`,
          );
        }
      } else if (step.capture) {
        vars[step.capture] = checkCapture(step.capture, r.stdout.trim());
        deps.out(`  ${step.capture}=${vars[step.capture].replace(/\n/g, ' ')}`);
      }
    }
  }
  return vars;
}

async function runHttp(
  step: HttpStep,
  n: number,
  vars: Record<string, string>,
  deps: RunnerDeps,
  accessToken: () => Promise<string>,
): Promise<void> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${await accessToken()}`,
    'x-goog-user-project': projectOf(step.url),
  };
  let body: string | undefined;
  if (step.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = substitute(JSON.stringify(step.body), vars);
  }
  const res = await deps.http({
    method: step.method,
    url: substitute(step.url, vars),
    headers,
    body,
  });
  const ok =
    (res.status >= 200 && res.status < 300) ||
    (step.okStatuses ?? []).includes(res.status);
  if (!ok)
    throw failure(step, n, `HTTP ${res.status}: ${res.text.slice(0, 500)}`);
  if (step.capture && res.status >= 200 && res.status < 300) {
    let value: unknown;
    try {
      value = (JSON.parse(res.text) as Record<string, unknown>)[
        step.captureField ?? 'name'
      ];
    } catch {
      value = undefined;
    }
    vars[step.capture] = checkCapture(
      step.capture,
      typeof value === 'string' ? value : '',
    );
    deps.out(`  ${step.capture}=${vars[step.capture]}`);
  }
}

/** gcloud's own error line if there is one, else the last line of stderr. */
function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines.filter(l => l.startsWith('ERROR')).pop() ?? lines.pop() ?? '';
}
