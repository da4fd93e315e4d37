/**
 * The dry run: each step printed as a POSIX shell command a user can copy and
 * paste. Quoting is only for display — the runner never uses a shell.
 * Captured values become shell variables (`PROJECT_NUMBER=$(gcloud ...)`) and
 * `${NAME}` placeholders are left for the shell to expand inside double
 * quotes.
 */

import {GcloudStep, HttpStep, PLACEHOLDER, Step} from './steps';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell, keeping `${NAME}` placeholders live. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  if (new RegExp(PLACEHOLDER.source).test(arg)) {
    let out = '';
    let last = 0;
    for (const m of arg.matchAll(new RegExp(PLACEHOLDER.source, 'g'))) {
      out += arg.slice(last, m.index).replace(/[\\"$`]/g, c => `\\${c}`);
      out += m[0];
      last = m.index + m[0].length;
    }
    out += arg.slice(last).replace(/[\\"$`]/g, c => `\\${c}`);
    return `"${out}"`;
  }
  return `'${arg.replace(/'/g, "'\\''")}'`;
}

function gcloudLine(step: GcloudStep): string {
  const cmd = ['gcloud', ...step.argv].map(shellQuote).join(' ');
  const tolerate = tolerance(step);
  const line = tolerate ? `${cmd} || true  # ${tolerate}` : cmd;
  if (step.capture) return `${step.capture}=$(${cmd})`;
  if (step.forEach) {
    return `for ITEM in $${step.forEach}; do ${cmd} || true; done`;
  }
  return line;
}

function tolerance(step: Step): string | undefined {
  if (step.ignoreAlreadyExists) return 'fine if it already exists';
  if (step.ignoreNotFound) return 'fine if it is already gone';
  return undefined;
}

function httpLine(step: HttpStep): string {
  const parts = [
    'curl',
    '-sS',
    '-X',
    step.method,
    '-H',
    '"Authorization: Bearer $(gcloud auth print-access-token)"',
    '-H',
    shellQuote(`x-goog-user-project: ${projectOf(step.url)}`),
  ];
  if (step.body !== undefined) {
    parts.push(
      '-H',
      shellQuote('Content-Type: application/json'),
      '--data-binary',
      shellQuote(JSON.stringify(step.body)),
    );
  }
  parts.push(shellQuote(step.url));
  const cmd = parts.join(' ');
  if (step.capture) {
    const field = step.captureField ?? 'name';
    return (
      `${step.capture}=$(${cmd} | python3 -c ` +
      `${shellQuote(`import json,sys; print(json.load(sys.stdin)["${field}"])`)})`
    );
  }
  return step.okStatuses
    ? `${cmd}  # HTTP ${step.okStatuses.join('/')} is fine`
    : cmd;
}

/** The project id in a Google API URL (`.../projects/ID/...`). */
export function projectOf(url: string): string {
  return /\/projects\/([^/?]+)/.exec(url)?.[1] ?? '';
}

/** One step as a shell command line. */
export function renderStep(step: Step): string {
  return step.kind === 'gcloud' ? gcloudLine(step) : httpLine(step);
}

/**
 * The whole plan as a shell script with a comment before each command;
 * `notes` (what the real run prints at the end) close it as comments.
 */
export function renderPlan(
  steps: Step[],
  title: string,
  notes: readonly string[] = [],
): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# ${title}`,
    '# Dry run: nothing was executed. Every command the plan would run, in order.',
    'set -euo pipefail',
  ];
  steps.forEach((s, i) => {
    lines.push(
      '',
      `# [${i + 1}/${steps.length}] ${s.description}`,
      renderStep(s),
    );
  });
  if (notes.length) lines.push('', ...notes.map(n => `# ${n}`));
  return lines.join('\n') + '\n';
}
