/**
 * bench:push's function processes: the ingest function (or the bare
 * pipeline) served on a port under the deployed instance's memory and Node
 * flags, optionally CPU-profiled; their log lines, their warm-up, and the
 * module load time of a fresh process.
 */

import {execFileSync} from 'node:child_process';
import {mkdirSync, readdirSync} from 'node:fs';
import * as path from 'node:path';

import {
  FunctionServer,
  startFunctionServer,
} from '../../src/local/function-server';
import {heapLimitMiBFor} from '../../src/local/memory-limit';
import {summarizeCpuProfile} from '../lib/cpu-profile';
import {postAll, pushEnvelope, round} from '../lib/push-tools';
import {
  EXTRA_NODE_OPTIONS,
  firestoreEmu,
  MEMORY_LIMIT_MIB,
  N,
  packets,
  PROF_DIR,
  project,
  ROOT,
  say,
  WARM_REQUESTS,
} from './setup';

let profileCount = 0;
/** The --cpu-prof directory of each function process, by pid. */
const profileDirs = new Map<number, string>();

/** Functions whose inclusive time the profile summary reports. */
const INCLUSIVE = [
  'jsonParser',
  'parsePushRequest',
  'processMessage',
  'tryDecodeSync',
  'decode',
  'toAlertDocument',
  'toFirestoreValue',
  'documentSize',
  'valueSize',
  'create',
  'commit',
  'validateUserInput',
  'serializer',
  'encodeFields',
  'log',
  'wrapHttpFunction',
  'ingest',
];

/** Another module and target than the ingest function (the floors of F). */
export interface FunctionEntry {
  source?: string;
  target?: string;
  env?: Record<string, string>;
}

export async function startFunction(
  label: string,
  onLog?: (e: Record<string, unknown>) => void,
  port?: number,
  memoryProbe = false,
  script?: string,
  entry: FunctionEntry = {},
): Promise<FunctionServer> {
  const env: Record<string, string> = {
    FIRESTORE_EMULATOR_HOST: firestoreEmu!.host,
    GOOGLE_CLOUD_PROJECT: project,
    ...entry.env,
  };
  const nodeOptions: string[] = EXTRA_NODE_OPTIONS
    ? EXTRA_NODE_OPTIONS.split(/\s+/)
    : [];
  if (memoryProbe) {
    nodeOptions.push(
      `--require=${path.join(__dirname, '..', 'lib', 'memory-probe.js')}`,
    );
  }
  let profileDir: string | undefined;
  if (PROF_DIR) {
    profileDir = path.join(PROF_DIR, `${++profileCount}-${label}`);
    mkdirSync(profileDir, {recursive: true});
    nodeOptions.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  if (nodeOptions.length) env.NODE_OPTIONS = nodeOptions.join(' ');
  const fn = await startFunctionServer({
    target: entry.target ?? 'ingest',
    source: entry.source,
    script,
    env,
    port,
    onLog,
    memoryLimitMiB: MEMORY_LIMIT_MIB || undefined,
    onOutput: line => {
      if (!/^(Serving function|Function:|Signature type|URL:)/.test(line))
        say(`[function ${label}] ${line}`);
    },
  });
  if (profileDir) profileDirs.set(fn.pid, profileDir);
  if (!memoryNoted) {
    memoryNoted = true;
    say(
      MEMORY_LIMIT_MIB
        ? `function processes run with NODE_OPTIONS="${EXTRA_NODE_OPTIONS}" under ${MEMORY_LIMIT_MIB} MiB (${fn.memoryLimit === 'cgroup' ? 'a memory cgroup, as a Cloud Run instance' : `no cgroup here: V8 heap flags as Node derives them from that limit (old space ${heapLimitMiBFor(MEMORY_LIMIT_MIB)} MiB)`})`
        : 'function processes run unconstrained (BENCH_MEMORY_LIMIT_MIB=0)',
    );
  }
  return fn;
}
let memoryNoted = false;

export async function stopFunction(fn: FunctionServer, label: string) {
  await fn.stop(10_000);
  const dir = profileDirs.get(fn.pid);
  if (!dir) return;
  for (const f of readdirSync(dir).filter(f => f.endsWith('.cpuprofile'))) {
    const s = summarizeCpuProfile(path.join(dir, f), 25, INCLUSIVE);
    say(
      `\nCPU profile of the function (${label}): ${s.totalMs} ms, idle ${s.idlePct}%`,
    );
    say(
      '  modules (self): ' +
        s.topModules.map(m => `${m.module} ${m.pct}%`).join(', '),
    );
    for (const fn of s.topFunctions)
      say(`  ${String(fn.pct).padStart(5)}%  ${fn.name}`);
    say(
      '  inclusive: ' + s.inclusive.map(i => `${i.name} ${i.pct}%`).join(', '),
    );
  }
}

/** Handled-message log lines of one subscription, with their arrival time. */
export function logCollector(subscription: string) {
  const handled: {at: number; latencyMs: number; outcome: string}[] = [];
  const outcomes: Record<string, number> = {};
  return {
    handled,
    outcomes,
    onLog: (e: Record<string, unknown>) => {
      if (e.subscription !== subscription) return;
      const outcome = String(e.outcome);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (['stored', 'duplicate', 'filtered', 'quarantined'].includes(outcome))
        handled.push({
          at: performance.now(),
          latencyMs: Number(e.latencyMs),
          outcome,
        });
    },
  };
}

/** WARM_REQUESTS pushes posted to a new function process at `concurrency`. */
export async function warmFunction(
  fn: FunctionServer,
  concurrency: number,
  subscription = 'bench-warm',
) {
  await postAll(
    `${fn.url}?subscription=${subscription}`,
    WARM_REQUESTS,
    i => pushEnvelope(packets[i % N], `w${i}`, subscription, project),
    concurrency,
  );
}

/** ms to require the functions framework and our entry module in a fresh Node. */
export function moduleLoadMs(): number {
  const script = `
    const t0 = performance.now();
    require(${JSON.stringify(require.resolve('@google-cloud/functions-framework', {paths: [ROOT]}))});
    require(${JSON.stringify(path.join(ROOT, 'build', 'src', 'functions', 'index.js'))});
    process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {PATH: process.env.PATH, HOME: process.env.HOME},
  });
  return round(Number(out), 1);
}
