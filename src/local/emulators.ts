/**
 * The real Google Pub/Sub and Firestore emulators, started and stopped for
 * tests, benchmarks and the local stack.
 *
 * `gcloud ... emulators ... start` is a wrapper: the emulator is a Java child
 * process that keeps the port after the wrapper dies. Each emulator therefore
 * runs in its own process group (`detached: true`) and is stopped by
 * signalling the whole group (SIGTERM, then SIGKILL after a grace period).
 * Emulators still running when this process exits (or gets SIGINT/SIGTERM)
 * are killed too. A missing gcloud, emulator component or Java is a
 * {@link PermanentError} with install instructions, never a silent skip.
 */

import {spawn} from 'node:child_process';
import {accessSync, constants, existsSync, realpathSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {delimiter, dirname, join} from 'node:path';

import {LOCAL_PROJECT} from '../defaults';
import {PermanentError, TransientError} from '../errors';
import {Logger} from '../log';
import {findFreePort, httpStatus, LOOPBACK} from './ports';
import {groupMembers, killGroup, signalGroup} from './process-group';

export type EmulatorKind = 'pubsub' | 'firestore';

export const INSTALL_COMMAND =
  'apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator ' +
  'google-cloud-cli-firestore-emulator openjdk-17-jre-headless';

export interface EmulatorOptions {
  /** Port on 127.0.0.1; default: a free port chosen by the OS. */
  port?: number;
  /** Project id for the clients (the emulators accept any). Default LOCAL_PROJECT (src/defaults.ts). */
  projectId?: string;
  /** How long to wait for the emulator to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping. Default 5 s. */
  stopGraceMs?: number;
  /**
   * Maximum Java heap (`-Xmx`), e.g. '1g'. The JVM default is a quarter of the
   * machine's memory per emulator; the default here is '2g'. null: JVM default.
   */
  javaHeap?: string | null;
  /** The gcloud executable. Default: `gcloud` on PATH. */
  gcloud?: string;
  log?: Logger;
}

export interface RunningEmulator {
  kind: EmulatorKind;
  /** '127.0.0.1:PORT' */
  host: string;
  port: number;
  /** Pid of the gcloud wrapper, which is also the process group id. */
  pid: number;
  projectId: string;
  /** FIRESTORE_EMULATOR_HOST, or PUBSUB_EMULATOR_HOST + PUBSUB_PROJECT_ID. */
  env: Record<string, string>;
  /** Milliseconds from spawn until the emulator answered HTTP. */
  startupMs: number;
  /** The emulator's recent output (stdout and stderr, last ~16 KB). */
  output(): string;
  /** Kills the process group; resolves once no process of it is left. Idempotent. */
  stop(): Promise<void>;
}

export interface RunningEmulators {
  pubsub?: RunningEmulator;
  firestore?: RunningEmulator;
  /** The merged `env` of the started emulators. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const DEFAULT_HEAP = '2g';
const OUTPUT_LIMIT = 16 * 1024;

/** Every emulator group this process started and has not stopped yet. */
const running = new Map<number, RunningEmulator>();

// ---------------------------------------------------------------------------
// prerequisites

function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return '';
}

function missing(what: string): PermanentError {
  return new PermanentError(
    'emulator-missing',
    `${what}. Install the Google Cloud CLI with its emulators and Java 17: ` +
      INSTALL_COMMAND,
    {install: INSTALL_COMMAND},
  );
}

/** Where each component lives under the SDK root (standard layouts). */
const COMPONENT_PATHS: Record<EmulatorKind, string> = {
  pubsub: 'platform/pubsub-emulator',
  firestore: 'platform/cloud-firestore-emulator',
};

/**
 * Checks that gcloud, Java and the emulator components are installed.
 * Returns the gcloud executable; throws `emulator-missing` otherwise.
 */
export function checkEmulatorPrerequisites(
  kinds: EmulatorKind[],
  gcloud?: string,
): string {
  const exe = gcloud ?? findOnPath('gcloud');
  if (!exe || !existsSync(exe)) {
    throw missing(`'${gcloud ?? 'gcloud'}' was not found`);
  }
  const javaHome = process.env.JAVA_HOME;
  const java =
    javaHome && existsSync(join(javaHome, 'bin', 'java'))
      ? join(javaHome, 'bin', 'java')
      : findOnPath('java');
  if (!java) throw missing("'java' was not found (the emulators need Java)");
  // gcloud lives at SDK_ROOT/bin/gcloud; components under SDK_ROOT/platform.
  let root: string;
  try {
    root = dirname(dirname(realpathSync(exe)));
  } catch {
    root = '';
  }
  if (root && existsSync(join(root, 'platform'))) {
    for (const kind of kinds) {
      if (!existsSync(join(root, COMPONENT_PATHS[kind]))) {
        throw missing(
          `the ${kind} emulator component is not installed in ${root}`,
        );
      }
    }
  }
  // Other layouts: a missing component makes gcloud exit at once, and the
  // start error then carries its output and the install command.
  return exe;
}

// ---------------------------------------------------------------------------
// exit handling

let exitHooksInstalled = false;

function killAllNow(signal: NodeJS.Signals): void {
  for (const pgid of running.keys()) signalGroup(pgid, signal);
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL leaves nothing to wait for.
  process.on('exit', () => killAllNow('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // If we are the only listener, keep the default behaviour (exit). A
      // process killed by a signal runs no 'exit' handlers, and a busy JVM
      // may take long over SIGTERM: kill the groups outright then.
      if (process.listenerCount(signal) === 1) {
        killAllNow('SIGKILL');
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      } else {
        killAllNow('SIGTERM');
      }
    };
    process.on(signal, onSignal);
  }
}

// ---------------------------------------------------------------------------
// start / stop

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function commandFor(
  kind: EmulatorKind,
  port: number,
  projectId: string,
  dataDir: string | undefined,
): string[] {
  const hostPort = `--host-port=${LOOPBACK}:${port}`;
  if (kind === 'pubsub') {
    return [
      'beta',
      'emulators',
      'pubsub',
      'start',
      hostPort,
      `--project=${projectId}`,
      `--data-dir=${dataDir}`,
      '--quiet',
    ];
  }
  return ['emulators', 'firestore', 'start', hostPort, '--quiet'];
}

function envFor(
  kind: EmulatorKind,
  host: string,
  projectId: string,
): Record<string, string> {
  return kind === 'pubsub'
    ? {PUBSUB_EMULATOR_HOST: host, PUBSUB_PROJECT_ID: projectId}
    : {FIRESTORE_EMULATOR_HOST: host};
}

class StartFailure extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

async function startOnce(
  kind: EmulatorKind,
  gcloud: string,
  port: number,
  opts: EmulatorOptions,
): Promise<RunningEmulator> {
  const projectId = opts.projectId ?? LOCAL_PROJECT;
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const heap = opts.javaHeap === undefined ? DEFAULT_HEAP : opts.javaHeap;
  // Pub/Sub writes an env.yaml into its data dir: one private dir per run so
  // that parallel emulators do not share it.
  const dataDir =
    kind === 'pubsub'
      ? await mkdtemp(join(tmpdir(), 'pittgoogle-pubsub-'))
      : undefined;
  const javaOpts = [process.env.JAVA_TOOL_OPTIONS, heap ? `-Xmx${heap}` : '']
    .filter(Boolean)
    .join(' ');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
  };
  if (javaOpts) env.JAVA_TOOL_OPTIONS = javaOpts;

  const started = Date.now();
  const child = spawn(gcloud, commandFor(kind, port, projectId, dataDir), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_LIMIT * 2) out = out.slice(-OUTPUT_LIMIT);
  };
  const output = () => out.slice(-OUTPUT_LIMIT);
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: string | undefined;
  let spawnError: Error | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  child.once('error', e => {
    spawnError = e;
    exited = `spawn error: ${e.message}`;
  });
  // Never let the emulator keep this process alive; the exit hook kills it.
  child.unref();
  (child.stdout as unknown as {unref?: () => void} | null)?.unref?.();
  (child.stderr as unknown as {unref?: () => void} | null)?.unref?.();

  const pid = child.pid;
  const host = `${LOOPBACK}:${port}`;
  const cleanupDir = async () => {
    if (dataDir) await rm(dataDir, {recursive: true, force: true});
  };

  if (pid === undefined) {
    await sleep(0);
    await cleanupDir();
    if ((spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw missing(`'${gcloud}' could not be executed`);
    }
    throw new StartFailure(
      `could not start gcloud: ${spawnError?.message ?? 'no pid'}`,
      output(),
      false,
    );
  }

  let stopping: Promise<void> | undefined;
  const emulator: RunningEmulator = {
    kind,
    host,
    port,
    pid,
    projectId,
    env: envFor(kind, host, projectId),
    startupMs: 0,
    output,
    stop: () => {
      stopping ??= (async () => {
        const gone = await killGroup(pid, opts.stopGraceMs ?? 5000);
        running.delete(pid);
        await cleanupDir();
        if (!gone) {
          throw new TransientError(
            'emulator-failed',
            `${kind} emulator (process group ${pid}) survived SIGKILL: ` +
              groupMembers(pid).join(', '),
          );
        }
        opts.log?.debug('emulator stopped', {kind, host, pid});
      })();
      return stopping;
    },
  };
  running.set(pid, emulator);
  installExitHooks();

  const deadline = started + timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      await emulator.stop().catch(() => undefined);
      const text = output();
      throw new StartFailure(
        `${kind} emulator exited during start-up (${exited})`,
        text,
        /address already in use|BindException|failed to bind/i.test(text),
      );
    }
    const status = await httpStatus(port, LOOPBACK, 1000);
    if (status === 200 && exited === undefined) break;
    if (Date.now() >= deadline) {
      await emulator.stop().catch(() => undefined);
      throw new StartFailure(
        `${kind} emulator did not answer on ${host} within ${timeoutMs} ms`,
        output(),
        false,
      );
    }
    await sleep(100);
  }
  emulator.startupMs = Date.now() - started;
  opts.log?.info('emulator started', {
    kind,
    host,
    pid,
    startupMs: emulator.startupMs,
  });
  return emulator;
}

async function startEmulator(
  kind: EmulatorKind,
  opts: EmulatorOptions = {},
): Promise<RunningEmulator> {
  const gcloud = checkEmulatorPrerequisites([kind], opts.gcloud);
  // A port found free may be taken before the emulator binds it: try again
  // on another one (only when the caller did not ask for a port).
  const attempts = opts.port ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await findFreePort());
    try {
      return await startOnce(kind, gcloud, port, opts);
    } catch (e) {
      if (!(e instanceof StartFailure)) throw e;
      if (e.portTaken && attempt < attempts) continue;
      const tail = e.output.trim().split('\n').slice(-40).join('\n');
      throw new TransientError(
        'emulator-failed',
        `${e.message}. If a component is missing, install: ${INSTALL_COMMAND}.` +
          `\nRecent output:\n${tail || '(none)'}`,
        {kind, port, output: tail},
      );
    }
  }
}

/** Starts the Pub/Sub emulator; resolves once it answers. */
export function startPubSubEmulator(
  opts?: EmulatorOptions,
): Promise<RunningEmulator> {
  return startEmulator('pubsub', opts);
}

/** Starts the Firestore emulator; resolves once it answers. */
export function startFirestoreEmulator(
  opts?: EmulatorOptions,
): Promise<RunningEmulator> {
  return startEmulator('firestore', opts);
}

/**
 * Starts the requested emulators in parallel (default: both). If one fails,
 * the others are stopped before the error is thrown.
 */
export async function startEmulators(
  which: {pubsub?: boolean; firestore?: boolean} = {
    pubsub: true,
    firestore: true,
  },
  opts: Omit<EmulatorOptions, 'port'> = {},
): Promise<RunningEmulators> {
  const kinds: EmulatorKind[] = [];
  if (which.pubsub) kinds.push('pubsub');
  if (which.firestore) kinds.push('firestore');
  // Fail fast, before anything is started, when something is not installed.
  checkEmulatorPrerequisites(kinds, opts.gcloud);
  const results = await Promise.allSettled(
    kinds.map(kind => startEmulator(kind, opts)),
  );
  const ok = results.flatMap(r => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find(r => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(ok.map(e => e.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const result: RunningEmulators = {
    env: Object.assign({}, ...ok.map(e => e.env)),
    stop: async () => {
      const stops = await Promise.allSettled(ok.map(e => e.stop()));
      const bad = stops.find(s => s.status === 'rejected');
      if (bad) throw (bad as PromiseRejectedResult).reason;
    },
  };
  for (const e of ok) result[e.kind] = e;
  return result;
}

/** The emulators this process started and has not stopped. */
export function runningEmulators(): RunningEmulator[] {
  return [...running.values()];
}
